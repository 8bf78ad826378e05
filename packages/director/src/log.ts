// Logging: pino JSON lines by default (one object per event, fields for machines), or
// keepalived's console style with `--log-format text`:
//   Mon Nov 24 10:00:00 2025: lvs-director[1234]: Removing service [10.0.0.2]:tcp:80 from VS [10.0.0.1]:tcp:80
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type LogFormat = "json" | "text";
export type { Logger };

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "",
  40: "WARNING",
  50: "ERROR",
  60: "FATAL",
};

/** ctime(3) without the newline: `Mon Nov 24 10:00:00 2025`. */
export function ctime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

/** One pino JSON line → keepalived-style text. */
export function textLine(json: string, name = "lvs-director"): string {
  let o: { time?: number; level?: number; msg?: string; pid?: number; err?: { message?: string } };
  try {
    o = JSON.parse(json);
  } catch {
    return json.endsWith("\n") ? json : `${json}\n`;
  }
  const level = LEVELS[o.level ?? 30] ?? "";
  const err = o.err?.message ? ` (${o.err.message})` : "";
  return `${ctime(new Date(o.time ?? Date.now()))}: ${name}[${o.pid ?? process.pid}]: ${level ? `${level}: ` : ""}${o.msg ?? ""}${err}\n`;
}

export interface LogOptions {
  format?: LogFormat;
  level?: string;
  /** Where lines go (default stdout). */
  destination?: { write(s: string): unknown };
}

export function createLogger(opts: LogOptions = {}): Logger {
  const out = opts.destination ?? process.stdout;
  const options: LoggerOptions = { level: opts.level ?? "info", base: { pid: process.pid } };
  if (opts.format === "text") {
    const dest: DestinationStream = { write: (s: string) => void out.write(textLine(s)) };
    return pino(options, dest);
  }
  return pino(options, { write: (s: string) => void out.write(s) });
}

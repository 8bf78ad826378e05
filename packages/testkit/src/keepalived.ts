// keepalived 2.2.7 as a test peer: the command line that runs one of its halves in the foreground,
// logging to the console, with its pid files in a directory of the test's own (so two keepalived
// processes in two namespaces never share /run/keepalived.pid).
import { join } from "node:path";

export interface KeepalivedRun {
  /** `check`: the LVS side only (`--check`); `vrrp`: VRRP only (`--vrrp`). */
  half: "check" | "vrrp";
  /** The keepalived.conf to read. */
  config: string;
  /** Where its pid files go. */
  dir: string;
  /** Extra arguments (`-i ID`, …). */
  extra?: string[];
}

/** argv for Netns.spawn: keepalived in the foreground (-n), to the console (-l -D). */
export function keepalivedArgv(run: KeepalivedRun): string[] {
  const child =
    run.half === "check" ? ["-c", join(run.dir, "ka-check.pid")] : ["-r", join(run.dir, "ka-vrrp.pid")];
  return [
    "keepalived",
    `--${run.half}`,
    "-D",
    "-l",
    "-n",
    "-f",
    run.config,
    "-p",
    join(run.dir, "ka.pid"),
    ...child,
    ...(run.extra ?? []),
  ];
}

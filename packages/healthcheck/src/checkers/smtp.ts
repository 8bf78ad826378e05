import { SMTP_OK, SMTP_READY } from "../constants.js";
import type { ProbeOptions, ProbeResult, SmtpCheck } from "../types.js";
import { connectTcp } from "./sockets.js";
import { Attempt, errorReason } from "./util.js";

/** SMTP_CHECK: expect the 220 banner, send HELO, expect 250, then QUIT (RFC 5321 §4.1.1). */
export function checkSmtp(def: SmtpCheck, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const attempt = new Attempt(def.connectTimeout, opts);
  const sock = connectTcp(def, def.connectPort ?? 25, attempt);
  if (!sock) return attempt.promise;
  attempt.onCleanup(() => sock.destroy());
  let buf = "";
  let stage: "banner" | "helo" = "banner";
  sock.setEncoding("latin1");
  sock.on("data", (d: string) => {
    buf += d;
    // A reply is complete at a line "NNN text" (no dash; RFC 5321 §4.2.1 multiline uses "NNN-").
    for (;;) {
      const eol = buf.indexOf("\r\n");
      if (eol < 0) {
        if (buf.length > 4096) attempt.down("SMTP reply line too long");
        return;
      }
      const line = buf.slice(0, eol);
      buf = buf.slice(eol + 2);
      if (/^\d{3}-/.test(line)) continue;
      const code = Number(line.slice(0, 3));
      if (stage === "banner") {
        if (code !== SMTP_READY) return attempt.down(`banner "${line.slice(0, 60)}"`);
        stage = "helo";
        sock.write(`HELO ${def.heloName ?? "localhost"}\r\n`);
      } else {
        if (code !== SMTP_OK) return attempt.down(`HELO reply "${line.slice(0, 60)}"`);
        sock.write("QUIT\r\n");
        return attempt.up("HELO accepted");
      }
    }
  });
  sock.once("end", () => attempt.down(`connection closed during ${stage}`));
  sock.once("error", (err) => attempt.down(errorReason(err)));
  return attempt.promise;
}

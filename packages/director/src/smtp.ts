// A minimal SMTP client (RFC 5321) for keepalived's alert mails: one connection per mail, HELO,
// MAIL FROM, RCPT TO each recipient, DATA, QUIT; no TLS, no AUTH (keepalived sends the same way,
// to a relay it trusts). Written here rather than taken from npm: the alert path needs a dozen
// lines of protocol, and a mail library would bring MIME, pooling and TLS we don't use.
import { Socket } from "node:net";
import { DirectorError } from "./errors.js";

export interface Mail {
  from: string;
  to: string[];
  subject: string;
  body: string;
  /** `Date:` header value (default: now, RFC 5322 format). */
  date?: string;
}

export interface SmtpServer {
  host: string;
  port: number;
  /** HELO name (keepalived: smtp_helo_name, default the host name). */
  helo: string;
  /** Connect + whole-conversation timeout in ms (keepalived: smtp_connect_timeout, 30 s). */
  timeoutMs: number;
}

/** Reply lines "250-…" end at "250 …" (RFC 5321 §4.2.1). */
const FINAL_LINE = /^(\d{3})(?: .*)?$/;

/** Lines of the body with a leading "." doubled (RFC 5321 §4.5.2) and CRLF line ends. */
export function dotStuff(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => (l.startsWith(".") ? `.${l}` : l))
    .join("\r\n");
}

/** The message as sent after DATA (headers, blank line, body, terminating "."). */
export function formatMessage(m: Mail): string {
  const clean = (s: string) => s.replace(/[\r\n]+/g, " ");
  const headers = [
    `From: ${clean(m.from)}`,
    `Subject: ${clean(m.subject)}`,
    `X-Mailer: lvs`,
    `To: ${m.to.map(clean).join(", ")}`,
    `Date: ${m.date ?? new Date().toUTCString().replace(/GMT$/, "+0000")}`,
  ];
  return `${headers.join("\r\n")}\r\n\r\n${dotStuff(m.body)}\r\n.\r\n`;
}

/** Send one mail; resolves when the server accepted it (250 after DATA), rejects with a DirectorError. */
export function sendMail(server: SmtpServer, mail: Mail): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    let buf = "";
    let done = false;
    const steps: Array<{ send?: string; expect: number }> = [
      { expect: 220 },
      { send: `HELO ${server.helo}`, expect: 250 },
      { send: `MAIL FROM:<${mail.from}>`, expect: 250 },
      ...mail.to.map((r) => ({ send: `RCPT TO:<${r}>`, expect: 250 })),
      { send: "DATA", expect: 354 },
      { send: formatMessage(mail).slice(0, -2), expect: 250 },
      { send: "QUIT", expect: 221 },
    ];
    let step = 0;
    let errnoName: string | undefined;
    const fail = (why: string) => {
      if (done) return;
      done = true;
      sock.destroy();
      reject(
        new DirectorError("DIRECTOR_SMTP", `SMTP ${server.host}:${server.port}: ${why}`, {
          object: `${server.host}:${server.port}`,
          ...(errnoName ? { errnoName } : {}),
        }),
      );
    };
    const timer = setTimeout(() => fail(`no answer within ${server.timeoutMs} ms`), server.timeoutMs);
    sock.setEncoding("utf8");
    sock.on("error", (e: NodeJS.ErrnoException) => {
      errnoName = e.code;
      fail(e.code ?? e.message);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      if (!done) fail("connection closed early");
    });
    sock.on("data", (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        const m = FINAL_LINE.exec(line);
        if (!m) continue; // a "250-…" continuation line
        const want = steps[step]!.expect;
        if (Number(m[1]) !== want) return fail(`expected ${want}, got "${line.slice(0, 200)}"`);
        step++;
        if (step === steps.length) {
          done = true;
          clearTimeout(timer);
          sock.end();
          resolve();
          return;
        }
        sock.write(`${steps[step]!.send}\r\n`);
      }
    });
    sock.connect(server.port, server.host);
  });
}

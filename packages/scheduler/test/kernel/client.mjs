// Kernel-tier helper, run inside the client namespace: opens TCP connections one after another
// (each completes its handshake before the next starts) and holds them open.
// stdin: JSON lines {"id":N,"conns":[{"src","sport","dst","dport"}]}, {"id":N,"close":[{"src","sport"}]}
// or {"id":N,"reset":true}
// stdout: {"id":N,"results":[{"ok":true}|{"ok":false,"code":"ECONNREFUSED"}]}
import net from "node:net";
import { createInterface } from "node:readline";

const open = new Map(); // "src|sport" → socket
const connectOne = (c) =>
  new Promise((resolve) => {
    // allowHalfOpen: when the real server closes, the client keeps its half (the entry stays FIN_WAIT).
    const s = net.connect({
      host: c.dst,
      port: c.dport,
      localAddress: c.src,
      localPort: c.sport,
      allowHalfOpen: true,
    });
    const done = (r) => {
      s.setTimeout(0);
      resolve(r);
    };
    s.setTimeout(10_000, () => {
      s.destroy();
      done({ ok: false, code: "TIMEOUT" });
    });
    s.once("connect", () => {
      open.set(`${c.src}|${c.sport}`, s);
      done({ ok: true });
    });
    s.once("error", (e) => done({ ok: false, code: e.code ?? String(e) }));
  });

let chain = Promise.resolve();
createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line);
  chain = chain.then(async () => {
    if (cmd.reset) {
      for (const s of open.values()) s.destroy();
      open.clear();
      process.stdout.write(`${JSON.stringify({ id: cmd.id, results: [] })}\n`);
      return;
    }
    if (cmd.close) {
      // An orderly close (FIN); the server closes its side when it sees the end.
      for (const c of cmd.close) {
        open.get(`${c.src}|${c.sport}`)?.end();
        open.delete(`${c.src}|${c.sport}`);
      }
      process.stdout.write(`${JSON.stringify({ id: cmd.id, results: [] })}\n`);
      return;
    }
    const results = [];
    for (const c of cmd.conns) results.push(await connectOne(c));
    process.stdout.write(`${JSON.stringify({ id: cmd.id, results })}\n`);
  });
});
process.stdout.write('{"ready":true}\n');

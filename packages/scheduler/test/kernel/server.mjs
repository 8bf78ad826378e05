// Kernel-tier helper, run inside the real servers' namespace: accepts on every given port (IPv4
// and IPv6) and keeps each connection open until the client closes it. stdin: JSON lines
// {"close":[{"src","sport"}]} end those connections from the server's side (FIN); prints
// "closed missing=N" (N: connections named that were never accepted here).
import net from "node:net";
import { createInterface } from "node:readline";

const byClient = new Map(); // "client address|port" (NAT keeps them) → socket
const norm = (a) => (a?.startsWith("::ffff:") ? a.slice(7) : a);

// A connection the client saw complete may still wait in this process's accept queue when the
// close command arrives (a loaded VM): wait for it rather than silently closing fewer.
const ACCEPT_WAIT_MS = 10_000;
async function closeAll(list) {
  let missing = 0;
  for (const c of list) {
    const key = `${c.src}|${c.sport}`;
    const deadline = Date.now() + ACCEPT_WAIT_MS;
    while (!byClient.has(key) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const s = byClient.get(key);
    if (s) s.end();
    else missing++;
    byClient.delete(key);
  }
  return missing;
}

let queue = Promise.resolve();
createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line);
  queue = queue.then(async () => {
    const missing = await closeAll(cmd.close ?? []);
    process.stdout.write(`closed missing=${missing}\n`);
  });
});

const ports = process.argv.slice(2).map(Number);
let up = 0;
for (const port of ports) {
  const srv = net.createServer((s) => {
    const key = `${norm(s.remoteAddress)}|${s.remotePort}`;
    byClient.set(key, s);
    s.on("close", () => {
      if (byClient.get(key) === s) byClient.delete(key);
    });
    s.on("error", () => {});
    s.on("end", () => s.destroy());
  });
  srv.listen({ port, host: "::", backlog: 1024 }, () => {
    if (++up === ports.length) process.stdout.write("up\n");
  });
}

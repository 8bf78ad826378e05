// Kernel-tier helper, run inside the real servers' namespace: accepts on every given port (IPv4
// and IPv6) and keeps each connection open until the client closes it. stdin: JSON lines
// {"close":[{"src","sport"}]} end those connections from the server's side (FIN); prints "closed".
import net from "node:net";
import { createInterface } from "node:readline";

const byClient = new Map(); // "client address|port" (NAT keeps them) → socket
const norm = (a) => (a?.startsWith("::ffff:") ? a.slice(7) : a);
createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line);
  for (const c of cmd.close ?? []) {
    const key = `${c.src}|${c.sport}`;
    byClient.get(key)?.end();
    byClient.delete(key);
  }
  process.stdout.write("closed\n");
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

// Loopback targets for the benchmark, run in their own process (and core) so the figures
// measure the checker. Prints {"tcp":[ports],"http":[ports]} on stdout.
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";

const N = Number(process.argv[2] ?? 20);
const listen = (s) => new Promise((r) => s.listen(0, "127.0.0.1", 4096, () => r(s.address().port)));
const tcp = [];
const http = [];
for (let i = 0; i < N; i++) {
  tcp.push(
    await listen(
      // The handshake is the kernel's; accepting and closing without reading keeps this process's
      // share small (at 20,000 checks/s it shares the two cores with the workers).
      createServer({ pauseOnConnect: true }, (c) => {
        c.on("error", () => {});
        c.destroy();
      }),
    ),
  );
  const h = createHttpServer((_req, res) => res.writeHead(200, { "content-length": "3" }).end("OK\n"));
  h.keepAliveTimeout = 0;
  http.push(await listen(h));
}
process.stdout.write(`${JSON.stringify({ tcp, http })}\n`);
process.stdin.on("end", () => process.exit(0)).resume();

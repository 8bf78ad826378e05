// Three HTTP backends for local.conf: 127.0.0.1:8081, 8082, 8083, each answering its own name.
// `node backends.mjs [firstPort]`; stops on Ctrl-C or SIGTERM.
import { createServer } from "node:http";

const first = Number(process.argv[2] ?? 8081);
const servers = [0, 1, 2].map((i) => {
  const name = `backend ${i + 1} (127.0.0.1:${first + i})`;
  return createServer((_req, res) => res.end(`${name}\n`)).listen(first + i, "127.0.0.1", () =>
    process.stdout.write(`listening: ${name}\n`),
  );
});
const stop = () => {
  for (const s of servers) s.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

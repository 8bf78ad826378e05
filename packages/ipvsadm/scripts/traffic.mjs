// VM-only helper for capture-output.sh: a TCP echo server on 10.0.0.254:8080 and clients that
// connect to the virtual service 10.0.0.1:80 (IPVS sends them to the local server).
import net from "node:net";

const server = net.createServer((s) => s.pipe(s)).listen(8080, "10.0.0.254");
await new Promise((r) => server.once("listening", r));
const keep = [];
for (let i = 0; i < 30; i++) {
  await new Promise((resolve, reject) => {
    const c = net.connect(80, "10.0.0.1", () => c.write(Buffer.alloc(1000 + i, 120)));
    let got = 0;
    c.on("data", (d) => {
      got += d.length;
      if (got >= 1000 + i) {
        if (i < 2) keep.push(c);
        else c.end();
        resolve();
      }
    });
    c.on("error", reject);
  });
}
console.log("traffic done");
// stay alive holding two ESTABLISHED connections while the capture runs
setTimeout(() => process.exit(0), 60_000);

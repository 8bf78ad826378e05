// Turns the capture script's strace output (stdin) into test/fixtures/ipvsadm-netlink.json:
// { name: { sent: [hex...], received: [hex...] } }, IPVS family messages only (nlctrl dropped),
// MSG_PEEK reads skipped (they repeat the real read).
import { readFileSync, writeFileSync } from "node:fs";

const text = readFileSync(0, "utf8").replace(/\r/g, "");
const out = {};
let cur;
let call;
let buf = [];
const flush = () => {
  if (cur && call && buf.length) {
    const hex = buf.join("");
    const type = Number.parseInt(hex.slice(10, 12) + hex.slice(8, 10), 16);
    if (type !== 0x10 && !call.peek) out[cur][call.dir].push(hex);
  }
  buf = [];
};
for (const line of text.split("\n")) {
  const h = line.match(/^### (\S+)/);
  if (h) {
    flush();
    call = undefined;
    cur = h[1] === "end" ? undefined : h[1];
    if (cur) out[cur] = { sent: [], received: [] };
    continue;
  }
  if (!cur) continue;
  if (/^(sendmsg|recvmsg)\(/.test(line)) {
    flush();
    call = { dir: line.startsWith("send") ? "sent" : "received", peek: line.includes("MSG_PEEK") };
    continue;
  }
  const d = line.match(/^ \| [0-9a-f]{5} {2}((?:[0-9a-f]{2} {1,2}){1,16})/);
  if (d && call) buf.push(d[1].replace(/\s+/g, ""));
}
flush();
writeFileSync(process.argv[2], `${JSON.stringify(out, null, 1)}\n`);
console.log(
  Object.entries(out)
    .map(([k, v]) => `${k}: ${v.sent.length} sent, ${v.received.length} received`)
    .join("\n"),
);

// capture-output.sh's console text (stdin) → test/fixtures/ipvsadm-output.json:
// { variant: { received: [hex...], stdout, proc? } } (IPVS family replies only).
import { readFileSync, writeFileSync } from "node:fs";

const text = readFileSync(0, "utf8").replace(/\r/g, "");
const out = {};
let cur;
let call;
let buf = [];
const flush = () => {
  if (cur && call && buf.length && call.dir === "received" && !call.peek) {
    const hex = buf.join("");
    const type = Number.parseInt(hex.slice(10, 12) + hex.slice(8, 10), 16);
    if (type !== 0x10) out[cur].received.push(hex);
  }
  buf = [];
};
for (const line of text.split("\n")) {
  let m = line.match(/^### stdout (\S*)/);
  if (m && cur) {
    flush();
    call = undefined;
    out[cur].stdout = Buffer.from(m[1], "base64").toString("utf8");
    continue;
  }
  m = line.match(/^### proc (\S*)/);
  if (m && cur) {
    out[cur].proc = Buffer.from(m[1], "base64").toString("utf8");
    continue;
  }
  m = line.match(/^### (.*)$/);
  if (m) {
    flush();
    call = undefined;
    cur = m[1] === "end" ? undefined : m[1];
    if (cur) out[cur] = { received: [], stdout: "" };
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
    .map(([k, v]) => `${k}: ${v.received.length} replies, ${v.stdout.length} chars${v.proc ? ", proc" : ""}`)
    .join("\n"),
);

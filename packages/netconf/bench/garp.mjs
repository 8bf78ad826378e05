// Gratuitous ARP throughput over a veth pair between two namespaces: frames handed to the kernel
// per second by Announcer (pacing 0, then paced), the frames a packet socket on the far end saw,
// and a bare PacketSocket.send loop of pre-encoded frames as the yardstick (@lvs/sys alone).
// Root only. Usage: node bench/garp.mjs [vips] [count]
import { execFileSync } from "node:child_process";
import { ETH_P_ARP, PacketSocket } from "@lvs/sys";
import { Announcer, encodeGratuitousArp, parseIp, parseMac } from "../dist/index.js";

const VIPS = Number(process.argv[2] ?? 1000);
const COUNT = Number(process.argv[3] ?? 10);
const a = `lvsbench-garp-a-${process.pid}`;
const b = `lvsbench-garp-b-${process.pid}`;
const vips = Array.from({ length: VIPS }, (_, i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

execFileSync("ip", ["netns", "add", a]);
execFileSync("ip", ["netns", "add", b]);
try {
  execFileSync("ip", ["-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b]);
  execFileSync("ip", ["-n", a, "link", "set", "eth0", "up"]);
  execFileSync("ip", ["-n", b, "link", "set", "eth0", "up"]);
  const rx = PacketSocket.open({ interface: "eth0", netns: b, protocol: ETH_P_ARP });
  let received = 0;
  rx.onFrame(() => {
    received++;
  });

  const run = async (label, pacingMs, vipList, count) => {
    received = 0;
    const ann = new Announcer({ netns: a, pacingMs });
    const t0 = performance.now();
    const { sent } = await ann.announce("eth0", vipList, { count });
    const s = (performance.now() - t0) / 1000;
    ann.close();
    await sleep(200);
    console.log(
      `${label.padEnd(42)} ${String(sent).padStart(6)} frames in ${(s * 1000).toFixed(0).padStart(6)} ms = ${Math.round(
        sent / s,
      )
        .toString()
        .padStart(7)} frames/s; received ${received}`,
    );
  };

  await run(`Announcer, pacing 0, ${VIPS} VIPs x ${COUNT}`, 0, vips, COUNT);
  await run(`Announcer, pacing 1 ms, 200 VIPs x 1`, 1, vips.slice(0, 200), 1);
  await run(`Announcer, pacing 10 ms, 50 VIPs x 1`, 10, vips.slice(0, 50), 1);

  // Yardstick: the same frames, pre-encoded, sent in a tight loop on one socket.
  const mac = parseMac(
    execFileSync("ip", ["-n", a, "-br", "link", "show", "eth0"], { encoding: "utf8" }).split(/\s+/)[2],
  );
  const frames = vips.map((v) => encodeGratuitousArp({ mac, ip: parseIp(v).bytes }));
  const tx = PacketSocket.open({ interface: "eth0", netns: a, protocol: 0 });
  received = 0;
  const t0 = performance.now();
  let sent = 0;
  for (let r = 0; r < COUNT; r++) {
    for (const f of frames) {
      try {
        tx.send(f);
        sent++;
      } catch {
        // a full queue: counted as not sent
      }
    }
  }
  const s = (performance.now() - t0) / 1000;
  tx.close();
  await sleep(200);
  console.log(
    `${"PacketSocket.send loop (yardstick)".padEnd(42)} ${String(sent).padStart(6)} frames in ${(s * 1000).toFixed(0).padStart(6)} ms = ${Math.round(
      sent / s,
    )
      .toString()
      .padStart(7)} frames/s; received ${received}`,
  );
  rx.close();
} finally {
  execFileSync("ip", ["netns", "del", a]);
  execFileSync("ip", ["netns", "del", b]);
}

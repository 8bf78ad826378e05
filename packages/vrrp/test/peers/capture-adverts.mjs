#!/usr/bin/env node
// VRRP adverts over IPv4 seen on one interface, timed in a process of their own (so a test or a
// benchmark may block its own event loop without delaying the timestamps):
//   node capture-adverts.mjs IFNAME FILE     (run inside the namespace: ip netns exec NS …)
// Prints "ready" on stdout, then writes one line per advert to FILE (a file, not a pipe a
// blocked reader would let fill up): "<epoch ms, µs precision> <source> <vrid> <priority>".
import { openSync, writeSync } from "node:fs";
import { ETH_P_ALL, PacketSocket } from "@lvs/sys";

const out = openSync(process.argv[3] ?? "/dev/stdout", "a");

const sock = PacketSocket.open({ interface: process.argv[2] ?? "eth0", protocol: ETH_P_ALL });
const now = () => performance.timeOrigin + performance.now();
sock.onFrame((f) => {
  const t = now();
  // Ethernet + IPv4 (ethertype 0x0800) + protocol 112
  if (f.length < 14 + 20 + 8 || f.readUInt16BE(12) !== 0x0800 || f[23] !== 112) return;
  const v = 14 + (f[14] & 0x0f) * 4;
  if (f.length < v + 8) return;
  writeSync(out, `${t.toFixed(3)} ${f.subarray(26, 30).join(".")} ${f[v + 1]} ${f[v + 2]}\n`);
});
const stop = () => {
  sock.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdout.write("ready\n");

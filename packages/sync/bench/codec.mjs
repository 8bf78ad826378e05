// Codec throughput: connections/s encoded and decoded on one core (node bench/codec.mjs).
// Messages are kernel-sized (1472 bytes: 40 IPv4 / 20 IPv6 entries in v1, 61 in v0).
import { performance } from "node:perf_hooks";
import { decodeMessage, encodeMessages } from "../dist/index.js";

const N = 200_000;
function conns(v6) {
  return Array.from({ length: N }, (_, i) => ({
    af: v6 ? 10 : 2,
    protocol: 6,
    clientAddress: v6
      ? `2001:db8::${(i & 0xffff).toString(16)}`
      : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    clientPort: 1024 + (i % 60000),
    virtualAddress: v6 ? "2001:db8::100" : "10.0.0.1",
    virtualPort: 80,
    destAddress: v6 ? "2001:db8:2::b" : "10.0.2.11",
    destPort: 8080,
    flags: 0,
    state: 1,
    fwmark: 0,
    timeout: 900,
  }));
}

function measure(label, fn, count) {
  fn(); // warm-up
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    fn();
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  const ms = runs[2];
  console.log(
    `${label.padEnd(28)} ${(((count / ms) * 1000) / 1e6).toFixed(2)} M conn/s  (median of 5, ${count} conns in ${ms.toFixed(1)} ms)`,
  );
}

for (const [label, v6, version] of [
  ["v1 IPv4", false, 1],
  ["v0 IPv4", false, 0],
  ["v1 IPv6", true, 1],
]) {
  const input = conns(v6);
  const msgs = encodeMessages(input, { version, maxLength: v6 ? 1452 : 1472 });
  measure(`encode ${label}`, () => encodeMessages(input, { version, maxLength: v6 ? 1452 : 1472 }), N);
  measure(
    `decode ${label}`,
    () => {
      for (const m of msgs) decodeMessage(m);
    },
    N,
  );
}

// Relay envelope: HMAC-SHA256 seal + verify of a full 1472-byte sync message.
{
  const { RelaySealer, RelayOpener } = await import("../dist/index.js");
  const key = new Uint8Array(32).fill(1);
  const msg = encodeMessages(conns(false).slice(0, 40), { version: 1 })[0];
  const sealer = new RelaySealer(key, 1, 1);
  const opener = new RelayOpener(key, 2);
  const M = 50_000;
  const t0 = performance.now();
  for (let i = 0; i < M; i++) if (!opener.open(sealer.seal(msg)).ok) throw new Error("open failed");
  const us = ((performance.now() - t0) * 1000) / M;
  console.log(
    `${"relay seal+open 1472 B".padEnd(28)} ${us.toFixed(1)} µs per datagram (${(1e6 / us / 1000).toFixed(0)} k datagrams/s, ${(((1e6 / us) * 40) / 1e6).toFixed(2)} M conn/s)`,
  );
}

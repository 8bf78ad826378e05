// What a network namespace sees, and a raw Ethernet frame sent out of one of its interfaces.
// Usage (root): node netns-frame.mjs NETNS IFACE
import { readFileSync } from "node:fs";
import { PacketSocket, withNetns } from "@lvs/sys";

const [netns = "director", iface = "eth0"] = process.argv.slice(2);

// Its interfaces, read from inside the namespace.
console.log(withNetns(netns, () => readFileSync("/proc/thread-self/net/dev", "utf8")));

// A whole frame: destination MAC (broadcast), source MAC, ethertype 0x88b5 (local experimental), payload.
const frame = Buffer.concat([
  Buffer.alloc(6, 0xff),
  Buffer.from([0x02, 0, 0, 0, 0, 0x01]),
  Buffer.from([0x88, 0xb5]),
  Buffer.from("hello from @lvs/sys: one raw frame"),
]);
const sock = PacketSocket.open({ interface: iface, netns, protocol: 0x88b5 });
sock.send(frame);
sock.close();

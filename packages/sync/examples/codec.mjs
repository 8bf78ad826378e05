// Encode connections as a kernel master would, decode them as a backup does.
import {
  decodeMessage,
  encodeMessages,
  formatConnection,
  parseConnection,
  tryDecodeMessage,
} from "@lvs/sync";

const conns = [
  parseConnection("TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED"),
  parseConnection("TCP [2001:db8::5]:40002 [2001:db8::1]:80 [2001:db8::b]:8080 FIN_WAIT"),
];
const datagrams = encodeMessages(conns, { version: 1, syncId: 1 }); // ≤ 1472 bytes each
for (const d of datagrams) {
  const message = decodeMessage(d);
  for (const c of message.connections) console.log(formatConnection(c));
}
// The receive path never throws: a truncated datagram is a typed, countable error.
const bad = tryDecodeMessage(datagrams[0].subarray(0, 20));
console.log(bad.ok ? "ok" : bad.error.code); // SYNC_SIZE_MISMATCH

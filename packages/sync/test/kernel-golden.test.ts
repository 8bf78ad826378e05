// Golden bytes captured from the kernel's own sync daemon (Linux 6.1, see fixtures/kernel-6.1-sync.json):
// we decode them to exactly what ipvsadm -Lcn showed, and our encoder reproduces them byte for byte.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessages, formatConnection, type SyncConnection } from "../src/index.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/kernel-6.1-sync.json", import.meta.url), "utf8")) as {
  v1: string;
  v0: string;
  v1ClientPorts: number[];
  v0ClientPorts: number[];
  v1IPv6: string;
  v1IPv6ClientPorts: number[];
};
const bytes = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("kernel golden bytes", () => {
  it.each([
    1, 0,
  ] as const)("v%i: decodes to the master's connections and re-encodes byte-exact", (version) => {
    const wire = bytes(version === 1 ? fx.v1 : fx.v0);
    const ports = version === 1 ? fx.v1ClientPorts : fx.v0ClientPorts;
    const msg = decodeMessage(wire);
    expect(msg.version).toBe(version);
    expect(msg.syncId).toBe(1);
    expect(msg.connections.map(formatConnection)).toEqual(
      ports.map((p) => `TCP 10.1.0.5:${p} 10.1.0.1:80 10.0.2.11:8080 ESTABLISHED`),
    );
    // v1 carries the master's timeout (tcp ESTABLISHED: 900 s) and flags Masq (0), fwmark 0.
    for (const c of msg.connections as SyncConnection[]) {
      expect(c.flags).toBe(0);
      expect(c.timeout).toBe(version === 1 ? 900 : 0);
    }
    const again = encodeMessages(msg.connections, { version, syncId: 1 });
    expect(again.map(hex)).toEqual([hex(wire)]);
  });

  it("v1 IPv6 entries (type 1, 72 bytes): decode and re-encode byte-exact", () => {
    const wire = bytes(fx.v1IPv6);
    const msg = decodeMessage(wire);
    expect(msg.connections.map(formatConnection)).toEqual(
      fx.v1IPv6ClientPorts.map((p) => `TCP [fd01::5]:${p} [fd01::1]:80 [fd02::11]:8080 ESTABLISHED`),
    );
    expect(encodeMessages(msg.connections, { version: 1, syncId: 1 }).map(hex)).toEqual([hex(wire)]);
  });
});

import { randomInt } from "node:crypto";
import { isIPv6 } from "node:net";
import {
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  SO_BINDTODEVICE,
  SOL_SOCKET,
} from "../constants.js";
import type { IcmpCheck, ProbeOptions, ProbeResult } from "../types.js";
import { Attempt, errorReason } from "./util.js";

interface RawSocket {
  on(ev: "message", fn: (buf: Buffer, source: string) => void): void;
  on(ev: "error", fn: (err: Error) => void): void;
  send(buf: Buffer, off: number, len: number, addr: string, cb: (err: Error | null) => void): void;
  setOption(level: number, option: number, value: Buffer, length: number): void;
  close(): void;
}
interface RawSocketModule {
  createSocket(o: { protocol: number; addressFamily?: number }): RawSocket;
  writeChecksum(buf: Buffer, off: number, sum: number): Buffer;
  createChecksum(buf: Buffer): number;
  Protocol: { ICMP: number; ICMPv6: number };
  AddressFamily: { IPv4: number; IPv6: number };
}

let rawModule: Promise<RawSocketModule> | undefined;
function loadRaw(): Promise<RawSocketModule> {
  // Native addon, loaded on first use so the other checkers work where it can't load.
  const name = "raw-socket";
  // A bundled lvsctl carries raw-socket's JavaScript inlined and hands it out through this hook.
  const hook = (globalThis as Record<symbol, unknown>)[Symbol.for("lvs.require")];
  if (!rawModule && typeof hook === "function") {
    rawModule = Promise.resolve().then(() => (hook as (n: string) => RawSocketModule)(name));
  }
  rawModule ??= import(name)
    .catch(async (err: unknown) => {
      // When a bundler (lvsctl) inlines this package, resolve the addon from our own package.
      const { createRequire } = await import("node:module");
      try {
        const self = createRequire(import.meta.url).resolve("@lvs/healthcheck/package.json");
        return createRequire(self)(name) as unknown;
      } catch {
        throw err;
      }
    })
    .then((m: { default?: unknown }) => (m.default ?? m) as RawSocketModule);
  return rawModule;
}

/** Echo request: type, code, checksum, identifier, sequence, payload (RFC 792 / RFC 4443 §4.1). */
export function encodeEcho(v6: boolean, ident: number, seq: number, payload: Buffer): Buffer {
  const buf = Buffer.alloc(8 + payload.length);
  buf[0] = v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO_REQUEST;
  buf.writeUInt16BE(ident, 4);
  buf.writeUInt16BE(seq, 6);
  payload.copy(buf, 8);
  return buf;
}

/** Internet checksum (RFC 1071). */
export function inetChecksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += ((buf[i] as number) << 8) | (buf[i + 1] as number);
  if (buf.length % 2 === 1) sum += (buf[buf.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** PING_CHECK: one ICMP(v6) echo; up on the matching echo reply. Needs CAP_NET_RAW. */
export async function checkIcmp(def: IcmpCheck, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const attempt = new Attempt(def.connectTimeout, opts);
  let raw: RawSocketModule;
  try {
    raw = await loadRaw();
  } catch (err) {
    // A bundled lvsctl without its native/ folder says which file is missing: keep its words.
    const missing = (err as { code?: string }).code === "LVSCTL_NATIVE_MISSING";
    attempt.down(`raw-socket unavailable: ${missing ? (err as Error).message : errorReason(err)}`);
    return attempt.promise;
  }
  const v6 = isIPv6(def.connectIp);
  let sock: RawSocket;
  try {
    sock = raw.createSocket({
      protocol: v6 ? raw.Protocol.ICMPv6 : raw.Protocol.ICMP,
      addressFamily: v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4,
    });
  } catch (err) {
    attempt.down(errorReason(err));
    return attempt.promise;
  }
  attempt.onCleanup(() => sock.close());
  if (def.bindIf !== undefined) {
    // keepalived check_ping.c: `bind_if` binds the ICMP socket to the device (socket(7)).
    const name = Buffer.from(`${def.bindIf}\0`);
    try {
      sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    } catch (err) {
      attempt.down(`bind_if ${def.bindIf}: ${errorReason(err)}`);
      return attempt.promise;
    }
  }
  const ident = randomInt(0, 0x10000);
  const seq = randomInt(0, 0x10000);
  const pkt = encodeEcho(v6, ident, seq, Buffer.from("lvs-healthcheck"));
  // The kernel fills the ICMPv6 checksum itself (RFC 3542 §3.1); ICMPv4 needs ours.
  if (!v6) pkt.writeUInt16BE(inetChecksum(pkt), 2);
  sock.on("error", (err) => attempt.down(errorReason(err)));
  sock.on("message", (buf, source) => {
    // IPv4 raw sockets deliver the IP header first; IPv6 ones do not.
    const off = v6 ? 0 : ((buf[0] as number) & 0x0f) * 4;
    if (buf.length < off + 8) return;
    const type = buf[off];
    if (type !== (v6 ? ICMPV6_ECHO_REPLY : ICMP_ECHO_REPLY)) return;
    if (buf.readUInt16BE(off + 4) !== ident || buf.readUInt16BE(off + 6) !== seq) return;
    attempt.up(`echo reply from ${source}`);
  });
  sock.send(pkt, 0, pkt.length, def.connectIp, (err) => {
    if (err) attempt.down(errorReason(err));
  });
  return attempt.promise;
}

// Minimal DNS message codec (RFC 1035 §4): enough to ask one question and read the reply's
// header, question and answer records. Pure: no I/O, no clock.
import {
  DNS_CLASS_IN,
  DNS_FLAG_QR,
  DNS_FLAG_RD,
  DNS_MAX_LABEL,
  DNS_MAX_NAME,
  DNS_RCODE_MASK,
} from "./constants.js";
import { HealthcheckError } from "./errors.js";

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Raw RDATA, kept as bytes (lossless). */
  data: Uint8Array;
}

export interface DnsMessage {
  id: number;
  /** Full 16-bit flags word (QR, opcode, AA, TC, RD, RA, Z, RCODE) kept as is. */
  flags: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

export function isResponse(msg: DnsMessage): boolean {
  return (msg.flags & DNS_FLAG_QR) !== 0;
}
export function rcode(msg: DnsMessage): number {
  return msg.flags & DNS_RCODE_MASK;
}

function encodeName(name: string): number[] {
  const out: number[] = [];
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  if (trimmed !== "") {
    for (const label of trimmed.split(".")) {
      const bytes = new TextEncoder().encode(label);
      if (bytes.length === 0 || bytes.length > DNS_MAX_LABEL) {
        throw new HealthcheckError("HC_DNS_ENCODE", `DNS label "${label}" must be 1..63 bytes`, {
          option: "name",
        });
      }
      out.push(bytes.length, ...bytes);
    }
  }
  out.push(0);
  if (out.length > DNS_MAX_NAME) {
    throw new HealthcheckError("HC_DNS_ENCODE", `DNS name "${name}" longer than 255 bytes`, {
      option: "name",
    });
  }
  return out;
}

/** Encode a message. Names are written uncompressed. */
export function encodeDnsMessage(msg: DnsMessage): Uint8Array {
  const bytes: number[] = [];
  const u16 = (v: number) => bytes.push((v >> 8) & 0xff, v & 0xff);
  const u32 = (v: number) => {
    u16((v >>> 16) & 0xffff);
    u16(v & 0xffff);
  };
  u16(msg.id);
  u16(msg.flags);
  u16(msg.questions.length);
  u16(msg.answers.length);
  u16(msg.authorities.length);
  u16(msg.additionals.length);
  for (const q of msg.questions) {
    bytes.push(...encodeName(q.name));
    u16(q.type);
    u16(q.class);
  }
  for (const r of [...msg.answers, ...msg.authorities, ...msg.additionals]) {
    bytes.push(...encodeName(r.name));
    u16(r.type);
    u16(r.class);
    u32(r.ttl);
    u16(r.data.length);
    bytes.push(...r.data);
  }
  return Uint8Array.from(bytes);
}

/** A recursion-desired query for one name/type (what DNS_CHECK sends). */
export function encodeDnsQuery(id: number, name: string, type: number): Uint8Array {
  return encodeDnsMessage({
    id,
    flags: DNS_FLAG_RD,
    questions: [{ name, type, class: DNS_CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  });
}

function fail(msg: string): never {
  throw new HealthcheckError("HC_DNS_DECODE", msg);
}

/** Decode a message; throws HealthcheckError(HC_DNS_DECODE) on truncation or bad pointers. */
export function decodeDnsMessage(buf: Uint8Array): DnsMessage {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  const need = (n: number) => {
    if (off + n > buf.length) fail(`DNS message truncated at byte ${off} (need ${n} more)`);
  };
  const u16 = () => {
    need(2);
    const v = view.getUint16(off);
    off += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(off);
    off += 4;
    return v;
  };
  const readName = (): string => {
    const labels: string[] = [];
    let pos = off;
    let jumped = false;
    let hops = 0;
    for (;;) {
      if (pos >= buf.length) fail(`DNS name runs past end at byte ${pos}`);
      const len = buf[pos] as number;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= buf.length) fail(`DNS pointer truncated at byte ${pos}`);
        const target = ((len & 0x3f) << 8) | (buf[pos + 1] as number);
        if (!jumped) off = pos + 2;
        jumped = true;
        if (++hops > 64 || target >= buf.length) fail(`DNS compression loop or bad pointer at ${pos}`);
        pos = target;
        continue;
      }
      if ((len & 0xc0) !== 0) fail(`DNS label type 0x${len.toString(16)} unsupported at ${pos}`);
      if (len === 0) {
        if (!jumped) off = pos + 1;
        break;
      }
      if (pos + 1 + len > buf.length) fail(`DNS label runs past end at byte ${pos}`);
      labels.push(new TextDecoder().decode(buf.subarray(pos + 1, pos + 1 + len)));
      pos += 1 + len;
    }
    return labels.length === 0 ? "." : `${labels.join(".")}.`;
  };
  const id = u16();
  const flags = u16();
  const qd = u16();
  const an = u16();
  const ns = u16();
  const ar = u16();
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) questions.push({ name: readName(), type: u16(), class: u16() });
  const records = (n: number): DnsRecord[] => {
    const out: DnsRecord[] = [];
    for (let i = 0; i < n; i++) {
      const name = readName();
      const type = u16();
      const klass = u16();
      const ttl = u32();
      const len = u16();
      need(len);
      out.push({ name, type, class: klass, ttl, data: buf.slice(off, off + len) });
      off += len;
    }
    return out;
  };
  const answers = records(an);
  const authorities = records(ns);
  const additionals = records(ar);
  return { id, flags, questions, answers, authorities, additionals };
}

/**
 * Structure-aware fuzzing for the decoders of every package: a deterministic PRNG, byte and
 * netlink-aware mutators over captured inputs, and a runner that checks the properties every
 * receive path owes us:
 *   - nothing but the package's own error class is thrown (a typed drop `{ ok: false, error }`
 *     must carry that class too);
 *   - the result is bounded by the input's size (no absurd allocation);
 *   - no case takes long (a hang is caught by tools/fuzz.mjs's watchdog, which runs the targets
 *     in a worker and reads the case index this runner publishes).
 *
 * A package lists its targets in `test/fuzz-targets.ts` (`export const fuzzTargets = [...]`);
 * tools/fuzz.mjs finds those files (one line per decoder), and the package's `test/fuzz.test.ts`
 * runs a small count of each in the unit tier.
 */

// ---------------------------------------------------------------- PRNG

/** sfc32 (small fast counter): 32-bit, good statistical quality, trivially seedable. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0, index = 0) {
    // splitmix32 spreads (seed, stream, index) over the four words.
    let s = (seed ^ Math.imul(stream, 0x9e3779b9) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 8; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** 0 ≤ n < max (max ≥ 1). */
  below(max: number): number {
    return max <= 1 ? 0 : this.u32() % max;
  }

  chance(p: number): boolean {
    return this.u32() < p * 0x1_0000_0000;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }
}

/** FNV-1a of a target name: each target gets its own stream under one seed. */
export function streamOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------- byte mutations

export type Mutator = (input: Uint8Array, rng: Rng, corpus: readonly Uint8Array[]) => Uint8Array;

export const INTERESTING_8: readonly number[] = [0, 1, 2, 3, 4, 8, 0x10, 0x20, 0x40, 0x7f, 0x80, 0xfe, 0xff];
export const INTERESTING_16: readonly number[] = [
  0, 1, 3, 4, 5, 7, 8, 0x10, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x7fff, 0x8000, 0xfffe, 0xffff,
];
export const INTERESTING_32: readonly number[] = [
  0, 1, 4, 16, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
];

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** One byte-level edit, in place where the length stays; returns the (possibly new) buffer. */
function byteEdit(b: Uint8Array, rng: Rng, corpus: readonly Uint8Array[]): Uint8Array {
  const n = b.length;
  const at = rng.below(Math.max(n, 1));
  switch (rng.below(11)) {
    case 0: // bit flip
      if (n) b[at] = (b[at] as number) ^ (1 << rng.below(8));
      return b;
    case 1: // interesting byte
      if (n) b[at] = rng.pick(INTERESTING_8);
      return b;
    case 2: {
      // interesting u16, either byte order
      if (n < 2) return b;
      const v = rng.pick(INTERESTING_16);
      new DataView(b.buffer, b.byteOffset, n).setUint16(rng.below(n - 1), v, rng.chance(0.5));
      return b;
    }
    case 3: {
      if (n < 4) return b;
      const v = rng.pick(INTERESTING_32);
      new DataView(b.buffer, b.byteOffset, n).setUint32(rng.below(n - 3), v, rng.chance(0.5));
      return b;
    }
    case 4: // random byte
      if (n) b[at] = rng.below(256);
      return b;
    case 5: // a length-ish byte ±1
      if (n) b[at] = ((b[at] as number) + (rng.chance(0.5) ? 1 : 255)) & 0xff;
      return b;
    case 6: // truncate
      return b.slice(0, rng.below(n + 1));
    case 7: {
      // extend with zeros or random bytes
      const extra = new Uint8Array(1 + rng.below(16));
      if (rng.chance(0.5)) for (let i = 0; i < extra.length; i++) extra[i] = rng.below(256);
      return concat([b, extra]);
    }
    case 8: {
      // delete a range
      const len = 1 + rng.below(8);
      return concat([b.subarray(0, at), b.subarray(Math.min(n, at + len))]);
    }
    case 9: {
      // duplicate a range in place
      const len = 1 + rng.below(16);
      return concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    }
    default: {
      // splice with another input
      const other = rng.pick(corpus);
      if (!other) return b;
      const cut = rng.below(other.length + 1);
      return concat([b.subarray(0, at), other.subarray(cut)]);
    }
  }
}

/** Generic mutator: 1..4 byte edits (flips, interesting values, cuts, growth, splices). */
export const mutateBytes: Mutator = (input, rng, corpus) => {
  let b: Uint8Array = input.slice();
  const edits = 1 + rng.below(4);
  for (let i = 0; i < edits; i++) b = byteEdit(b, rng, corpus);
  return b;
};

// ---------------------------------------------------------------- netlink-aware mutations

/** The netlink family's view of a message (so the mutator finds the attributes). */
export interface NetlinkShape {
  /**
   * Bytes of the family header between nlmsghdr and the attributes (genlmsghdr: 4, ifinfomsg:
   * 16, ifaddrmsg: 8); undefined for messages whose payload is opaque (NLMSG_ERROR, DONE).
   */
  familyHeader(type: number): number | undefined;
}

interface Attr {
  /** nla_type with its flag bits. */
  type: number;
  data: Uint8Array;
  /** Parsed children when the payload reads exactly as attributes (a nest). */
  kids?: Attr[];
}

interface Message {
  header: Uint8Array;
  family: Uint8Array;
  /** undefined: the payload is kept opaque in `family`. */
  attrs?: Attr[];
}

const NLMSG_HDRLEN = 16;
const NLA_HDRLEN = 4;
const NLA_F_NESTED = 0x8000;
const align4 = (n: number): number => (n + 3) & ~3;

function parseAttrList(buf: Uint8Array, depth: number): Attr[] | undefined {
  const out: Attr[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off < buf.length) {
    if (off + NLA_HDRLEN > buf.length) return undefined;
    const len = view.getUint16(off, true);
    if (len < NLA_HDRLEN || off + len > buf.length) return undefined;
    const data = buf.slice(off + NLA_HDRLEN, off + len);
    const a: Attr = { type: view.getUint16(off + 2, true), data };
    if (depth < 4 && data.length >= NLA_HDRLEN) {
      const kids = parseAttrList(data, depth + 1);
      if (kids) a.kids = kids;
    }
    out.push(a);
    off += align4(len);
  }
  return out;
}

function parseDatagram(buf: Uint8Array, shape: NetlinkShape): Message[] | undefined {
  const out: Message[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = view.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > buf.length) return undefined;
    const header = buf.slice(off, off + NLMSG_HDRLEN);
    const payload = buf.slice(off + NLMSG_HDRLEN, off + len);
    const fam = shape.familyHeader(view.getUint16(off + 4, true));
    let msg: Message = { header, family: payload };
    if (fam !== undefined && payload.length >= fam) {
      const attrs = parseAttrList(payload.subarray(fam), 0);
      if (attrs) msg = { header, family: payload.slice(0, fam), attrs };
    }
    out.push(msg);
    off += align4(len);
  }
  return out.length > 0 ? out : undefined;
}

/** Serialises messages with every length consistent; records where the length fields are. */
class Assembler {
  private buf = new Uint8Array(256);
  length = 0;
  readonly attrLens: number[] = [];
  readonly msgLens: number[] = [];
  readonly msgStarts: number[] = [];

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad(): void {
    const n = align4(this.length) - this.length;
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  u16At(at: number, v: number): void {
    this.buf[at] = v & 0xff;
    this.buf[at + 1] = (v >> 8) & 0xff;
  }
  u32At(at: number, v: number): void {
    this.u16At(at, v & 0xffff);
    this.u16At(at + 2, (v >>> 16) & 0xffff);
  }
  attr(a: Attr): void {
    this.pad();
    const start = this.length;
    this.ensure(NLA_HDRLEN);
    this.length += NLA_HDRLEN;
    this.u16At(start + 2, a.type);
    if (a.kids) for (const k of a.kids) this.attr(k);
    else this.bytes(a.data);
    // Attribute lengths are 16-bit: an overlong one wraps, which is one more corruption.
    this.u16At(start, (this.length - start) & 0xffff);
    this.attrLens.push(start);
  }
  message(m: Message): void {
    this.pad();
    const start = this.length;
    this.msgStarts.push(start);
    this.bytes(m.header);
    this.bytes(m.family);
    if (m.attrs) for (const a of m.attrs) this.attr(a);
    this.u32At(start, this.length - start);
    this.msgLens.push(start);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function cloneAttr(a: Attr): Attr {
  const c: Attr = { type: a.type, data: a.data };
  if (a.kids) c.kids = a.kids.map(cloneAttr);
  return c;
}

function attrLists(msgs: readonly Message[]): Attr[][] {
  const out: Attr[][] = [];
  const walk = (list: Attr[]): void => {
    out.push(list);
    for (const a of list) if (a.kids) walk(a.kids);
  };
  for (const m of msgs) if (m.attrs) walk(m.attrs);
  return out;
}

function allAttrs(msgs: readonly Message[]): Attr[] {
  return attrLists(msgs).flat();
}

function flatten(a: Attr): Uint8Array {
  const asm = new Assembler();
  for (const k of a.kids ?? []) asm.attr(k);
  return asm.finish();
}

function leafValue(rng: Rng, len: number): Uint8Array {
  const width = rng.pick([1, 2, 4, 8, len || 4]);
  const b = new Uint8Array(width);
  const view = new DataView(b.buffer);
  if (width === 1) b[0] = rng.pick(INTERESTING_8);
  else if (width === 2) view.setUint16(0, rng.pick(INTERESTING_16), rng.chance(0.5));
  else if (width >= 4) {
    view.setUint32(0, rng.pick(INTERESTING_32), rng.chance(0.5));
    if (width >= 8) view.setUint32(4, rng.pick(INTERESTING_32), true);
    if (rng.chance(0.2)) b.fill(rng.pick([0, 0xff]));
  }
  return b;
}

/** One structural edit of the message tree (lengths are recomputed on assembly). */
function structuralEdit(msgs: Message[], rng: Rng, others: readonly Message[][]): void {
  const lists = attrLists(msgs).filter((l) => l.length > 0);
  const list = lists.length ? rng.pick(lists) : undefined;
  const i = list ? rng.below(list.length) : 0;
  const a = list?.[i];
  switch (rng.below(12)) {
    case 0: // duplicate an attribute (or a whole nest)
      if (list && a) list.splice(i + rng.below(2), 0, cloneAttr(a));
      return;
    case 1: // drop one
      if (list) list.splice(i, 1);
      return;
    case 2: {
      // reorder: swap two siblings, or reverse the list
      if (!list) return;
      if (rng.chance(0.3)) list.reverse();
      else {
        const j = rng.below(list.length);
        [list[i], list[j]] = [list[j] as Attr, list[i] as Attr];
      }
      return;
    }
    case 3: {
      // truncate a nest: fewer children, or its bytes cut mid-attribute
      const nests = allAttrs(msgs).filter((x) => x.kids);
      if (!nests.length) return;
      const n = rng.pick(nests);
      const kids = n.kids as Attr[];
      if (rng.chance(0.5)) kids.length = rng.below(kids.length);
      else {
        const flat = flatten(n);
        n.data = flat.slice(0, rng.below(flat.length));
        delete n.kids;
      }
      return;
    }
    case 4: {
      // resize a leaf (±1, ±4, empty, doubled)
      if (!a || a.kids) return;
      const d = a.data;
      const len = Math.max(
        0,
        rng.pick([d.length - 1, d.length + 1, d.length - 4, d.length + 4, 0, d.length * 2]),
      );
      const next = new Uint8Array(len);
      next.set(d.subarray(0, len));
      a.data = next;
      return;
    }
    case 5: // a leaf's value replaced by an interesting one (maybe of another width)
      if (a && !a.kids) a.data = leafValue(rng, a.data.length);
      return;
    case 6: {
      // retype: neighbour type, random type, nested flag toggled
      if (!a) return;
      const r = rng.below(4);
      if (r === 0) a.type = (a.type + 1) & 0xffff;
      else if (r === 1) a.type = (a.type - 1) & 0xffff;
      else if (r === 2) a.type = (a.type & 0xc000) | rng.below(48);
      else a.type ^= NLA_F_NESTED;
      return;
    }
    case 7: {
      // graft an attribute from another captured message
      const donor = others.length ? allAttrs(rng.pick(others)) : [];
      if (!list || !donor.length) return;
      list.splice(rng.below(list.length + 1), 0, cloneAttr(rng.pick(donor)));
      return;
    }
    case 8: {
      // concatenate: one more message (another capture's, or a copy of ours)
      const from = others.length && rng.chance(0.6) ? rng.pick(others) : msgs;
      const m = rng.pick(from);
      if (m) {
        const copy: Message = { header: m.header.slice(), family: m.family.slice() };
        if (m.attrs) copy.attrs = m.attrs.map(cloneAttr);
        msgs.splice(rng.below(msgs.length + 1), 0, copy);
      }
      return;
    }
    case 9: // drop or swap whole messages
      if (msgs.length > 1) {
        const j = rng.below(msgs.length);
        if (rng.chance(0.5)) msgs.splice(j, 1);
        else [msgs[0], msgs[j]] = [msgs[j] as Message, msgs[0] as Message];
      }
      return;
    case 10: {
      // family header (genl cmd/version, ifinfomsg/ifaddrmsg fields) byte changed
      const m = rng.pick(msgs);
      if (m?.family.length) {
        m.family = m.family.slice();
        const k = rng.below(m.family.length);
        m.family[k] = rng.chance(0.5) ? rng.pick(INTERESTING_8) : rng.below(256);
      }
      return;
    }
    default: {
      // nlmsghdr type / flags / seq changed
      const m = rng.pick(msgs);
      if (!m) return;
      m.header = m.header.slice();
      const view = new DataView(m.header.buffer);
      const field = rng.pick([4, 6, 8]);
      if (field === 8) view.setUint32(8, rng.pick(INTERESTING_32), true);
      else view.setUint16(field, rng.chance(0.5) ? rng.pick(INTERESTING_16) : rng.below(40), true);
      return;
    }
  }
}

/** One corruption of the assembled bytes aimed at the length fields the assembler recorded. */
function lengthCorruption(b: Uint8Array, asm: Assembler, rng: Rng): Uint8Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (rng.below(4)) {
    case 0: {
      // an attribute's nla_len: 0, < header, ±1, ±4, overrunning
      if (!asm.attrLens.length) return b;
      const at = rng.pick(asm.attrLens);
      const len = view.getUint16(at, true);
      const v = rng.pick([0, 1, 3, 4, len - 1, len + 1, len - 4, len + 4, b.length - at + 1, 0xffff]);
      view.setUint16(at, v & 0xffff, true);
      return b;
    }
    case 1: {
      // nlmsg_len mismatched with the bytes
      const at = rng.pick(asm.msgLens);
      const len = view.getUint32(at, true);
      const v = rng.pick([0, 15, 16, len - 1, len + 1, len - 4, len + 4, b.length - at + 1, 0xffffffff]);
      view.setUint32(at, v >>> 0, true);
      return b;
    }
    case 2: // split: the head of the datagram (at a message boundary or anywhere)
      return b.slice(0, rng.chance(0.5) ? rng.pick(asm.msgStarts) + rng.below(64) : rng.below(b.length));
    default: // split: the tail, starting at a message boundary
      return b.slice(rng.pick(asm.msgStarts));
  }
}

/**
 * Netlink-aware mutator: parses the capture into messages and nested attributes, applies 1..4
 * structural edits (duplicate / drop / reorder / truncate nests, resize and re-value leaves,
 * retype, graft from other captures, concatenate / drop messages) and reassembles with consistent
 * lengths so the decoder gets past its framing checks; then, half the time, corrupts the framing
 * itself (attribute and message lengths, splits) or a few bytes.
 */
export function netlinkMutator(shape: NetlinkShape): Mutator {
  const cache = new WeakMap<Uint8Array, Message[] | null>();
  const parsed = (b: Uint8Array): Message[] | undefined => {
    let m = cache.get(b);
    if (m === undefined) {
      m = parseDatagram(b, shape) ?? null;
      cache.set(b, m);
    }
    return m ?? undefined;
  };
  const copy = (msgs: readonly Message[]): Message[] =>
    msgs.map((m) => {
      const c: Message = { header: m.header, family: m.family };
      if (m.attrs) c.attrs = m.attrs.map(cloneAttr);
      return c;
    });
  return (input, rng, corpus) => {
    const base = parsed(input);
    if (!base || rng.chance(0.1)) return mutateBytes(input, rng, corpus);
    const msgs = copy(base);
    const others: Message[][] = [];
    for (let k = 0; k < 2 && corpus.length; k++) {
      const o = parsed(rng.pick(corpus));
      if (o) others.push(o);
    }
    const edits = rng.chance(0.15) ? 0 : 1 + rng.below(4);
    for (let k = 0; k < edits; k++) structuralEdit(msgs, rng, others);
    if (!msgs.length) return new Uint8Array(0);
    const asm = new Assembler();
    for (const m of msgs) asm.message(m);
    let b = asm.finish();
    if (edits === 0 || rng.chance(0.5)) {
      b = rng.chance(0.7) ? lengthCorruption(b, asm, rng) : byteEdit(b, rng, corpus);
    }
    return b;
  };
}

// ---------------------------------------------------------------- text mutations

/**
 * For text decoders (configuration files): byte edits plus tokens of the grammar inserted,
 * duplicated lines, and lines cut.
 */
export function textMutator(tokens: readonly string[]): Mutator {
  const enc = new TextEncoder();
  const encoded = tokens.map((t) => enc.encode(t));
  return (input, rng, corpus) => {
    let b = input;
    const edits = 1 + rng.below(4);
    for (let k = 0; k < edits; k++) {
      const r = rng.below(4);
      if (r === 0 && encoded.length) {
        const at = rng.below(b.length + 1);
        b = concat([b.subarray(0, at), rng.pick(encoded), b.subarray(at)]);
      } else if (r === 1) {
        // duplicate or drop a line
        const starts = [0];
        for (let i = 0; i < b.length; i++) if (b[i] === 10) starts.push(i + 1);
        const s = rng.pick(starts);
        let e = b.indexOf(10, s);
        e = e === -1 ? b.length : e + 1;
        b = rng.chance(0.5)
          ? concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)])
          : concat([b.subarray(0, s), b.subarray(e)]);
      } else b = byteEdit(b === input ? b.slice() : b, rng, corpus);
    }
    return b;
  };
}

// ---------------------------------------------------------------- the runner

/** What a decoder may throw: the package's error class. */
// biome-ignore lint/suspicious/noExplicitAny: any constructor of an Error subclass
export type ErrorClass = abstract new (...args: any[]) => Error;

export interface FuzzTarget {
  /** "<package>/<decoder>", e.g. "ipvs/genl". */
  name: string;
  /** Captured inputs the mutations start from. */
  seeds: readonly Uint8Array[];
  mutate: Mutator;
  /** The decoder under test. Its result (or typed drop) is weighed against the input size. */
  decode(input: Uint8Array): unknown;
  /** The one error class the decoder may throw (or carry in a `{ ok: false, error }` drop). */
  errorClass: ErrorClass;
  /** A further property of a successful result; throws to report a failure. */
  check?(result: unknown, input: Uint8Array): void;
  /** Result weight allowed per input byte (default 64) and on top (default 4096). */
  weight?: { perByte?: number; base?: number };
}

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** First case index (to replay one: `first: i, cases: 1`). */
  first?: number;
  /** Stop after this many failures (default 5). */
  maxFailures?: number;
  /** A case slower than this fails (default 2 s: generous, a hang is far longer). */
  slowMs?: number;
  /** Slot 0 gets the index of the case being decoded (tools/fuzz.mjs's watchdog reads it). */
  progress?: Int32Array;
}

export interface FuzzFailure {
  target: string;
  seed: number;
  index: number;
  /** The input, hex. */
  input: string;
  problem: string;
}

export interface FuzzReport {
  target: string;
  seed: number;
  cases: number;
  ms: number;
  /** Cases whose input the decoder rejected with its own error (or dropped). */
  rejected: number;
  slowestMs: number;
  failures: FuzzFailure[];
}

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** The input of case `index` (what the runner decodes). */
export function fuzzInput(target: FuzzTarget, seed: number, index: number): Uint8Array {
  const rng = new Rng(seed, streamOf(target.name), index);
  const base = rng.pick(target.seeds);
  return rng.chance(0.02) ? base.slice() : target.mutate(base, rng, target.seeds);
}

/**
 * Rough size of a decoded value: bytes of buffers and strings plus a few per property; stops
 * counting past `limit`. Reads enumerable getters, so lazily decoded parts are weighed (and any
 * error they would throw surfaces here).
 */
export function weigh(value: unknown, limit: number, seen = new Set<object>()): number {
  if (value === null || value === undefined) return 1;
  switch (typeof value) {
    case "string":
      return 8 + value.length;
    case "object":
      break;
    default:
      return 8;
  }
  const obj = value as object;
  if (seen.has(obj)) return 8;
  seen.add(obj);
  if (ArrayBuffer.isView(obj)) return 16 + obj.byteLength;
  let total = 16;
  if (Array.isArray(obj)) {
    for (const v of obj) {
      total += 8 + weigh(v, limit - total, seen);
      if (total > limit) return total;
    }
    return total;
  }
  if (obj instanceof Error) return 64 + obj.message.length;
  if (obj instanceof Map || obj instanceof Set) {
    for (const v of obj) {
      total += 8 + weigh(v, limit - total, seen);
      if (total > limit) return total;
    }
    return total;
  }
  for (const k in obj) {
    total += 8 + k.length + weigh((obj as Record<string, unknown>)[k], limit - total, seen);
    if (total > limit) return total;
  }
  return total;
}

function describe(err: unknown): string {
  if (err instanceof Error)
    return `${err.name}: ${err.message}\n${err.stack?.split("\n").slice(1, 4).join("\n")}`;
  return String(err);
}

/** Checks one decode: undefined when the properties hold, else what broke. */
export function checkCase(target: FuzzTarget, input: Uint8Array): { problem?: string; rejected: boolean } {
  let result: unknown;
  try {
    result = target.decode(input);
  } catch (err) {
    if (!(err instanceof target.errorClass)) return { problem: `threw ${describe(err)}`, rejected: true };
    if (typeof (err as { code?: unknown }).code !== "string") {
      return { problem: `threw ${err.name} without a code: ${err.message}`, rejected: true };
    }
    return { rejected: true };
  }
  const drop = result as { ok?: unknown; error?: unknown } | undefined;
  const rejected = typeof drop === "object" && drop !== null && drop.ok === false;
  if (rejected && drop?.error !== undefined && !(drop.error instanceof target.errorClass)) {
    return { problem: `dropped with ${describe(drop.error)}`, rejected };
  }
  const limit = (target.weight?.perByte ?? 64) * input.length + (target.weight?.base ?? 4096);
  let w: number;
  try {
    w = weigh(result, limit);
  } catch (err) {
    return { problem: `reading the result threw ${describe(err)}`, rejected };
  }
  if (w > limit) return { problem: `result weighs over ${limit} for ${input.length} input bytes`, rejected };
  if (target.check && !rejected) {
    try {
      target.check(result, input);
    } catch (err) {
      return { problem: `check failed: ${describe(err)}`, rejected };
    }
  }
  return { rejected };
}

/** Runs `cases` mutated inputs through one target. Deterministic for (target, seed, index). */
export function runFuzz(target: FuzzTarget, opts: FuzzOptions): FuzzReport {
  const first = opts.first ?? 0;
  const maxFailures = opts.maxFailures ?? 5;
  const slowMs = opts.slowMs ?? 2000;
  const report: FuzzReport = {
    target: target.name,
    seed: opts.seed,
    cases: 0,
    ms: 0,
    rejected: 0,
    slowestMs: 0,
    failures: [],
  };
  const t0 = performance.now();
  for (let i = first; i < first + opts.cases; i++) {
    if (opts.progress) opts.progress[0] = i;
    const input = fuzzInput(target, opts.seed, i);
    const c0 = performance.now();
    const r = checkCase(target, input);
    const dt = performance.now() - c0;
    report.cases++;
    if (dt > report.slowestMs) report.slowestMs = dt;
    if (r.rejected) report.rejected++;
    let problem = r.problem;
    if (!problem && dt > slowMs) problem = `took ${Math.round(dt)} ms`;
    if (problem) {
      report.failures.push({ target: target.name, seed: opts.seed, index: i, input: toHex(input), problem });
      if (report.failures.length >= maxFailures) break;
    }
  }
  report.ms = performance.now() - t0;
  return report;
}

/** Replays committed inputs (regression fixtures): the problems found, if any. */
export function replayInputs(target: FuzzTarget, inputs: readonly Uint8Array[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    const r = checkCase(target, input);
    if (r.problem) out.push(`${toHex(input).slice(0, 80)}…: ${r.problem}`);
  }
  return out;
}

/** The seed the unit tier runs with (tools/fuzz.mjs prints and takes its own). */
export const CI_FUZZ_SEED = 0x1f5_2026;
/** Cases per target in the unit tier. */
export const CI_FUZZ_CASES = 2000;

// Address text <-> bytes for the PROXY codec: the proxy reads addresses as text from its sockets;
// v2 needs their bytes, and both print the text inet_ntop(3) gives (what haproxy writes). Pure.
// (Moves to @lvs/inet with its address helpers.)

export function ipv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function ipv6Bytes(text: string): Uint8Array | undefined {
  if (text.length > 45 || text.includes("%")) return undefined;
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) stands for the last two groups.
  let head = text;
  let v4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.includes(".", lastColon)) {
    v4 = ipv4Bytes(text.slice(lastColon + 1));
    if (!v4) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0]!);
  const right = halves.length === 2 ? parse(halves[1]!) : [];
  if (!left || !right) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - left.length - right.length;
    if (fill < 1) return undefined;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    groups = left;
  }
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  if (v4) out.set(v4, 12);
  return out;
}

export function formatIPv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** inet_ntop(AF_INET6): the longest run of ≥ 2 zero groups as `::` (the first on a tie), lower-case
 * hex, and the last 32 bits dotted for IPv4-compatible (`::a.b.c.d`) and -mapped (`::ffff:a.b.c.d`). */
export function formatIPv6(b: Uint8Array, at = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? "::" : ":";
      i += bestLen - 1;
      continue;
    }
    if (i === 6 && bestStart === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += formatIPv4(b, at + 12);
      break;
    }
    out += w[i]!.toString(16);
    if (i < 7) out += ":";
  }
  return out;
}

/** The canonical text of an IPv4 or IPv6 address (as inet_ntop prints it), or undefined. */
export function canonicalAddress(text: string): string | undefined {
  const v4 = ipv4Bytes(text);
  if (v4) return formatIPv4(v4);
  const v6 = ipv6Bytes(text);
  return v6 ? formatIPv6(v6) : undefined;
}

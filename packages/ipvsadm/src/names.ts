/**
 * Name lookups for ipvsadm output without -n: /etc/services (getservbyport/getservbyname) and
 * /etc/hosts (the "files" part of gethostbyaddr). DNS is not consulted: with -n (what scripts
 * use) output is exact; without it, names come from those two files only.
 */
import { readFileSync } from "node:fs";
import { canonicalAddress } from "@lvs/inet";
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from "@lvs/ipvs";
import type { NameLookup } from "./format.js";
import type { ServiceByName } from "./values.js";

const PROTO: Record<number, string> = {
  [IPPROTO_TCP]: "tcp",
  [IPPROTO_UDP]: "udp",
  [IPPROTO_SCTP]: "sctp",
};

interface Tables {
  byPort: Map<string, string>;
  byName: Map<string, number>;
  hosts: Map<string, string>;
}

export function parseServicesFile(text: string): {
  byPort: Map<string, string>;
  byName: Map<string, number>;
} {
  const byPort = new Map<string, string>();
  const byName = new Map<string, number>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const m = portProto?.match(/^(\d+)\/(\w+)$/);
    if (!name || !m) continue;
    const key = `${m[1]}/${m[2]}`;
    if (!byPort.has(key)) byPort.set(key, name);
    for (const n of [name, ...aliases])
      if (!byName.has(`${n}/${m[2]}`)) byName.set(`${n}/${m[2]}`, Number(m[1]));
  }
  return { byPort, byName };
}

export function parseHostsFile(text: string): Map<string, string> {
  const hosts = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [addr, name] = line.split(/\s+/);
    if (!addr || !name) continue;
    try {
      const key = canonicalAddress(addr);
      if (!hosts.has(key)) hosts.set(key, name);
    } catch {
      // not an address: ignored like the resolver does
    }
  }
  return hosts;
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

let cached: Tables | undefined;
function tables(): Tables {
  if (!cached) {
    const s = parseServicesFile(read("/etc/services"));
    cached = { ...s, hosts: parseHostsFile(read("/etc/hosts")) };
  }
  return cached;
}

export function systemNames(): NameLookup {
  return {
    host: (_af, address) => tables().hosts.get(address),
    service: (port, protocol) =>
      PROTO[protocol] ? tables().byPort.get(`${port}/${PROTO[protocol]}`) : undefined,
  };
}

export const systemServiceByName: ServiceByName = (name, protocol) =>
  PROTO[protocol] ? tables().byName.get(`${name}/${PROTO[protocol]}`) : undefined;

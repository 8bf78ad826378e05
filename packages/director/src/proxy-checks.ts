// What a configuration must satisfy to run on the userspace proxy (@lvs/proxy), checked once
// per load (start and reload) against the file, with its file:line:
// - fwmark services are refused: a mark is set on a packet by iptables/nft and read by the
//   kernel's IPVS; a userspace listener never sees one;
// - without root, VIP handling is skipped, so each virtual address must already be local
//   (loopback, the wildcard, or an address the host has), else no listener could bind it;
// - lb_kind NAT/DR/TUN all mean full proxy here: one warning saying so (not one per service).
import type { LvsConfig, SourceMap } from "@lvs/config";
import { canonicalAddress } from "@lvs/ipvs";
import { DirectorError, type DirectorErrorCode } from "./errors.js";

export interface ProxyCheckOptions {
  /** VIP handling is skipped (not root): virtual addresses must already be local. */
  localOnly: boolean;
  /** This host's addresses, canonical. */
  local: ReadonlySet<string>;
}

function at(sources: SourceMap | undefined, path: ReadonlyArray<string | number>, file: string): string {
  const p = sources?.positionOf(path);
  return p ? `${p.file}:${p.line}` : file;
}

/** Loopback (127.0.0.0/8, ::1) and the wildcard bind anywhere without an address of their own. */
function alwaysLocal(address: string): boolean {
  const a = canonicalAddress(address);
  return a.startsWith("127.") || a === "::1" || a === "0.0.0.0" || a === "::";
}

/**
 * Throws a DirectorError naming each offending virtual server (file:line) — DIRECTOR_PROXY_FWMARK
 * for fwmark services, DIRECTOR_VIP_NOT_LOCAL for an address the host lacks — and returns the one
 * warning about forwarding methods (undefined when no virtual server names one).
 */
export function checkProxyConfig(
  config: LvsConfig,
  sources: SourceMap | undefined,
  file: string,
  opts: ProxyCheckOptions,
): string | undefined {
  const problems: { code: DirectorErrorCode; line: string }[] = [];
  const isLocal = (a: string) => alwaysLocal(a) || opts.local.has(canonicalAddress(a));
  const notLocal = (where: string, what: string, address: string) =>
    problems.push({
      code: "DIRECTOR_VIP_NOT_LOCAL",
      line: `${where}: ${what}: ${address} is not an address of this host, and without root the VIP can't be added (VRRP and VIP handling are skipped): use 127.0.0.1 or an address the host has`,
    });
  const groups = new Map(config.virtualServerGroups.map((g, i) => [g.name, { g, i }]));
  const methods = new Map<string, number>();
  config.virtualServers.forEach((vs, i) => {
    const where = at(sources, ["virtualServers", i], file);
    for (const m of [vs.lvsMethod, ...vs.realServers.map((r) => r.lvsMethod)])
      if (m) methods.set(m.method, (methods.get(m.method) ?? 0) + 1);
    const key = vs.key;
    if ("fwmark" in key) {
      problems.push({
        code: "DIRECTOR_PROXY_FWMARK",
        line: `${where}: virtual_server fwmark ${key.fwmark}: the proxy dataplane can't serve fwmark services (packet marks are seen only by the kernel's IPVS); use an address and port, or --dataplane ipvs`,
      });
    } else if ("group" in key) {
      const found = groups.get(key.group);
      if (!found) return;
      const gWhere = at(sources, ["virtualServerGroups", found.i], file);
      for (const e of found.g.entries) {
        if ("fwmark" in e) {
          problems.push({
            code: "DIRECTOR_PROXY_FWMARK",
            line: `${gWhere}: virtual_server_group ${key.group}: fwmark ${e.fwmark}: the proxy dataplane can't serve fwmark services (packet marks are seen only by the kernel's IPVS); use addresses and ports, or --dataplane ipvs`,
          });
        } else if (opts.localOnly && (!isLocal(e.address) || (e.lastAddress && !isLocal(e.lastAddress)))) {
          notLocal(
            gWhere,
            `virtual_server_group ${key.group}`,
            e.lastAddress && isLocal(e.address) ? e.lastAddress : e.address,
          );
        }
      }
    } else if (opts.localOnly && !isLocal(key.address)) {
      notLocal(where, `virtual_server ${key.address} ${key.port}`, key.address);
    }
  });
  if (problems.length) {
    throw new DirectorError(
      (problems[0] as { code: DirectorErrorCode }).code,
      problems.map((p) => p.line).join("\n"),
      { object: file },
    );
  }
  if (!methods.size) return undefined;
  const named = [...methods.keys()].join(", ");
  return `lb_kind ${named}: on the proxy dataplane NAT, DR and TUN all mean full proxy — real servers see connections from this host, not the client's address (proxy_protocol v1|v2 in a real_server passes it on), and need no VIP, ARP or route setup`;
}

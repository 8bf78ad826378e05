// Which dataplane `--dataplane auto` runs on, and why (the first log line says it): the kernel's
// IPVS when this kernel has it and we may program it (CAP_NET_ADMIN), else the userspace proxy.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

export type DataplaneKind = "ipvs" | "proxy";
export type DataplaneChoice = DataplaneKind | "auto";

/** CAP_NET_ADMIN (include/uapi/linux/capability.h: 12) in this process's effective set. */
const CAP_NET_ADMIN = 12n;

/** Whether the effective capability set has CAP_NET_ADMIN; undefined when /proc can't tell. */
export function hasNetAdmin(statusText?: string): boolean | undefined {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/status", "utf8");
    } catch {
      return undefined;
    }
  }
  const m = /^CapEff:\s*([0-9a-f]+)$/im.exec(text);
  if (!m) return undefined;
  return ((BigInt(`0x${m[1]}`) >> CAP_NET_ADMIN) & 1n) === 1n;
}

export interface ChoiceProbe {
  /** /proc/net/ip_vs exists (ip_vs loaded in this namespace). */
  ipvsPresent: boolean;
  /** CAP_NET_ADMIN held (undefined: unknown, taken as held). */
  netAdmin: boolean | undefined;
  /** Load ip_vs as keepalived does when IPVS isn't there yet; true when it then is. */
  loadIpvs?: () => boolean;
}

const IPVS_PROC = "/proc/net/ip_vs";

function probeHost(): ChoiceProbe {
  return {
    ipvsPresent: existsSync(IPVS_PROC),
    netAdmin: hasNetAdmin(),
    loadIpvs: () => {
      spawnSync("modprobe", ["ip_vs"], { stdio: "ignore", timeout: 10_000 });
      return existsSync(IPVS_PROC);
    },
  };
}

/** The dataplane for `choice`, with the reason logged at start. */
export async function chooseDataplane(
  choice: DataplaneChoice,
  netns?: string,
  probe: ChoiceProbe = probeHost(),
): Promise<{ kind: DataplaneKind; why: string }> {
  if (choice === "ipvs") return { kind: "ipvs", why: "asked for (--dataplane ipvs)" };
  if (choice === "proxy") return { kind: "proxy", why: "asked for (--dataplane proxy)" };
  // A namespace's /proc/net/ip_vs isn't ours to look at; a director told to program another
  // namespace means the kernel's IPVS.
  if (netns) return { kind: "ipvs", why: `--netns ${netns} programs that namespace's IPVS` };
  if (probe.netAdmin === false)
    return { kind: "proxy", why: "auto: no CAP_NET_ADMIN to program IPVS (not root)" };
  if (!probe.ipvsPresent && !probe.loadIpvs?.())
    return {
      kind: "proxy",
      why: "auto: this kernel has no IPVS (no /proc/net/ip_vs, and modprobe ip_vs did not add it)",
    };
  return { kind: "ipvs", why: "auto: /proc/net/ip_vs present and CAP_NET_ADMIN held" };
}

/**
 * The IPVS rig of the kernel tier (inside tools/vm): modules, a namespace with routable test
 * ranges, and the real ipvsadm run inside it (the peer our output and requests are held to).
 */
import { execFileSync } from "node:child_process";
import { type Netns, Topology } from "./topology.js";

/** Loads IPVS and every scheduler in the VM (the init namespace's modprobe). */
export function loadIpvsModules(): void {
  for (const m of [
    "ip_vs",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_lc",
    "ip_vs_wlc",
    "ip_vs_sed",
    "ip_vs_nq",
    "ip_vs_lblc",
    "ip_vs_lblcr",
    "ip_vs_dh",
    "ip_vs_sh",
    "ip_vs_fo",
    "ip_vs_ovf",
    "ip_vs_mh",
    "ip_vs_twos",
    "ip_vs_pe_sip",
  ]) {
    try {
      execFileSync("modprobe", [m], { stdio: "ignore" });
    } catch {
      // older kernels lack some schedulers (twos is 6.x); tests that need one say so
    }
  }
}

/**
 * A fresh network namespace (IPVS tables are per namespace) with a dummy interface carrying
 * 10.0.0.254/24 and 2001:db8::fe/64, so NAT real servers in those ranges are routable.
 */
export async function ipvsNamespace(label: string): Promise<{ topo: Topology; ns: Netns }> {
  const topo = await Topology.create(label);
  const ns = await topo.addNamespace("d");
  await ns.run(
    "ip link add dummy0 type dummy && ip link set dummy0 up && ip link set lo up && ip addr add 10.0.0.254/24 dev dummy0 && ip addr add 10.1.0.254/16 dev dummy0 && ip -6 addr add 2001:db8::fe/64 dev dummy0 nodad",
  );
  return { topo, ns };
}

/** Runs ipvsadm inside the namespace; stdout, or throws with stderr. */
export async function ipvsadm(ns: Netns, args: string[], input?: string): Promise<string> {
  const r = await ns.exec(["ipvsadm", ...args], input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`ipvsadm ${args.join(" ")} → ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export async function ipvsadmRaw(
  ns: Netns,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await ns.exec(["ipvsadm", ...args], input === undefined ? {} : { input });
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

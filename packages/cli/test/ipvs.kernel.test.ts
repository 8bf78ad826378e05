// Kernel tier: lvsctl ipvs against ipvsadm 1.31 on the same (namespaced) IPVS table.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Netns, Topology } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
let topo: Topology;
let ns: Netns;
const lvsctl = (args: string[], input?: string) =>
  spawnSync(process.execPath, [bin, "ipvs", ...args], {
    encoding: "utf8",
    input,
    env: { ...process.env, LVSCTL_NETNS: ns.path },
  });
const ipvsadm = async (args: string[], input?: string) =>
  (await ns.exec(["ipvsadm", ...args], input === undefined ? {} : { input })).stdout;

beforeAll(async () => {
  for (const m of ["ip_vs", "ip_vs_rr", "ip_vs_wlc", "ip_vs_sh"]) execFileSync("modprobe", [m]);
  topo = await Topology.create("clipvs");
  ns = await topo.addNamespace("d");
  await ns.run(
    "ip link add dummy0 type dummy && ip link set dummy0 up && ip addr add 10.0.0.254/24 dev dummy0 && ip -6 addr add 2001:db8::fe/64 dev dummy0 nodad",
  );
});
afterAll(async () => {
  await topo?.destroy();
});

describe("lvsctl ipvs in a network namespace", () => {
  it("-R an ipvsadm save file, then -Sn / -Ln / --stats match ipvsadm byte for byte", async () => {
    const rules =
      "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 2\n-A -u [2001:db8::1]:53 -s sh -b sh-port -p 60\n-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m -w 1\n";
    const r = lvsctl(["-R"], rules);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    for (const args of [["-Sn"], ["-Ln"], ["-Ln", "--stats"], ["-L", "--timeout"], ["-Lnc"]]) {
      expect(lvsctl(args).stdout, args.join(" ")).toBe(await ipvsadm(args));
    }
    const dup = lvsctl(["-A", "-t", "10.0.0.1:80"]);
    expect([dup.status, dup.stderr]).toEqual([255, "Service already exists\n"]);
    expect(lvsctl(["-C"]).status).toBe(0);
    expect(await ipvsadm(["-Sn"])).toBe("");
  });
});

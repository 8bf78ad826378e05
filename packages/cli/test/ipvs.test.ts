// lvsctl ipvs: ipvsadm's argument checking, through the built binary (no kernel IPVS needed).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
const lvsctl = (args: string[]) => spawnSync(process.execPath, [bin, "ipvs", ...args], { encoding: "utf8" });

describe("lvsctl ipvs argument errors (ipvsadm 1.31's messages and exit codes)", () => {
  it.each([
    [["-A", "-t", "300.0.0.1:80"], 2, "illegal virtual server address[:port] specified\n"],
    [["-A", "-t", "10.0.0.1:80", "-s", "rr", "-s", "wlc"], 2, "multiple 'scheduler' options specified\n"],
    [
      ["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-i", "--tun-type", "gue"],
      2,
      "You need to supply the 'tun-port' option for the 'gue' tunnel type\n",
    ],
    [["-L", "--foo"], 255, "--foo: unknown option\n"],
    [["-n", "-L"], 255, "Try `lvsctl ipvs -h' or 'lvsctl ipvs --help' for more information.\n"],
  ])("lvsctl ipvs %j", (args, code, stderr) => {
    const r = lvsctl(args as string[]);
    expect(r.stderr).toBe(stderr);
    expect(r.status).toBe(code);
  });
  it("-v prints ipvsadm's version line", () => {
    expect(lvsctl(["-v"]).stdout).toMatch(/^ipvsadm v1\.31 /);
  });
});

// lvsctl sched pick through the built binary: small cases checked by hand, and runs that must
// print exactly what Linux's IPVS chose (the kernel tier's recording in @lvs/scheduler).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));

function lvsctl(
  args: string[],
  input: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, "sched", "pick", ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

const lines = (s: string) => s.split("\n").filter(Boolean);

describe("lvsctl sched pick", () => {
  it("rr walks the kernel's list, which holds the last added first; weight 0 is skipped", async () => {
    const r = await lvsctl(
      ["-s", "rr", "-r", "10.0.0.1:80", "-r", "10.0.0.2:80@0", "-r", "10.0.0.3:8080@5"],
      "10.9.0.1:1000\n10.9.0.2:1000\n# a comment\n\n10.9.0.3:1000\n",
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(lines(r.stdout)).toEqual(["10.0.0.3:8080", "10.0.0.1:80", "10.0.0.3:8080"]);
  });

  it("prints - when no real server can take the connection", async () => {
    const r = await lvsctl(["-s", "wlc", "-r", "10.0.0.1:80@0"], "10.9.0.1:1\n10.9.0.1:2\n");
    expect(lines(r.stdout)).toEqual(["-", "-"]);
  });

  it("wlc fills by weight: 3:1 with connections held open", async () => {
    const input = Array.from({ length: 8 }, (_, i) => `10.9.0.${i + 1}:4000`).join("\n");
    const r = await lvsctl(["-s", "wlc", "-r", "10.0.0.1:80@3", "-r", "10.0.0.2:80@1"], input);
    const out = lines(r.stdout);
    expect(out.filter((x) => x === "10.0.0.1:80").length).toBe(6);
    expect(out.filter((x) => x === "10.0.0.2:80").length).toBe(2);
  });

  it("persistence (-p -M) keeps a client network on one server; IPv6 in brackets", async () => {
    const input = [
      "[2001:db8::1]:1000",
      "[2001:db8::2]:1001",
      "[2001:db8:0:1::1]:1002",
      "[2001:db8::3]:1003",
    ].join("\n");
    const r = await lvsctl(
      [
        "-s",
        "rr",
        "-p",
        "60",
        "-M",
        "64",
        "--service",
        "tcp:[2001:db8::100]:443",
        "-r",
        "[2001:db8:1::1]:443",
        "-r",
        "[2001:db8:1::2]:443",
      ],
      input,
    );
    expect(r.stderr).toBe("");
    const out = lines(r.stdout);
    expect(out[0]).toMatch(/^\[2001:db8:1::[12]\]:443$/);
    expect(out[1]).toBe(out[0]);
    expect(out[2]).not.toBe(out[0]);
    expect(out[3]).toBe(out[0]);
  });

  it("reports a bad line with its number and exit status 2", async () => {
    const r = await lvsctl(["-s", "rr", "-r", "10.0.0.1:80"], "10.9.0.1:1\n10.9.0.300:1\n10.9.0.2:1\n");
    expect(lines(r.stdout)).toEqual(["10.0.0.1:80"]);
    expect(r.stderr).toMatch(/stdin:2: not an IPv4 or IPv6 address: "10\.9\.0\.300"/);
    expect(r.status).toBe(2);
  });

  it("refuses bad options with exit status 2", async () => {
    for (const args of [
      ["-s", "fastest", "-r", "10.0.0.1:80"],
      ["-s", "rr"],
      ["-s", "rr", "-r", "10.0.0.1:80@x"],
      ["-s", "rr", "-b", "sh-port", "-r", "10.0.0.1:80"],
      ["-s", "rr", "-M", "24", "-r", "10.0.0.1:80"],
    ]) {
      const r = await lvsctl(args, "");
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/error:/);
    }
  });
});

// The kernel tier of @lvs/scheduler recorded Linux's choice for every connection; the scenarios'
// first batches (real servers added, then connections held open) are exactly what `pick` does.
type Rec = {
  dest?: { dest: string; rs: number; weight: number; x?: number };
  conn?: [string, number, string, number];
  kernel?: string | null;
};
const golden = JSON.parse(
  readFileSync(new URL("../../scheduler/test/fixtures/kernel-golden.json", import.meta.url), "utf8"),
) as Record<
  string,
  {
    scenario: {
      scheduler: string;
      flags?: string;
      family: number;
      port: number;
      fwmark?: number;
      persistent?: { timeout: number; netmask?: string | number };
    };
    record: Rec[];
  }
>;
const RIPS = (family: number, i: number) => (family === 4 ? `10.40.0.${11 + i}` : `[fd00:40::${11 + i}]`);

describe.each([
  "sed",
  "sh (source address, weighted buckets)",
  "mh over IPv6 (address folding in hsiphash)",
  "wrr with a persistent fwmark service (one template per client across VIPs)",
])("lvsctl sched pick prints what Linux chose: %s", (name) => {
  it("connection by connection", async () => {
    const { scenario: sc, record } = golden[name]!;
    const args = ["-s", sc.scheduler];
    if (sc.flags) args.push("-b", sc.flags);
    if (sc.persistent) {
      args.push("-p", String(sc.persistent.timeout));
      if (sc.persistent.netmask !== undefined) args.push("-M", String(sc.persistent.netmask));
    }
    args.push(
      "--service",
      sc.fwmark
        ? `fwmark:${sc.fwmark}`
        : sc.family === 4
          ? `tcp:10.30.0.100:${sc.port}`
          : `tcp:[fd00:30::100]:${sc.port}`,
    );
    let i = 0;
    for (; record[i]?.dest?.dest === "add"; i++) {
      const d = record[i]!.dest!;
      expect(d.x).toBeUndefined(); // pick has no thresholds
      args.push("-r", `${RIPS(sc.family, d.rs)}:8080@${d.weight}`);
    }
    const conns: Rec[] = [];
    // Up to the scenario's first change (a real server edited, connections closed, time passing).
    for (; record[i] && (record[i]!.conn || "table" in record[i]!); i++)
      if (record[i]!.conn) conns.push(record[i]!);
    const take = conns;
    const ep = (a: string, p: number) => (a.includes(":") ? `[${a}]:${p}` : `${a}:${p}`);
    const input = take
      .map((r) => `${ep(r.conn![0], r.conn![1])}${sc.fwmark ? ` ${ep(r.conn![2], r.conn![3])}` : ""}`)
      .join("\n");
    const out = await lvsctl(args, `${input}\n`);
    expect(out.stderr).toBe("");
    expect(take.length).toBeGreaterThan(2);
    expect(lines(out.stdout)).toEqual(take.map((r) => r.kernel ?? "-"));
  });
});

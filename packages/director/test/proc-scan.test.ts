// The /proc/net/ip_vs scanner (proc-ipvs.ts reads the text in place, by character) against a
// reference reader written the plain way — lines split, words split at whitespace — over generated
// tables in the kernel's format (ip_vs_info_seq_show), with junk lines mixed in. The kernel's own
// text is checked in parts.test.ts (a capture) and compare.kernel.test.ts (the VM).
import { forwardFlagOfName } from "@lvs/inet";
import { formatIPv6, type ServiceWithDests } from "@lvs/ipvs";
import { describe, expect, it } from "vitest";
import { parseProcIpvs, parseProcIpvsYielding } from "../src/proc-ipvs.js";
import { TurnBudget } from "../src/turns.js";

const PROTOCOLS: Record<string, number> = { TCP: 6, UDP: 17, SCTP: 132 };

/** The reference: each line trimmed and split at /\s+/, fields converted one by one. */
function referenceParse(text: string): ServiceWithDests[] {
  const v4 = (hex: string) => {
    const n = Number.parseInt(hex, 16);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  };
  const endpoint = (t: string) => {
    if (t.startsWith("[")) {
      const i = t.lastIndexOf("]:");
      const bytes = new Uint8Array(16);
      t.slice(1, i)
        .split(":")
        .forEach((g, k) => {
          const v = Number.parseInt(g, 16);
          bytes[k * 2] = v >> 8;
          bytes[k * 2 + 1] = v & 255;
        });
      return { af: 10, address: formatIPv6(bytes), port: Number.parseInt(t.slice(i + 2), 16) };
    }
    const [a, p] = t.split(":") as [string, string];
    return { af: 2, address: v4(a), port: Number.parseInt(p, 16) };
  };
  const prefix = (hex: string) => {
    const n = Number.parseInt(hex, 16) >>> 0;
    let p = 0;
    while (p < 32 && (n & (0x80000000 >>> p)) !== 0) p++;
    return (p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0) === n ? p : 32;
  };
  const out: ServiceWithDests[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("  -> ")) {
      const f = line.slice(5).trim().split(/\s+/);
      const cur = out.at(-1);
      if (!cur || f.length < 5 || f[0] === "RemoteAddress:Port") continue;
      const ep = endpoint(f[0] as string);
      cur.dests.push({
        ...ep,
        forward: forwardFlagOfName(f[1] as string) ?? 0,
        weight: Number(f[2]),
        upperThreshold: 0,
        lowerThreshold: 0,
        activeConns: Number(f[3]),
        inactiveConns: Number(f[4]),
        persistConns: 0,
        tunnelType: 0,
        tunnelPort: 0,
        tunnelFlags: 0,
        stats: undefined,
        stats64: undefined,
      });
      continue;
    }
    const f = line.trim().split(/\s+/);
    const kind = f[0] as string;
    if (kind !== "FWM" && !(kind in PROTOCOLS)) continue;
    const ep = kind === "FWM" ? { af: 2, address: "0.0.0.0", port: 0 } : endpoint(f[1] as string);
    let flags = 0;
    let timeout = 0;
    let netmask = ep.af === 10 ? 128 : 32;
    for (let i = 3; i < f.length; i++) {
      if (f[i] === "ops") flags |= 4;
      else if (f[i] === "persistent") {
        flags |= 1;
        timeout = Number(f[i + 1]);
        if (ep.af === 2) netmask = prefix(f[i + 2] ?? "FFFFFFFF");
        i += 2;
      }
    }
    out.push({
      service: {
        ...ep,
        protocol: kind === "FWM" ? 0 : (PROTOCOLS[kind] as number),
        fwmark: kind === "FWM" ? Number.parseInt(f[1] as string, 16) : 0,
        scheduler: f[2] ?? "",
        flags,
        timeout,
        netmask,
        peName: undefined,
        stats: undefined,
        stats64: undefined,
      },
      dests: [],
    });
  }
  return out;
}

/** A small deterministic generator (mulberry32), so a failure names its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T,
    chance: (p: number) => next() < p,
  };
}

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, "0");

/** One table as the kernel prints it (widths and spacing of ip_vs_info_seq_show), junk mixed in. */
function generate(seed: number): string {
  const r = rng(seed);
  const lines = [
    "IP Virtual Server version 1.2.1 (size=4096)",
    "Prot LocalAddress:Port Scheduler Flags",
    "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn",
  ];
  const v6 = () =>
    Array.from({ length: 8 }, () => (r.chance(0.5) ? "0000" : hex(r.int(0x10000), 4).toLowerCase())).join(
      ":",
    );
  const addr = (inet6: boolean) => (inet6 ? `[${v6()}]` : hex(r.int(0x100000000), 8));
  for (let s = r.int(30); s > 0; s--) {
    const fwm = r.chance(0.2);
    const inet6 = !fwm && r.chance(0.25);
    const sched = r.pick(["wlc", "rr", "wrr", "lc", "sh", "mh", "dh", "sed", "nq", "fo", "ovf", "twos"]);
    const ops = !inet6 && r.chance(0.2) ? "ops " : "";
    const persistent = r.chance(0.3)
      ? `persistent ${r.pick([0, 300, 360, 7500, 75000, 86400000])} ${hex(r.pick([0xffffffff, 0xffffff00, 0xffff0000, 0, 0xff00ff00]), 8)}`
      : "";
    lines.push(
      fwm
        ? `FWM  ${hex(r.int(0x100000000), 8)} ${sched} ${ops}${persistent}`
        : `${r.pick(["TCP", "UDP", "SCTP"])}  ${addr(inet6)}:${hex(r.int(0x10000), 4)} ${sched} ${ops}${persistent}`,
    );
    for (let d = r.int(6); d > 0; d--) {
      const forward = r.pick(["Masq", "Local", "Tunnel", "Route"]);
      const weight = String(r.pick([0, 1, 2, 100, 65535, 2147483647]));
      const active = String(r.int(100000));
      const inactive = String(r.int(100000));
      lines.push(
        `  -> ${addr(inet6 || (fwm && r.chance(0.2)))}:${hex(r.int(0x10000), 4)}      ${forward.padEnd(7)} ${weight.padEnd(6)} ${active.padEnd(10)} ${inactive.padEnd(10)}`,
      );
    }
    if (r.chance(0.1))
      lines.push(r.pick(["", "   ", "garbage here", "Prot LocalAddress:Port Scheduler Flags"]));
  }
  return `${lines.join("\n")}${r.chance(0.5) ? "\n" : ""}`;
}

describe("the /proc/net/ip_vs scanner", () => {
  it("reads 300 generated tables as the line-and-word reference does", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const text = generate(seed);
      expect(parseProcIpvs(text), `seed ${seed}`).toEqual(referenceParse(text));
    }
  });

  it("reads the same when it gives the event loop turns every few lines", async () => {
    let now = 0;
    const clock = () => {
      now += 0.6;
      return now;
    };
    const budget = new TurnBudget({ budgetMs: 1, clock, yieldTurn: async () => {} });
    // Long enough that the lines are read in several slices.
    const text = Array.from({ length: 20 }, (_, i) => generate(i + 1)).join("\n");
    expect(await parseProcIpvsYielding(text, budget)).toEqual(referenceParse(text));
    expect(budget.yields).toBeGreaterThan(1);
  });

  it("skips a line it cannot read instead of making up an address", () => {
    const text = [
      "TCP  0A00000G:0050 wlc", // not hex
      "TCP  0A000001:0050 wlc",
      "  -> 0A00:0050      Route   1      0          0", // address too short
      "  -> [2001:db8::1]:0050      Route   1      0          0", // not %pI6's eight groups
      "  -> 0A000002:1F90      Route   3      1          2",
      "UDP  0A000001",
      "FWM  XYZ sh",
    ].join("\n");
    const t = parseProcIpvs(text);
    expect(t).toHaveLength(1);
    expect(t[0]?.service).toMatchObject({ protocol: 6, address: "10.0.0.1", port: 80, scheduler: "wlc" });
    expect(
      t[0]?.dests.map((d) => [d.address, d.port, d.forward, d.weight, d.activeConns, d.inactiveConns]),
    ).toEqual([["10.0.0.2", 8080, 3, 3, 1, 2]]);
  });
});

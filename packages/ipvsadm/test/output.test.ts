// ipvsadm's exact output, from the kernel replies ipvsadm itself received in the same run
// (captured in the VM by scripts/capture-output.sh): our parser + formatter must print the same bytes.
import { readFileSync } from "node:fs";
import {
  type DestinationEntry,
  daemonFromAttrs,
  decodeIpvsMessage,
  destEntryFromAttrs,
  type IpvsClient,
  IpvsCmd,
  type IpvsMessage,
  infoFromMessage,
  NLMSG_DONE,
  parseNlMsgs,
  type ServiceEntry,
  serviceEntryFromAttrs,
  timeoutsFromMessage,
  unhex,
} from "@lvs/ipvs";
import { describe, expect, it } from "vitest";
import { compareServices, Fmt, glibcSort, largeNum } from "../src/format.js";
import { parseServicesFile } from "../src/names.js";
import { runIpvsadm } from "../src/run.js";

type Variant = { received: string[]; stdout: string; proc?: string };
const variants: Record<string, Variant> = JSON.parse(
  readFileSync(new URL("./fixtures/ipvsadm-output.json", import.meta.url), "utf8"),
);
const IPVS_FAMILY = 0x20;

/** Splits the captured replies into request groups (each ends with DONE or is a single reply). */
function groups(v: Variant): IpvsMessage[][] {
  const out: IpvsMessage[][] = [];
  let cur: IpvsMessage[] = [];
  for (const h of v.received) {
    for (const m of parseNlMsgs(unhex(h))) {
      if (m.type === NLMSG_DONE) {
        out.push(cur);
        cur = [];
      } else if (m.type === IPVS_FAMILY) {
        const msg = decodeIpvsMessage(m.payload);
        if (m.flags & 2) cur.push(msg);
        else out.push([msg]);
      }
    }
  }
  return out;
}

/** A stand-in client answering from one capture (what the kernel told ipvsadm). */
function replayClient(v: Variant, nosort: boolean): IpvsClient {
  const g = groups(v);
  const info = infoFromMessage((g.find((x) => x[0]?.cmd === IpvsCmd.SET_INFO) ?? [])[0] ?? { cmd: 0 });
  const rest = g.filter((x) => x[0]?.cmd !== IpvsCmd.SET_INFO);
  const svcGroup = rest[0] ?? [];
  const services: ServiceEntry[] = svcGroup
    .filter((m) => m.service)
    .map((m) => serviceEntryFromAttrs(m.service ?? {}));
  const ordered = nosort ? services : glibcSort(services, compareServices);
  const destGroups = rest.slice(1);
  const destsOf = (i: number, af: number): DestinationEntry[] =>
    (destGroups[i] ?? []).filter((m) => m.dest).map((m) => destEntryFromAttrs(m.dest ?? {}, af));
  const fake = {
    info: async () => info,
    table: async () => ordered.map((service, i) => ({ service, dests: destsOf(i, service.af) })),
    service: async () => services[0] as ServiceEntry,
    dests: async () => destsOf(0, services[0]?.af ?? 2),
    timeouts: async () => timeoutsFromMessage(svcGroup[0] ?? { cmd: 0 }),
    daemons: async () => svcGroup.filter((m) => m.daemon).map((m) => daemonFromAttrs(m.daemon ?? {})),
  };
  return fake as unknown as IpvsClient;
}

const services = parseServicesFile(readFileSync(new URL("./fixtures/etc-services", import.meta.url), "utf8"));
const names = {
  host: () => undefined,
  service: (port: number, proto: number) =>
    services.byPort.get(`${port}/${proto === 6 ? "tcp" : proto === 17 ? "udp" : "sctp"}`),
};

describe("ipvsadm -L/-S output, byte for byte", () => {
  it.each(Object.keys(variants))("ipvsadm %s", async (variant) => {
    const v = variants[variant] as Variant;
    const argv = variant.split(" ");
    const r = await runIpvsadm(argv, {
      client: replayClient(v, variant.includes("--nosort")),
      names,
      readConnections: () => v.proc ?? "",
    });
    if (variant.includes("c") && !v.proc) return; // connection list changed during that capture
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(v.stdout);
  });
});

describe("print_largenum", () => {
  it.each([
    [0n, 0, "        0"],
    [99999999n, 0, " 99999999"],
    [100000000n, 0, "  100000K"],
    [999999999n, 0, "  999999K"],
    [1000000000n, 0, "    1000M"],
    [99999999999n, 0, "   99999M"],
    [100000000000n, 0, "     100G"],
    [100000000000000n, 0, "     100T"],
    [123456789012n, Fmt.EXACT, " 123456789012"],
    [12n, Fmt.EXACT, "       12"],
  ])("%s (format %i)", (n, f, text) => expect(largeNum(n, f)).toBe(text));
});

describe("libipvs sort order (int-wrapping comparator, glibc merge sort)", () => {
  it("10.x sorts after 200.x: the unsigned difference wraps positive", () => {
    const mk = (address: string): ServiceEntry => ({
      af: 2,
      protocol: 6,
      address,
      port: 80,
      fwmark: 0,
      scheduler: "rr",
      flags: 0,
      timeout: 0,
      netmask: 32,
      peName: undefined,
      stats: undefined,
      stats64: undefined,
    });
    expect(
      glibcSort([mk("10.0.0.1"), mk("200.0.0.1"), mk("10.0.0.2")], compareServices).map((s) => s.address),
    ).toEqual(["200.0.0.1", "10.0.0.1", "10.0.0.2"]);
  });
});

// ~SEQ / ~SEQx / ~LST blocks, with keepalived.conf(5)'s own examples.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
import { describe, expect, it } from "vitest";
import { parseSequence } from "../src/sequence.js";
import { issues, parse } from "./helpers.js";

const vipsOf = (body: string) =>
  parse(
    `vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n${body}\n  }\n}\n`,
  ).config.vrrpInstances[0]!.virtualIpaddress.map((v) => v.address);

describe("~SEQ and ~LST", () => {
  it("~SEQ(SUBNET, 0, 3): four lines", () => {
    expect(vipsOf("    ~SEQ(SUBNET, 0, 3) 10.0.${SUBNET}.1")).toEqual([
      "10.0.0.1",
      "10.0.1.1",
      "10.0.2.1",
      "10.0.3.1",
    ]);
  });

  it("~SEQx with a step, in hex, and two on one line", () => {
    expect(vipsOf("    ~SEQx(SUBNET, 0x90, 0x10, 0xc0) fe80::20:${SUBNET}:1")).toEqual([
      "fe80::20:90:1",
      "fe80::20:a0:1",
      "fe80::20:b0:1",
      "fe80::20:c0:1",
    ]);
    expect(
      vipsOf("    ~SEQx(AD2, 0x90, 0x10, 0xa0) ~SEQx(AD1, 0x12, -1, 0x11) fe81::10:${AD2}:${AD1}"),
    ).toEqual(["fe81::10:90:12", "fe81::10:90:11", "fe81::10:a0:12", "fe81::10:a0:11"]);
  });

  it("~SEQ defaults: start 1 (or -1), step ±1", () => {
    expect(parseSequence("~SEQ(N, 3) x", 100).bindings).toEqual([["1"], ["2"], ["3"]]);
    expect(parseSequence("~SEQ(N, 5, 3) x", 100).bindings).toEqual([["5"], ["4"], ["3"]]);
    expect(parseSequence("~SEQ(N, -2) x", 100).bindings).toEqual([["-1"], ["-2"]]);
  });

  it("~LST with several variables and combined with ~SEQ", () => {
    expect(vipsOf("    ~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,170) 192.${IP2}.${IP}.${IP1}")).toEqual([
      "192.168.10.1",
      "192.170.10.1",
      "192.168.20.4",
      "192.170.20.4",
    ]);
    expect(vipsOf("    ~LST(IP, 1, 2) ~LST(IP1, 5,6) 192.169.${IP}.${IP1}")).toEqual([
      "192.169.1.5",
      "192.169.1.6",
      "192.169.2.5",
      "192.169.2.6",
    ]);
  });

  it("whole blocks from a multi-line definition", () => {
    const r = parse(
      "$VI=vrrp_instance VI_${N} { \\\n  interface eth0 \\\n  virtual_router_id ${N} \\\n  virtual_ipaddress { 10.0.0.${N} } \\\n}\n~SEQ(N, 1, 3) $VI\n",
    );
    expect(r.config.vrrpInstances.map((i) => [i.name, i.virtualRouterId])).toEqual([
      ["VI_1", 1],
      ["VI_2", 2],
      ["VI_3", 3],
    ]);
  });

  it("a bad spec is an error at its position; a huge one is bounded", () => {
    const i = issues("~SEQ(N, 1, 0, 5) x\n");
    expect(i.map((x) => [x.code, x.line, x.column])).toEqual([["CONFIG_BAD_DEFINITION", 1, 1]]);
    expect(i[0]!.message).toMatch(/step is 0/);
    const big = issues("~SEQ(N, 1, 100000000) router_id ${N}\n");
    expect(big.some((x) => x.code === "CONFIG_BAD_DEFINITION" && /more than/.test(x.message))).toBe(true);
  });
});

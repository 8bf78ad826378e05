// keepalived's VRRP process scheduling keywords (keepalived.conf(5) global_defs): read into the
// model so the director can renice its isolated VRRP child, with keepalived's ranges.
import { describe, expect, it } from "vitest";
import { parseYamlConfig } from "../src/index.js";
import { issues, parse, where } from "./helpers.js";

describe("vrrp_priority / vrrp_rt_priority", () => {
  it("are read into globalDefs (no longer ignored)", () => {
    const r = parse("global_defs {\n  vrrp_priority -15\n  vrrp_rt_priority 40\n}\n");
    expect(r.config.globalDefs).toMatchObject({ vrrpPriority: -15, vrrpRtPriority: 40 });
    expect(r.warnings).toEqual([]);
  });

  it("unset: absent (the caller picks its default)", () => {
    const g = parse("global_defs {\n  router_id a\n}\n").config.globalDefs;
    expect(g.vrrpPriority).toBeUndefined();
    expect(g.vrrpRtPriority).toBeUndefined();
  });

  it.each([
    ["vrrp_priority -21", "vrrpPriority"],
    ["vrrp_priority 20", "vrrpPriority"],
    ["vrrp_priority high", "vrrpPriority"],
    ["vrrp_rt_priority 0", "vrrpRtPriority"],
    ["vrrp_rt_priority 100", "vrrpRtPriority"],
  ])("out of range: %s is an error at its line", (line, _field) => {
    const found = issues(`global_defs {\n  ${line}\n}\n`);
    const errors = where(found).filter((w) => !w.startsWith("w:"));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/@2:\d+$/);
  });

  it("the YAML form carries the same fields", () => {
    const r = parseYamlConfig("globalDefs:\n  vrrpPriority: -5\n", { file: "t.yaml" });
    expect(r.config.globalDefs.vrrpPriority).toBe(-5);
  });
});

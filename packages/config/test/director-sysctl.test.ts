// `lvs_director_sysctl` in global_defs: our extension asking the director to set the sysctls its
// LVS part needs at start and restore them at stop. A flag like lvs_flush; its YAML twin
// `lvsDirectorSysctl`; an extra word is warned about as for any flag.
import { describe, expect, it } from "vitest";
import { convertToYaml, parseYamlConfig } from "../src/index.js";
import { issues, parse, where } from "./helpers.js";

const conf = (line: string) => `global_defs {\n  ${line}\n}\n`;

describe("lvs_director_sysctl in global_defs", () => {
  it("reaches the model, converts to YAML and back; absent stays absent", () => {
    const r = parse(conf("lvs_director_sysctl"));
    expect(r.config.globalDefs.lvsDirectorSysctl).toBe(true);
    const yaml = convertToYaml(r.config);
    expect(yaml).toContain("lvsDirectorSysctl: true");
    expect(parseYamlConfig(yaml).config.globalDefs.lvsDirectorSysctl).toBe(true);
    expect(parse(conf("router_id a")).config.globalDefs).not.toHaveProperty("lvsDirectorSysctl");
  });

  it("YAML: a boolean; anything else is an error", () => {
    expect(
      parseYamlConfig("globalDefs:\n  lvsDirectorSysctl: false\n").config.globalDefs.lvsDirectorSysctl,
    ).toBe(false);
    expect(() => parseYamlConfig('globalDefs:\n  lvsDirectorSysctl: "yes please"\n')).toThrow(
      /lvsDirectorSysctl/,
    );
  });

  it("an argument is warned about at its position, as for lvs_flush", () => {
    expect(where(issues(conf("lvs_director_sysctl 1")))).toEqual(["w:CONFIG_EXTRA_PARAMETER@2:23"]);
  });
});

// The native YAML/JSON format: same model, schema errors at file:line:column, round trips.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  configJsonSchema,
  convertToYaml,
  detectFormat,
  loadKeepalivedConf,
  parseYamlConfig,
} from "../src/index.js";
import { fixtures, users } from "./helpers.js";

function yamlIssues(text: string) {
  try {
    return parseYamlConfig(text, { file: "c.yaml", lookupUser: users }).warnings;
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
}

const SAMPLES = "/usr/share/doc/keepalived/samples";
const samples = (() => {
  try {
    return readdirSync(SAMPLES)
      .filter((f) => f.startsWith("keepalived.conf"))
      .map((f) => join(SAMPLES, f));
  } catch {
    return [];
  }
})();

describe("YAML", () => {
  it("loads the same model keepalived.conf gives", () => {
    const yaml = `
globalDefs:
  routerId: LVS_1
vrrpScripts:
  - name: chk
    script: [/usr/bin/pgrep, haproxy]
    weight: -2
    fall: 2
    user: nobody
vrrpInstances:
  - name: VI_1
    state: MASTER
    interface: eth0
    virtualRouterId: 51
    priority: 150
    virtualIpaddress:
      - { address: 10.0.0.1, prefix: 24, dev: eth0, label: "eth0:1" }
    trackScript: [{ name: chk }]
virtualServers:
  - key: { address: 10.0.0.1, port: 80 }
    lvsSched: rr
    protocol: TCP
    delayLoop: 5
    realServers:
      - address: 10.0.0.11
        port: 80
        checkers:
          - check: { type: tcp, connectTimeout: 2 }
`;
    const conf = `global_defs {
  router_id LVS_1
}
vrrp_script chk {
  script "/usr/bin/pgrep haproxy"
  weight -2
  fall 2
  user nobody
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  virtual_ipaddress {
    10.0.0.1/24 dev eth0 label eth0:1
  }
  track_script {
    chk
  }
}
virtual_server 10.0.0.1 80 {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  delay_loop 5
  real_server 10.0.0.11 80 {
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
`;
    const a = parseYamlConfig(yaml, { lookupUser: users }).config;
    const b = loadKeepalivedConf("/k.conf", { readFile: () => conf, lookupUser: users }).config;
    expect(a).toEqual(b);
    expect(a.vrrpScripts[0]!.user).toEqual({ user: "nobody", uid: 65534, gid: 65534 });
    expect(a.virtualServers[0]!.realServers[0]!.checkers[0]).toEqual({
      kind: "TCP_CHECK",
      check: { type: "tcp", connectIp: "10.0.0.11", connectPort: 80, connectTimeout: 2 },
      policy: { delayLoop: 5, retry: 1, delayBeforeRetry: 1, warmup: 5, alpha: false, weight: 1 },
    });
  });

  it("schema errors point at the value and say what to write", () => {
    const text =
      "vrrpInstances:\n  - name: VI_1\n    interface: eth0\n    virtualRouterId: 51\n    priority: 300\n    state: master\n";
    expect(yamlIssues(text).map((i) => `${i.line}:${i.column} ${i.message}`)).toEqual([
      "5:15 vrrpInstances.0.priority must be an integer 1..255 (255 = address owner); write `priority: 100`",
      '6:12 vrrpInstances.0.state must be one of MASTER, BACKUP; write `state: "BACKUP"`',
    ]);
  });

  it("a missing required key is reported at its object", () => {
    const i = yamlIssues("vrrpInstances:\n  - name: VI_1\n    interface: eth0\n");
    expect(i.map((x) => `${x.code}@${x.line}:${x.column}`)).toEqual(["CONFIG_SCHEMA@2:5"]);
    expect(i[0]!.message).toBe(
      "vrrpInstances.0: virtualRouterId is required: an integer 1..255; write `virtualRouterId: 51`",
    );
  });

  it("unknown keys are errors with a suggestion", () => {
    const i = yamlIssues(
      "vrrpInstances:\n  - name: VI_1\n    interface: eth0\n    virtualRouterId: 5\n    prority: 100\n",
    );
    expect(i.map((x) => `${x.line}:${x.column} ${x.message}`)).toEqual([
      "5:5 unknown key `vrrpInstances.0.prority`; did you mean `priority`?",
    ]);
  });

  it("YAML syntax errors have positions; duplicate keys are errors", () => {
    expect(yamlIssues("a: [1, 2\n").map((x) => x.code)).toContain("CONFIG_YAML_SYNTAX");
    const dup = yamlIssues("globalDefs:\n  routerId: a\n  routerId: b\n");
    expect(dup.map((x) => `${x.code}@${x.line}:${x.column}`)).toEqual(["CONFIG_YAML_SYNTAX@3:3"]);
  });

  it("cross references are checked the same way", () => {
    const i = yamlIssues(
      "vrrpInstances:\n  - name: VI_1\n    interface: eth0\n    virtualRouterId: 5\n    trackScript: [{ name: nope }]\n",
    );
    expect(i.map((x) => `${x.code}@${x.line}:${x.column}`)).toEqual(["CONFIG_BAD_REFERENCE@5:27"]);
  });

  it("JSON is YAML too", () => {
    const r = parseYamlConfig('{"vrrpInstances":[{"name":"VI_1","interface":"eth0","virtualRouterId":7}]}', {
      lookupUser: users,
    });
    expect(r.config.vrrpInstances[0]!.priority).toBe(100);
  });

  it("detects the format by extension, then by content", () => {
    expect(detectFormat("x.yaml", "")).toBe("yaml");
    expect(detectFormat("/etc/keepalived/keepalived.conf", "")).toBe("keepalived");
    expect(detectFormat("lvs.cfg", "# c\nvrrpInstances:\n")).toBe("yaml");
    expect(detectFormat("lvs.cfg", "! c\nvrrp_instance VI_1 {\n")).toBe("keepalived");
  });
});

describe("convertToYaml round trip: loading the YAML gives an equal model", () => {
  const golden = readdirSync(join(fixtures, "golden"))
    .filter((f) => f.endsWith(".conf"))
    .map((f) => join(fixtures, "golden", f));
  it.each([...golden, ...samples])("%s", (path) => {
    let model: ReturnType<typeof loadKeepalivedConf>["config"];
    try {
      model = loadKeepalivedConf(path, { lookupUser: users, configId: "lb1" }).config;
    } catch (_e) {
      // two of keepalived's own samples are broken (keepalived -t rejects them too)
      expect(path).toMatch(/conditional_conf|lvs_syncd/);
      return;
    }
    const yaml = convertToYaml(model);
    expect(parseYamlConfig(yaml, { lookupUser: users }).config).toEqual(model);
    // and the output is compact: no default values written out
    expect(yaml).not.toMatch(/nopreempt: false|home: false|inhibitOnFailure: false/);
  });
});

describe("JSON Schema", () => {
  const schema = configJsonSchema() as { $schema: string; $id: string; properties: Record<string, unknown> };
  it("is draft 2020-12 with the model's top-level keys", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(Object.keys(schema.properties)).toEqual([
      "$schema",
      "globalDefs",
      "vrrpScripts",
      "vrrpSyncGroups",
      "vrrpInstances",
      "virtualServerGroups",
      "virtualServers",
      "bgp",
    ]);
  });
  it("carries ranges and defaults from the same definitions", () => {
    const inst = JSON.stringify(schema);
    expect(inst).toContain('"priority":{"default":100,"type":"integer","minimum":1,"maximum":255}');
    expect(
      JSON.parse(readFileSync(new URL("../schema/config.schema.json", import.meta.url), "utf8")),
    ).toEqual(schema);
  });
});

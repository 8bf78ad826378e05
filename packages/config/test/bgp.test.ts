// The YAML/JSON-only `bgp:` section: parsed into the model as written, its mistakes reported at
// file:line:column like any other key, and absent from keepalived.conf-parsed configurations.
import { describe, expect, it } from "vitest";
import { ConfigError, configJsonSchema, parseKeepalivedConf, parseYamlConfig } from "../src/index.js";
import { users } from "./helpers.js";

const parse = (text: string) => parseYamlConfig(text, { file: "c.yaml", lookupUser: users });
function issues(text: string): string[] {
  try {
    parse(text);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  }
}

describe("bgp: section", () => {
  it("parses peers, communities, next hops and timers", () => {
    const { config } = parse(`bgp:
  localAs: 4200000001
  routerId: 192.0.2.1
  holdTime: 9
  netns: edge
  nextHops: [192.0.2.1, "2001:db8::1"]
  communities: ["65001:100", graceful-shutdown]
  peers:
    - { address: 192.0.2.254, as: 65000 }
    - { address: "2001:db8::fe", as: 65000, port: 1179, localAddress: "2001:db8::1" }
`);
    expect(config.bgp).toEqual({
      localAs: 4200000001,
      routerId: "192.0.2.1",
      holdTime: 9,
      netns: "edge",
      nextHops: ["192.0.2.1", "2001:db8::1"],
      communities: ["65001:100", "graceful-shutdown"],
      peers: [
        { address: "192.0.2.254", as: 65000 },
        { address: "2001:db8::fe", as: 65000, port: 1179, localAddress: "2001:db8::1" },
      ],
    });
  });

  it("reports each mistake at its line and column", () => {
    expect(issues("bgp:\n  localAs: 0\n  holdTime: 2\n  peers: []\n")).toEqual([
      "2:12 bgp.localAs must be an integer 1..4294967295; write `localAs: 65001`",
      "3:13 bgp.holdTime must be 0 or at least 3 (RFC 4271); write `holdTime: 90`",
      '4:10 bgp.peers needs at least one peer; write `peers: [{"address":"10.0.0.1","as":65000}]`',
    ]);
    expect(issues("bgp:\n  localAs: 1\n  peers:\n    - { address: router1, as: 2 }\n")).toHaveLength(1);
    expect(
      issues("bgp:\n  localAs: 1\n  peers:\n    - { address: 10.0.0.1, as: 2, password: x }\n")[0],
    ).toMatch(/unknown key/);
  });

  it("announceWhenMaster: one instance or a list, each naming a vrrp_instance (file:line otherwise)", () => {
    const vrrp = `vrrpInstances:
  - { name: VI_1, interface: eth0, virtualRouterId: 51, priority: 100, virtualIpaddress: [{ address: 192.0.2.10, prefix: 32 }] }
  - { name: VI_2, interface: eth0, virtualRouterId: 52, priority: 100, virtualIpaddress: [{ address: 192.0.2.11, prefix: 32 }] }
`;
    const peers = "  peers:\n    - { address: 10.0.0.1, as: 65000 }\n";
    expect(
      parse(`${vrrp}bgp:\n  localAs: 1\n  announceWhenMaster: VI_1\n${peers}`).config.bgp?.announceWhenMaster,
    ).toBe("VI_1");
    expect(
      parse(`${vrrp}bgp:\n  localAs: 1\n  announceWhenMaster: [VI_1, VI_2]\n${peers}`).config.bgp
        ?.announceWhenMaster,
    ).toEqual(["VI_1", "VI_2"]);
    expect(issues(`${vrrp}bgp:\n  localAs: 1\n  announceWhenMaster: VI_3\n${peers}`)).toEqual([
      "6:23 bgp.announceWhenMaster: `VI_3` is no vrrp_instance; did you mean `VI_1`?",
    ]);
    expect(
      issues(`${vrrp}bgp:\n  localAs: 1\n  announceWhenMaster:\n    - VI_2\n    - VI_9\n${peers}`),
    ).toEqual(["8:7 bgp.announceWhenMaster: `VI_9` is no vrrp_instance; did you mean `VI_1`?"]);
    expect(issues(`bgp:\n  localAs: 1\n  announceWhenMaster: VI_1\n${peers}`)).toEqual([
      "3:23 bgp.announceWhenMaster: `VI_1` is no vrrp_instance (this file has no vrrpInstances)",
    ]);
    expect(issues(`bgp:\n  localAs: 1\n  announceWhenMaster: []\n${peers}`)[0]).toMatch(
      /needs at least one instance/,
    );
  });

  it("refuses the same router address and port twice", () => {
    expect(
      issues(
        "bgp:\n  localAs: 1\n  peers:\n    - { address: 10.0.0.1, as: 2 }\n    - { address: 10.0.0.1, as: 3 }\n",
      ),
    ).toEqual([
      "5:18 bgp.peers: 10.0.0.1 port 179 is already peer 1; one session per router address and port",
    ]);
    expect(
      issues(
        "bgp:\n  localAs: 1\n  peers:\n    - { address: 10.0.0.1, as: 2 }\n    - { address: 10.0.0.1, as: 2, port: 1179 }\n",
      ),
    ).toEqual([]);
  });

  it("is absent without a bgp: key, and from keepalived.conf", () => {
    expect(parse("virtualServers: []\n").config.bgp).toBeUndefined();
    expect(parseKeepalivedConf("global_defs {\n}\n").config.bgp).toBeUndefined();
  });

  it("is in the published JSON Schema", () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown> };
    expect(schema.properties.bgp).toBeDefined();
  });
});

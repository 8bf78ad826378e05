// `proxy_protocol v1|v2` in a real_server block: our extension for the proxy dataplane (haproxy's
// send-proxy / send-proxy-v2), and its YAML twin `proxyProtocol`. Checked like any keyword:
// a bad value and a non-TCP service are errors at their file:line.
import { describe, expect, it } from "vitest";
import { parseYamlConfig } from "../src/index.js";
import { issues, parse, users, where } from "./helpers.js";

const conf = (proto: string, value: string) => `virtual_server 127.0.0.1 8080 {
  lb_algo rr
  protocol ${proto}
  real_server 127.0.0.1 8081 {
    proxy_protocol ${value}
  }
  real_server 127.0.0.1 8082 {
  }
}
`;

describe("proxy_protocol in real_server", () => {
  it("v1 and v2 reach the model; absent stays absent", () => {
    for (const v of ["v1", "v2"] as const) {
      const [vs] = parse(conf("TCP", v)).config.virtualServers;
      expect(vs?.realServers[0]?.proxyProtocol).toBe(v);
      expect(vs?.realServers[1]).not.toHaveProperty("proxyProtocol");
    }
  });

  it("another value, or a UDP service, is an error at its line", () => {
    const errors = (text: string) => issues(text).filter((i) => i.severity === "error");
    expect(where(errors(conf("TCP", "v3")))).toEqual(["CONFIG_SCHEMA@5:20"]);
    const udp = errors(conf("UDP", "v2"));
    expect(where(udp)).toEqual(["CONFIG_INVALID_VALUE@5:20"]);
    expect(udp[0]?.message).toContain("the PROXY header opens a TCP stream");
  });

  it("YAML: proxyProtocol, the same checks", () => {
    const yaml = (v: string, proto = "TCP") => `virtualServers:
  - key: { address: 127.0.0.1, port: 8080 }
    protocol: ${proto}
    realServers:
      - { address: 127.0.0.1, port: 8081, proxyProtocol: ${v} }
`;
    const cfg = parseYamlConfig(yaml("v2"), { file: "c.yaml", lookupUser: users }).config;
    expect(cfg.virtualServers[0]?.realServers[0]?.proxyProtocol).toBe("v2");
    expect(() => parseYamlConfig(yaml("v9"), { file: "c.yaml", lookupUser: users })).toThrow(/proxyProtocol/);
    expect(() => parseYamlConfig(yaml("v1", "UDP"), { file: "c.yaml", lookupUser: users })).toThrow(
      /PROXY header opens a TCP stream/,
    );
  });
});

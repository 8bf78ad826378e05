import { ConfigError, convertToYaml, formatIssue, parseKeepalivedConf, parseYamlConfig } from "@lvs/config";

export function example(): { summary: string; yaml: string; sameModel: boolean; error: string } {
  const conf = `
vrrp_script chk_down {
    script "/usr/bin/test ! -e /etc/keepalived/down"
    interval 3
    weight -2
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 101
    virtual_ipaddress {
        172.16.100.1/16 dev eth0 label eth0:0
    }
    track_script {
        chk_down
    }
}
virtual_server 172.16.100.1 80 {
    lb_algo wlc
    lb_kind DR
    protocol TCP
    real_server 172.16.100.11 80 {
        HTTP_GET {
            url {
                path /
                status_code 200
            }
        }
    }
}
`;
  // keepalived.conf → the typed model (includes resolve relative to `file`).
  const { config, warnings } = parseKeepalivedConf(conf, { file: "/etc/keepalived/keepalived.conf" });
  const vi = config.vrrpInstances[0]!;
  const checker = config.virtualServers[0]!.realServers[0]!.checkers[0]!;
  const summary = `${vi.name} vrid ${vi.virtualRouterId} prio ${vi.priority} tracks ${vi.trackScript[0]!.name}; ${checker.kind} ${checker.check.type} every ${checker.policy.delayLoop}s; ${warnings.length} warnings`;

  // The same model as native YAML, and back.
  const yaml = convertToYaml(config);
  const sameModel = JSON.stringify(parseYamlConfig(yaml).config) === JSON.stringify(config);

  // Mistakes come back as file:line:column with what to write instead.
  let error = "";
  try {
    parseKeepalivedConf(
      "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 300\n}\n",
      { file: "k.conf" },
    );
  } catch (e) {
    if (e instanceof ConfigError) error = e.issues.map(formatIssue).join("\n");
  }
  return { summary, yaml, sameModel, error };
}

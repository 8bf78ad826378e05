// Kernel tier (tools/vm): keepalived 2.2.7 and our director read the same keepalived.conf, each
// in its own network namespace (each has its own IPVS), with the same real servers behind one
// bridge — some healthy, one answering 503, one with its port closed, one absent. Once both
// have settled, `ipvsadm -Sn` of the two namespaces must be identical.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IpvsClient, serviceId } from "@lvs/ipvs";
import { keepalivedArgv, type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProcIpvs } from "../src/proc-ipvs.js";
import { directorCheckArgv } from "./helpers.js";

const SERVERS = fileURLToPath(new URL("./fixtures/servers.mjs", import.meta.url));

const chk = "connect_timeout 1\n      retry 0\n      delay_before_retry 1";
const tcp = (port?: number) =>
  `TCP_CHECK {\n      ${chk}${port ? `\n      connect_port ${port}` : ""}\n    }`;
const http = `HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      ${chk}\n    }`;

// .11-.13 healthy HTTP on 8080, .14 answers 503, .15 has nothing listening, .16 does not exist.
const CONF = `global_defs {
  router_id compare
}
virtual_server_group G1 {
  10.73.0.10-12 80
  fwmark 21
}
virtual_server_group G2 {
  10.73.1.1 8080
}
! NAT, wrr, HTTP_GET: one healthy, one 503, one closed port
virtual_server 10.73.0.1 80 {
  delay_loop 1
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  real_server 10.72.0.11 8080 {
    weight 3
    ${http}
  }
  real_server 10.72.0.14 8080 {
    weight 2
    ${http}
  }
  real_server 10.72.0.15 8080 {
    ${tcp()}
  }
}
! DR, persistence with granularity, inhibit_on_failure
virtual_server 10.73.0.2 8080 {
  delay_loop 1
  lb_algo wlc
  lb_kind DR
  protocol TCP
  persistence_timeout 120
  persistence_granularity 255.255.255.0
  inhibit_on_failure
  real_server 10.72.0.12 8080 {
    weight 4
    ${tcp()}
  }
  real_server 10.72.0.15 8080 {
    ${tcp()}
  }
}
! TUN (gue), every real server down: the sorry server serves
virtual_server 10.73.0.3 8080 {
  delay_loop 1
  lb_algo rr
  lvs_method TUN type gue port 6080 csum
  protocol TCP
  sorry_server 10.72.0.13 8080
  real_server 10.72.0.15 8080 {
    ${tcp()}
  }
  real_server 10.72.0.16 8080 {
    ${tcp()}
  }
}
! NAT, healthy pool, idle sorry server kept at weight 0 (sorry_server_inhibit)
virtual_server 10.73.0.4 80 {
  delay_loop 1
  lb_kind NAT
  protocol TCP
  sorry_server 10.72.0.13 8080
  sorry_server_inhibit
  real_server 10.72.0.11 8080 {
    ${tcp()}
  }
}
! fwmark, DR, sh with sh-port, persistence
virtual_server fwmark 7 {
  delay_loop 1
  lb_algo sh
  sh-port
  lb_kind DR
  persistence_timeout 30
  real_server 10.72.0.12 8080 {
    ${tcp()}
  }
  real_server 10.72.0.13 8080 {
    ${tcp()}
  }
}
! group: an address range and a fwmark, persistence (granularity does not reach groups)
virtual_server group G1 {
  delay_loop 1
  protocol TCP
  lb_kind NAT
  persistence_timeout 60
  persistence_granularity 255.255.0.0
  real_server 10.72.0.11 8080 {
    weight 5
    ${tcp()}
  }
  real_server 10.72.0.15 8080 {
    ${tcp()}
  }
}
! UDP, mh with mh-port, one-packet scheduling, thresholds, no checker
virtual_server 10.73.0.7 53 {
  delay_loop 1
  protocol UDP
  lb_algo mh
  mh-port
  ops
  lb_kind NAT
  real_server 10.72.0.11 53 {
    uthreshold 100
    lthreshold 10
  }
}
! alpha + quorum 2 + sorry server: the one healthy server is not enough
virtual_server 10.73.0.8 80 {
  delay_loop 1
  alpha
  lb_kind NAT
  protocol TCP
  quorum 2
  sorry_server 10.72.0.13 8080
  real_server 10.72.0.11 8080 {
    ${tcp()}
  }
  real_server 10.72.0.15 8080 {
    weight 2
    ${tcp()}
  }
}
! per real server lvs_method (DR in a NAT service) and a DR port reset
virtual_server 10.73.0.9 80 {
  delay_loop 1
  lb_kind NAT
  protocol TCP
  real_server 10.72.0.12 8080 {
    lvs_method DR
    ${tcp(8080)}
  }
  real_server 10.72.0.11 8080 {
    ${tcp()}
  }
}
! all ports (port 0) with persistence, DR
virtual_server 10.73.0.10 0 {
  delay_loop 1
  lb_kind DR
  protocol TCP
  persistence_timeout 300
  real_server 10.72.0.12 0 {
    ${tcp(8080)}
  }
}
! alpha + inhibit: the failed server waits at weight 0, the healthy one comes in
virtual_server group G2 {
  delay_loop 1
  alpha
  protocol TCP
  lb_kind DR
  real_server 10.72.0.13 8080 {
    inhibit_on_failure
    ${tcp()}
  }
  real_server 10.72.0.15 8080 {
    inhibit_on_failure
    ${tcp()}
  }
}
`;

describe("keepalived 2.2.7 and lvs director program the same IPVS table", () => {
  let topo: Topology;
  let servers: Netns;
  let ka: Netns;
  let lb: Netns;
  let dir: string;
  let keepalived: SpawnedProcess;
  let director: SpawnedProcess;
  const table = async (ns: Netns) => (await ns.run("ipvsadm -Sn")).trim();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lvs-compare-"));
    topo = await Topology.create("cmp");
    servers = await topo.addNamespace("servers");
    ka = await topo.addNamespace("ka");
    lb = await topo.addNamespace("lb");
    const lan = await topo.addBridge("lan");
    await topo.attach(servers, lan, {
      addr: ["10.72.0.11/24", "10.72.0.12/24", "10.72.0.13/24", "10.72.0.14/24", "10.72.0.15/24"],
      ifname: "eth0",
    });
    await topo.attach(ka, lan, { addr: "10.72.0.2/24", ifname: "eth0" });
    await topo.attach(lb, lan, { addr: "10.72.0.1/24", ifname: "eth0" });
    const web = servers.spawn([
      "node",
      SERVERS,
      "10.72.0.11:8080",
      "10.72.0.12:8080",
      "10.72.0.13:8080",
      "10.72.0.14:8080:503",
    ]);
    await waitFor(() => web.output().includes("listening"), { what: "real servers", timeoutMs: 30_000 });
    writeFileSync(join(dir, "keepalived.conf"), CONF);
    keepalived = ka.spawn(keepalivedArgv({ half: "check", config: join(dir, "keepalived.conf"), dir }));
    director = lb.spawn(directorCheckArgv(join(dir, "keepalived.conf"), dir, ["--reconcile-interval", "1"]));
  }, 120_000);

  afterAll(async () => {
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("identical ipvsadm -Sn once both have settled (every virtual_server form, failed servers, sorry, inhibit)", async () => {
    // Settled: the failing servers detected (1 s checks), the two tables equal twice in a row.
    let ours = "";
    let theirs = "";
    let same = 0;
    try {
      await waitFor(
        async () => {
          [ours, theirs] = await Promise.all([table(lb), table(ka)]);
          same = ours === theirs && ours.includes("-A -t 10.73.0.8:80") ? same + 1 : 0;
          return same >= 2;
        },
        { timeoutMs: 60_000, intervalMs: 1500, what: "both tables settled and equal" },
      );
    } catch (err) {
      console.log(
        `keepalived:\n${keepalived.output().slice(-4000)}\n\ndirector:\n${director.output().slice(-4000)}`,
      );
      expect(ours).toBe(theirs);
      throw err;
    }
    console.log(`ipvsadm -Sn (both):\n${ours}`);
    expect(ours).toBe(theirs);
    // What the comparison covers, so a config that fails to load on both sides can't pass.
    expect(ours).toContain("-A -t 10.73.0.2:8080 -s wlc -p 120 -M 255.255.255.0");
    expect(ours).toContain("-a -t 10.73.0.2:8080 -r 10.72.0.15:8080 -g -w 0");
    expect(ours).toContain("-a -t 10.73.0.3:8080 -r 10.72.0.13:8080 -i");
    expect(ours).toContain("-A -f 7 -s sh -p 30 -b sh-port");
    expect(ours).toContain("-A -t 10.73.0.11:80 -s wlc -p 60");
    expect(ours).not.toContain("10.72.0.14:8080");
    expect(ours).toContain("-a -t 10.73.0.8:80 -r 10.72.0.13:8080 -m -w 1");
  }, 120_000);

  it("/proc/net/ip_vs as parsed for quick passes agrees with the netlink dump on what it shows", async () => {
    const proc = parseProcIpvs(await lb.run("cat /proc/net/ip_vs"));
    const client = await IpvsClient.open({ netns: lb.name });
    try {
      const nl = await client.table();
      // /proc prints the persistence timeout in jiffies (CONFIG_HZ=250 in Debian's kernel).
      const view = (t: typeof nl, hz: number) =>
        t
          .map((x) => ({
            id: x.service.fwmark ? `fwm/${x.service.fwmark}` : serviceId(x.service),
            scheduler: x.service.scheduler,
            persistent: x.service.flags & 1,
            ops: x.service.flags & 4,
            timeout: x.service.flags & 1 ? x.service.timeout / hz : 0,
            netmask: x.service.flags & 1 ? x.service.netmask : 32,
            dests: x.dests
              .map((d) => `${d.address}:${d.port} ${d.forward & 7} ${d.weight} ${d.activeConns}`)
              .sort(),
          }))
          .sort((a, b) => a.id.localeCompare(b.id));
      expect(proc.length).toBe(nl.length);
      expect(view(proc, 250)).toEqual(view(nl, 1));
    } finally {
      client.close();
    }
  });
});

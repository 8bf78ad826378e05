// The configuration parsed in a worker thread (config-load.ts): the same model, plan, positions
// and errors as parsing it in the daemon's own thread. Uses the built worker (dist/), as the
// daemon does; `pnpm build` (turbo's test task) makes it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@lvs/config";
import { MemoryIpvs } from "@lvs/ipvs";
import { afterAll, describe, expect, it } from "vitest";
import { loadAndCompile, shareStrings } from "../src/config-load.js";
import { compilePlan, createLogger, Director, DirectorError, loadConfigFile } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "lvs-config-load-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONF = `global_defs {
  lvs_flush
}
virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_kind NAT
  delay_loop 3
  real_server 10.1.0.1 8080 {
    weight 2
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 10.1.0.2 8080 {
    HTTP_GET {
      url {
        path /health
        status_code 200
      }
    }
  }
}
vrrp_instance VI_1 {
  state BACKUP
  interface lo
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    192.0.2.10/32
  }
}
virtual_server_group WEB {
  10.0.0.5 443
  10.0.0.6 443
}
virtual_server group WEB {
  protocol TCP
  lb_algo sh
  lb_kind DR
  persistence_timeout 300
  quorum 2
  sorry_server 10.9.0.1 443
  real_server 10.1.0.7 443 {
    SSL_GET {
      url {
        path /ping
        digest 9b3a0c85a887a256d6939da88aabd8cd
      }
    }
    MISC_CHECK {
      misc_path "/bin/true --arg"
      misc_dynamic
    }
  }
  real_server 10.1.0.8 443 {
    inhibit_on_failure
    UDP_CHECK {
      connect_port 53
      payload 00ff
    }
  }
}
virtual_server fwmark 7 {
  lb_kind DR
  real_server 10.1.0.3 0 {
    TCP_CHECK {
      connect_port 81
    }
  }
}
`;

describe("loading the configuration in a worker", () => {
  it("gives the same model, plan, warnings and source positions as the main thread", async () => {
    const path = join(dir, "keepalived.conf");
    writeFileSync(path, `${CONF}  bogus_keyword\n`);
    const r = await loadAndCompile({ path, sources: true, workerMinBytes: 0 });
    expect(r.parsedIn).toBe("worker");
    const here = await loadConfigFile(path);
    expect(r.loaded.config).toStrictEqual(here.config);
    expect(r.loaded.files).toEqual(here.files);
    expect(r.loaded.warnings).toEqual(here.warnings);
    expect(r.loaded.warnings.length).toBeGreaterThan(0);
    expect(r.plan).toStrictEqual(compilePlan(here.config));
    expect(r.plan.virtualServers).toHaveLength(3);
    for (const at of [
      ["virtualServers", 2],
      ["virtualServerGroups", 0],
      ["virtualServers", 0, "realServers", 1],
      ["globalDefs"],
    ])
      expect(r.loaded.sources?.positionOf(at)).toEqual(here.sources?.positionOf(at));
    expect(r.loaded.sources?.positionOf(["virtualServers", 2])?.line).toBe(
      CONF.split("\n").indexOf("virtual_server fwmark 7 {") + 1,
    );
    // The checks sharing a policy share one frozen object again.
    const policy = r.plan.virtualServers[0]?.realServers[0]?.checks[0]?.target.policy;
    expect(policy && Object.isFrozen(policy)).toBe(true);
  });

  it("sends the source positions only when asked", async () => {
    const path = join(dir, "plain.conf");
    writeFileSync(path, CONF);
    const r = await loadAndCompile({ path, sources: false, workerMinBytes: 0 });
    expect(r.parsedIn).toBe("worker");
    expect(r.loaded.sources).toBeUndefined();
    expect(r.plan.virtualServers.map((v) => v.key)).toEqual(["TCP/10.0.0.1:80", "GROUP/WEB/TCP", "FWM/7"]);
  });

  it("a small file is parsed in the main thread; one that includes others in the worker", async () => {
    const small = join(dir, "small.conf");
    writeFileSync(small, CONF);
    expect((await loadAndCompile({ path: small, sources: false })).parsedIn).toBe("main thread");
    writeFileSync(join(dir, "vs.inc"), CONF);
    const top = join(dir, "top.conf");
    writeFileSync(top, "  include vs.inc\n");
    const r = await loadAndCompile({ path: top, sources: false });
    expect(r.parsedIn).toBe("worker");
    expect(r.loaded.files).toEqual([top, join(dir, "vs.inc")]);
    expect(r.plan.virtualServers).toHaveLength(3);
  });

  it("a file that doesn't load fails with the main thread's error: code, message, file:line:column", async () => {
    const path = join(dir, "broken.conf");
    writeFileSync(path, "virtual_server 10.0.0.1 80 {\n  lb_kind NOPE\n  delay_loop x\n}\n");
    let here: unknown;
    try {
      await loadConfigFile(path);
    } catch (err) {
      here = err;
    }
    expect(here).toBeInstanceOf(DirectorError);
    const err = await loadAndCompile({ path, sources: false, workerMinBytes: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectorError);
    const d = err as DirectorError;
    const h = here as DirectorError;
    expect([d.code, d.message, d.object]).toEqual([h.code, h.message, h.object]);
    expect(d.message).toContain(`${path}:2:`);
    expect(d.cause).toBeInstanceOf(ConfigError);
    const c = d.cause as ConfigError;
    const hc = h.cause as ConfigError;
    expect([c.code, c.file, c.line, c.column, c.message, c.errorCount]).toEqual([
      hc.code,
      hc.file,
      hc.line,
      hc.column,
      hc.message,
      hc.errorCount,
    ]);
    expect(c.issues).toEqual(hc.issues);
  });

  it("a file that isn't there is the same error too", async () => {
    const path = join(dir, "missing.conf");
    const err = await loadAndCompile({ path, sources: false, workerMinBytes: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "DIRECTOR_CONFIG", object: path });
    await expect(loadConfigFile(path)).rejects.toThrow((err as Error).message);
  });
});

describe("reloads", () => {
  it("run one at a time, in the order asked: the next one loads only after the previous one is done", async () => {
    const path = join(dir, "reloads.conf");
    const vs = (w: number) =>
      `virtual_server 10.0.0.1 80 {\n  real_server 10.1.0.1 80 {\n    weight ${w}\n  }\n}\n`;
    writeFileSync(path, vs(1));
    const steps: string[] = [];
    const kernel = new MemoryIpvs();
    const director = new Director({
      configPath: path,
      socketPath: null,
      mode: "check",
      client: kernel,
      reconcileIntervalMs: 3_600_000,
      log: createLogger({ destination: { write: () => {} } }),
      loadConfig: async (p) => {
        const loaded = await loadConfigFile(p);
        steps.push(`load ${loaded.config.virtualServers[0]?.realServers[0]?.weight}`);
        return loaded;
      },
    });
    await director.start();
    try {
      writeFileSync(path, vs(2));
      const first = director.reload().then(() => steps.push("reloaded"));
      const second = director.reload().then(() => steps.push("reloaded"));
      writeFileSync(path, vs(3));
      await Promise.all([first, second]);
      expect(steps).toEqual(["load 1", "load 3", "reloaded", "load 3", "reloaded"]);
      expect([...kernel.services.values()][0]?.dests[0]?.weight).toBe(3);
      // A reload that fails keeps the running configuration and doesn't stop the ones after it.
      writeFileSync(path, "virtual_server 10.0.0.1 80 {\n  lb_kind NOPE\n}\n");
      await expect(director.reload()).rejects.toMatchObject({ code: "DIRECTOR_CONFIG" });
      expect([...kernel.services.values()][0]?.dests[0]?.weight).toBe(3);
      writeFileSync(path, vs(4));
      await director.reload();
      expect([...kernel.services.values()][0]?.dests[0]?.weight).toBe(4);
    } finally {
      await director.stop();
    }
  });
});

describe("shareStrings", () => {
  it("makes equal strings one, in arrays, objects and shared objects, and changes nothing else", () => {
    const shared = { kind: "TCP_CHECK".slice(0) };
    const tree = {
      a: ["x".repeat(20), "x".repeat(20), 3, null],
      b: { s: "x".repeat(20), shared, n: undefined },
      c: [shared, shared, new Int32Array([1, 2])],
    };
    const before = structuredClone(tree);
    shareStrings(tree);
    expect(tree).toEqual(before);
    expect(tree.c[0]).toBe(shared);
  });
});

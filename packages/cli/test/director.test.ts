// lvsctl status / drain / undrain / weight / add-server / remove-server / enable / disable / reload through the built binary,
// against a director running in this process on a real unix socket (kernel: @lvs/director's
// in-memory IPVS; the kernel tier runs the daemon against the real one).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, Director, MemoryKernel } from "@lvs/director";
import { FakeClock } from "@lvs/healthcheck";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));
function lvsctl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const CONF = `virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_kind NAT
  real_server 10.1.0.1 8080 { weight 2 }
  real_server 10.1.0.2 8080 { }
}
`;

const dir = mkdtempSync(join(tmpdir(), "lvsctl-director-"));
const socket = join(dir, "d.sock");
const configPath = join(dir, "keepalived.conf");
const kernel = new MemoryKernel();
let director: Director;
const weightOf = (address: string) =>
  kernel.services.get("2/6/10.0.0.1/80")?.dests.find((d) => d.address === address)?.weight;

beforeAll(async () => {
  writeFileSync(configPath, CONF);
  director = new Director({
    configPath,
    socketPath: socket,
    client: kernel,
    mode: "check",
    health: { clock: new FakeClock() },
    log: createLogger({ destination: { write: () => {} } }),
  });
  await director.start();
});
afterAll(async () => {
  await director?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("lvsctl and the director's API", () => {
  it("status prints the ipvsadm-like table; --json the API's document", async () => {
    const r = await lvsctl(["status", "--socket", socket]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("TCP 10.0.0.1:80");
    expect(r.stdout).toMatch(/-> 10\.1\.0\.1:8080\s+Masq\s+2\s+0\s+0\s+UP\s+no checker/);
    const j = await lvsctl(["status", "--json", "--socket", socket]);
    expect(JSON.parse(j.stdout).virtualServers[0].key).toBe("TCP/10.0.0.1:80");
  });

  it("weight, disable, enable, drain, undrain change the kernel", async () => {
    expect((await lvsctl(["weight", "10.0.0.1:80", "10.1.0.2:8080", "7", "--socket", socket])).stdout).toBe(
      "10.1.0.2:8080 in TCP/10.0.0.1:80: weight 7\n",
    );
    expect(weightOf("10.1.0.2")).toBe(7);
    await lvsctl(["disable", "10.0.0.1:80", "10.1.0.2", "--socket", socket]);
    expect(weightOf("10.1.0.2")).toBeUndefined();
    await lvsctl(["enable", "10.0.0.1:80", "10.1.0.2", "--socket", socket]);
    expect(weightOf("10.1.0.2")).toBe(7);
    const d = await lvsctl(["drain", "10.0.0.1:80", "10.1.0.1:8080", "--timeout", "30", "--socket", socket]);
    // No connection: removed at once.
    expect(d.stdout).toBe("10.1.0.1:8080 drained from TCP/10.0.0.1:80: no active connection, removed\n");
    expect(weightOf("10.1.0.1")).toBeUndefined();
    const st = await lvsctl(["status", "--socket", socket]);
    expect(st.stdout).toMatch(/10\.1\.0\.1:8080\s+Masq\s+-\s+0\s+0\s+DRAINED/);
    await lvsctl(["undrain", "10.0.0.1:80", "10.1.0.1:8080", "--socket", socket]);
    expect(weightOf("10.1.0.1")).toBe(2);
  });

  it("drain --director without a bgp: section: recorded, nothing to withdraw; wrong combinations refused", async () => {
    const d = await lvsctl(["drain", "--director", "--socket", socket]);
    expect(d.stdout).toBe("director drained (no bgp: section: nothing announced to withdraw)\n");
    expect(JSON.parse((await lvsctl(["status", "--json", "--socket", socket])).stdout).directorDrain).toEqual(
      {
        since: expect.any(Number),
      },
    );
    expect((await lvsctl(["status", "--socket", socket])).stdout).toMatch(/^Director DRAINED since /m);
    expect((await lvsctl(["drain", "--director", "--socket", socket])).stdout).toBe(
      "director already drained (no bgp: section: nothing announced to withdraw)\n",
    );
    const u = await lvsctl(["undrain", "--director", "--socket", socket]);
    expect(u.stdout).toBe("director undrained (no bgp: section)\n");
    expect(
      JSON.parse((await lvsctl(["status", "--json", "--socket", socket])).stdout).directorDrain,
    ).toBeNull();
    const both = await lvsctl(["drain", "--director", "10.0.0.1:80", "--socket", socket]);
    expect(both.status).toBe(1);
    expect(both.stderr).toContain("--director drains the whole director: no virtual server");
    const none = await lvsctl(["drain", "--socket", socket]);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain(
      "give a virtual server and a real server (lvsctl drain VS RS), or --director",
    );
  });

  it("reload reports what it did", async () => {
    writeFileSync(configPath, CONF.replace("weight 2", "weight 3"));
    const r = await lvsctl(["reload", "--socket", socket]);
    expect(r.stdout).toBe("reloaded: 1 virtual servers, 1 kernel operations\n");
    expect(weightOf("10.1.0.1")).toBe(3);
  });

  it("add-server / remove-server: a real server not in the configuration, in and out of the kernel", async () => {
    const a = await lvsctl([
      "add-server",
      "10.0.0.1:80",
      "10.1.0.9:8080",
      "--weight",
      "4",
      "--socket",
      socket,
    ]);
    expect(a.stderr).toBe("");
    expect(a.stdout).toBe("10.1.0.9:8080 added to TCP/10.0.0.1:80 with weight 4\n");
    expect(weightOf("10.1.0.9")).toBe(4);
    // The status (and so metrics and the page) shows it like a configured server.
    const st = JSON.parse((await lvsctl(["status", "--json", "--socket", socket])).stdout);
    expect(st.virtualServers[0].realServers.map((r: { key: string }) => r.key)).toContain("10.1.0.9:8080");
    const again = await lvsctl(["add-server", "10.0.0.1:80", "10.1.0.9:8080", "--socket", socket]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("(DIRECTOR_EXISTS)");
    const configured = await lvsctl(["remove-server", "10.0.0.1:80", "10.1.0.1:8080", "--socket", socket]);
    expect(configured.status).toBe(1);
    expect(configured.stderr).toContain("is in the configuration");
    expect(configured.stderr).toContain("(DIRECTOR_CONFIGURED)");
    expect(weightOf("10.1.0.1")).toBe(3);
    const badWeight = await lvsctl([
      "add-server",
      "10.0.0.1:80",
      "10.1.0.8:8080",
      "--weight",
      "70000",
      "--socket",
      socket,
    ]);
    expect(badWeight.status).not.toBe(0);
    expect(badWeight.stderr).toContain("--weight must be an integer 0..65535");
    const r = await lvsctl(["remove-server", "10.0.0.1:80", "10.1.0.9", "--socket", socket]);
    expect(r.stdout).toBe("10.1.0.9:8080 removed from TCP/10.0.0.1:80\n");
    expect(weightOf("10.1.0.9")).toBeUndefined();
  });

  it("errors: unknown server, malformed reference, no daemon", async () => {
    const a = await lvsctl(["drain", "10.0.0.9:80", "10.1.0.1", "--socket", socket]);
    expect(a.status).toBe(1);
    expect(a.stderr).toBe("lvsctl: no virtual server 10.0.0.9:80 (DIRECTOR_NOT_FOUND)\n");
    const b = await lvsctl(["weight", "10.0.0.1:80", "10.1.0.1", "x", "--socket", socket]);
    expect(b.status).toBe(1);
    expect(b.stderr).toContain("weight must be an integer");
    const c = await lvsctl(["status", "--socket", join(dir, "nothing.sock")]);
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/no director answers on .*nothing\.sock \(ENOENT\); is it running\?/);
  });
});

describe("lvsctl explain", () => {
  it("names the real server a new connection gets, the rule and the candidates; --json the API's", async () => {
    const r = await lvsctl(["explain", "192.0.2.9:5000", "10.0.0.1:80", "--socket", socket]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // wlc, both idle: 10.1.0.1 has weight 2, so overhead/weight ties at 0 and list order decides.
    expect(r.stdout).toMatch(
      /^TCP\/10\.0\.0\.1:80 \(wlc\): a new connection from 192\.0\.2\.9:5000 goes to 10\.1\.0\.\d:8080\n/,
    );
    expect(r.stdout).toContain("rule: lowest (active × 256 + inactive) / weight");
    expect(r.stdout).toMatch(/→ 10\.1\.0\.\d:8080 +weight \d/);
    const j = JSON.parse(
      (await lvsctl(["explain", "192.0.2.9", "10.0.0.1:80", "--json", "--socket", socket])).stdout,
    );
    expect(j).toMatchObject({ scheduler: "wlc", exact: true, client: "192.0.2.9:40000" });
    expect(j.candidates).toHaveLength(2);
    const bad = await lvsctl(["explain", "nope", "10.0.0.1:80", "--socket", socket]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("expected IP[:PORT]");
  });
});

describe("lvsctl status --watch", () => {
  it("follows the daemon live: a change made meanwhile is redrawn without asking; SIGINT ends it", async () => {
    const child = spawn(process.execPath, [bin, "status", "--watch", "--socket", socket]);
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    const until = async (what: string, cond: () => boolean) => {
      for (let i = 0; i < 150 && !cond(); i++) await new Promise((r) => setTimeout(r, 100));
      if (!cond()) throw new Error(`watch output never showed ${what}:\n${out}`);
    };
    try {
      await until("both real servers", () => out.includes("10.1.0.1:8080") && out.includes("10.1.0.2:8080"));
      expect(out).toMatch(/dataplane \w+/);
      const frames = out.split("lvs director (").length;
      const r = await lvsctl(["disable", "10.0.0.1:80", "10.1.0.2:8080", "--socket", socket]);
      expect(r.status).toBe(0);
      await until("the disabled server", () => /10\.1\.0\.2:8080\s+disabled/.test(out));
      expect(out.split("lvs director (").length).toBeGreaterThan(frames);
      expect(out).toMatch(/last change \d\d:\d\d:\d\d up→disabled: api: disable/);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    await lvsctl(["enable", "10.0.0.1:80", "10.1.0.2:8080", "--socket", socket]);
  });
});

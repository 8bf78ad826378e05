// SMTP alerts against a real MTA (netns tier, host): python3-aiosmtpd (tools/host-deps) listens on
// the namespace's loopback and stores what it receives in a Maildir. `lvsctl up --vrrp` mails the
// VRRP transition; `lvsctl up` (userspace dataplane: no IPVS needed) mails a real server going down.
// Subjects and bodies are keepalived 2.2.7's: the last case runs keepalived --vrrp on the same file against an aiosmtpd of
// its own and compares (both mail BACKUP at start, then MASTER).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, type SpawnedProcess, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../../cli/dist/bin.cjs", import.meta.url));
const PY = "/usr/bin/python3";
const hasAiosmtpd = existsSync(PY) && existsSync("/usr/lib/python3/dist-packages/aiosmtpd/__init__.py");
const SMTP_PORT = 2525;
const hasKeepalived = existsSync("/usr/sbin/keepalived");

function mails(dir: string): string[] {
  const d = join(dir, "new");
  return existsSync(d) ? readdirSync(d).map((f) => readFileSync(join(d, f), "utf8")) : [];
}

const globals = (extra: string) => `global_defs {
  router_id lb1
  notification_email {
    ops@example.com
    oncall@example.com
  }
  notification_email_from lvs@lb1.example.com
  smtp_server 127.0.0.1 ${SMTP_PORT}
  smtp_connect_timeout 5
${extra}}
`;

describe.skipIf(!canUseNetns() || !hasAiosmtpd)("SMTP alerts received by a real MTA (aiosmtpd)", () => {
  let topo: Topology;
  let lb: Netns;
  let dir: string;
  let mta: SpawnedProcess;
  let maildir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lvs-smtp-"));
    maildir = join(dir, "mail");
    topo = await Topology.create("smtp");
    lb = await topo.addNamespace("lb");
    const peer = await topo.addNamespace("peer");
    await topo.link(lb, peer, { a: "10.63.0.1/24", b: "10.63.0.2/24", ifA: "eth0", ifB: "eth0" });
    await lb.run("ip link set lo up");
    mta = lb.spawn([
      PY,
      "-m",
      "aiosmtpd",
      "-n",
      "-l",
      `127.0.0.1:${SMTP_PORT}`,
      "-c",
      "aiosmtpd.handlers.Mailbox",
      maildir,
    ]);
    await waitFor(async () => (await lb.run("ss -ltn")).includes(`127.0.0.1:${SMTP_PORT}`), {
      what: "aiosmtpd listening",
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  });
  afterAll(async () => {
    mta?.kill("SIGTERM");
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lvsctl up --vrrp: becoming MASTER mails every recipient, subject naming the instance and the state", async () => {
    const file = join(dir, "vrrp.conf");
    writeFileSync(
      file,
      `${globals("  smtp_alert_vrrp\n  vrrp_version 3\n")}vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 63
  priority 150
  advert_int 0.1
  virtual_ipaddress { 10.63.0.100/24 }
}
vrrp_instance VI_QUIET {
  interface eth0
  virtual_router_id 64
  priority 150
  advert_int 0.1
  smtp_alert off
  virtual_ipaddress { 10.63.0.101/24 }
}
`,
    );
    const before = mails(maildir).length;
    const d = lb.spawn(["node", BIN, "up", "--vrrp", "-f", file, "--no-socket"]);
    try {
      const master = () =>
        mails(maildir)
          .slice(before)
          .find((m) => /Entering MASTER state/.test(m));
      await waitFor(async () => master() !== undefined, {
        what: `the MASTER alert mail (${d.output().slice(-300)})`,
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      await new Promise((r) => setTimeout(r, 300));
      const subjects = mails(maildir)
        .slice(before)
        .map((m) => /^Subject: (.*)$/m.exec(m)?.[1]);
      // Start-up BACKUP, then MASTER, once each; VI_QUIET has smtp_alert off.
      expect(subjects.sort()).toEqual([
        "[lb1] VRRP Instance VI_1 - Entering BACKUP state",
        "[lb1] VRRP Instance VI_1 - Entering MASTER state",
      ]);
      const m = master()!;
      expect(m).toMatch(/^Subject: \[lb1\] VRRP Instance VI_1 - Entering MASTER state$/m);
      expect(m).toMatch(/^From: lvs@lb1\.example\.com$/m);
      expect(m).toMatch(/^X-RcptTo: ops@example\.com, oncall@example\.com$/m);
      expect(m).toContain("=> VRRP Instance is now owning VRRP VIPs <=");
    } finally {
      d.kill("SIGTERM");
      await d.exited;
    }
  }, 40_000);

  it("lvsctl up: a real server failing its check mails DOWN, naming it and its virtual server", async () => {
    const file = join(dir, "lvs.conf");
    writeFileSync(
      file,
      `${globals("  smtp_alert_checker\n")}virtual_server 127.0.0.1 18080 {
  lvs_sched rr
  protocol TCP
  delay_loop 1
  real_server 127.0.0.1 1 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
      warmup 0
      log_all_failures
    }
  }
}
`,
    );
    const before = mails(maildir).length;
    const d = lb.spawn([
      "node",
      BIN,
      "up",
      "-f",
      file,
      "--dataplane",
      "proxy",
      "--no-socket",
      "--state",
      join(dir, "lvs.state.json"),
      "--log-format",
      "text",
    ]);
    try {
      const ours = () => mails(maildir).slice(before);
      const find = (subject: RegExp) => ours().find((m) => subject.test(m));
      const rsDown =
        /^Subject: \[lb1\] Realserver \[127\.0\.0\.1\]:tcp:1 of virtual server \[127\.0\.0\.1\]:tcp:18080 - DOWN$/m;
      const vsDown = /^Subject: \[lb1\] Virtualserver \[127\.0\.0\.1\]:tcp:18080 - DOWN$/m;
      // Generous: the daemon starts, fails its first check and mails within ~2 s on an idle host,
      // but CI runs the other packages' tiers beside this one on two cores.
      await waitFor(async () => find(rsDown) !== undefined && find(vsDown) !== undefined, {
        what: () =>
          `the DOWN mails; subjects so far: ${JSON.stringify(ours().map((m) => /^Subject: (.*)$/m.exec(m)?.[1]))}; the daemon's output:\n${d.output().slice(-1500)}`,
        timeoutMs: 45_000,
        intervalMs: 100,
      });
      expect(find(rsDown)).toContain("=> CHECK failed on service <=");
      // The virtual server's quorum (smtp_alert_checker reaches it too, as in keepalived): up at
      // start with its one real server, lost when that server fails.
      expect(find(/^Subject: \[lb1\] Virtualserver \[127\.0\.0\.1\]:tcp:18080 - UP$/m)).toContain(
        "=> Starting with quorum up 1+0=1 <= 1 <=",
      );
      expect(find(vsDown)).toContain("=> Lost quorum 1+0=1 <= 0 <=");
      // log_all_failures: the failures after the transition are logged too, not only the DOWN.
      const failures = () =>
        d.output().split("TCP_CHECK of [127.0.0.1]:tcp:1 for VS [127.0.0.1]:tcp:18080 failed").length - 1;
      await waitFor(async () => failures() >= 3, {
        what: "three failure lines",
        timeoutMs: 10_000,
        intervalMs: 100,
      });
    } finally {
      d.kill("SIGTERM");
      await d.exited;
    }
  }, 75_000);
  it.skipIf(!hasKeepalived)(
    "keepalived 2.2.7 with the same file mails the same subjects and bodies",
    async () => {
      const ka = await topo.addNamespace("ka");
      const kpeer = await topo.addNamespace("kpeer");
      await topo.link(ka, kpeer, { a: "10.63.0.1/24", b: "10.63.0.2/24", ifA: "eth0", ifB: "eth0" });
      await ka.run("ip link set lo up");
      const kmail = join(dir, "kmail");
      const kmta = ka.spawn([
        PY,
        "-m",
        "aiosmtpd",
        "-n",
        "-l",
        `127.0.0.1:${SMTP_PORT}`,
        "-c",
        "aiosmtpd.handlers.Mailbox",
        kmail,
      ]);
      const file = join(dir, "vrrp.conf"); // written by the first test
      await waitFor(async () => (await ka.run("ss -ltn")).includes(`127.0.0.1:${SMTP_PORT}`), {
        what: "aiosmtpd listening",
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      const k = ka.spawn([
        "/usr/sbin/keepalived",
        "--vrrp",
        "-D",
        "-l",
        "-n",
        "-f",
        file,
        "-p",
        join(dir, "k.pid"),
        "-r",
        join(dir, "v.pid"),
      ]);
      try {
        await waitFor(async () => mails(kmail).some((m) => /Entering MASTER state/.test(m)), {
          what: `keepalived's MASTER mail (${k.output().slice(-300)})`,
          timeoutMs: 15_000,
          intervalMs: 100,
        });
        await new Promise((r) => setTimeout(r, 300));
        const theirs = mails(kmail).map((m) => [/^Subject: (.*)$/m.exec(m)?.[1], m.split("\n\n")[1]?.trim()]);
        const ours = mails(maildir)
          .filter((m) => /VRRP Instance/.test(m))
          .map((m) => [/^Subject: (.*)$/m.exec(m)?.[1], m.split("\n\n")[1]?.trim()]);
        expect(theirs.sort()).toEqual(ours.sort());
      } finally {
        k.kill("SIGTERM");
        await k.exited;
        kmta.kill("SIGTERM");
      }
    },
    40_000,
  );
});

// lvsctl sync listen/send between two network namespaces on a bridge (real multicast).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.cjs", import.meta.url));

describe.skipIf(!canUseNetns())("lvsctl sync listen | send (netns)", () => {
  let topo: Topology;
  let a: Netns;
  let b: Netns;
  beforeAll(async () => {
    topo = await Topology.create("cli-sync");
    const br = await topo.addBridge();
    a = await topo.addNamespace("a");
    b = await topo.addNamespace("b");
    await topo.attach(a, br, { addr: ["192.168.60.1/24", "fd60::1/64"], ifname: "eth0" });
    await topo.attach(b, br, { addr: ["192.168.60.2/24", "fd60::2/64"], ifname: "eth0" });
  });
  afterAll(async () => {
    await topo?.destroy();
  });

  const lines = [
    "TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED",
    "TCP 10.1.0.6:40002 10.0.0.1:80 10.0.2.12:8080 FIN_WAIT",
    "UDP 10.1.0.7:5353 10.0.0.1:53 10.0.2.11:53 UDP",
  ];

  it.each([
    "0",
    "1",
  ])("what `sync send --sync-version %s` reads is what `sync listen` prints", async (version) => {
    const rx = b.spawn([
      "node",
      BIN,
      "sync",
      "listen",
      "--mcast-interface",
      "eth0",
      "--syncid",
      "4",
      "--count",
      "3",
      "--timeout",
      "20",
    ]);
    await waitFor(() => rx.output().includes("listening on eth0"), { what: "listener", timeoutMs: 10_000 });
    const tx = await a.exec(
      ["node", BIN, "sync", "send", "--mcast-interface", "eth0", "--syncid", "4", "--sync-version", version],
      {
        input: `${lines.join("\n")}\n`,
      },
    );
    expect(tx.stderr).toMatch(/sent 3 connections in 1 messages/);
    expect(tx.code).toBe(0);
    expect(await rx.exited).toBe(0);
    const out = rx
      .output()
      .split("\n")
      .filter((l) => /^(TCP|UDP) /.test(l));
    expect(out).toEqual(lines);
  });

  it("--json over an IPv6 group; --timeout ends a quiet listener", async () => {
    const rx = b.spawn([
      "node",
      BIN,
      "sync",
      "listen",
      "--mcast-interface",
      "eth0",
      "--syncid",
      "0",
      "--mcast-group",
      "ff02::8848",
      "--json",
      "--count",
      "1",
      "--timeout",
      "20",
    ]);
    await waitFor(() => rx.output().includes("listening on eth0"), { what: "listener", timeoutMs: 10_000 });
    const tx = await a.exec(
      [
        "node",
        BIN,
        "sync",
        "send",
        "--mcast-interface",
        "eth0",
        "--syncid",
        "9",
        "--mcast-group",
        "ff02::8848",
      ],
      {
        input: "TCP [2001:db8::5]:1234 [2001:db8::1]:443 [2001:db8::b]:8443 ESTABLISHED\n",
      },
    );
    expect(tx.code, tx.stderr).toBe(0);
    expect(await rx.exited).toBe(0);
    const json = JSON.parse(
      rx
        .output()
        .split("\n")
        .find((l) => l.startsWith("{")) ?? "{}",
    );
    expect(json).toMatchObject({
      protocol: "TCP",
      af: "inet6",
      clientAddress: "2001:db8::5",
      virtualPort: 443,
      destAddress: "2001:db8::b",
      state: "ESTABLISHED",
      syncId: 9,
      version: 1,
    });

    const quiet = await b.exec([
      "node",
      BIN,
      "sync",
      "listen",
      "--mcast-interface",
      "eth0",
      "--syncid",
      "1",
      "--timeout",
      "1",
    ]);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe("");
    expect(quiet.stderr).toMatch(/0 connections/);
  });

  it("a bad input line names its line number and sends nothing", async () => {
    const r = await a.exec(["node", BIN, "sync", "send", "--mcast-interface", "eth0", "--syncid", "1"], {
      input: `${lines[0]}\nTCP 10.1.0.5:1 10.0.0.1:80 10.0.2.11:80 WAITING\n`,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 2: unknown TCP state "WAITING"/);
    expect(r.stderr).toMatch(/nothing sent/);
  });

  it("resync sends a whole connection table (kernel /proc format); bad lines and v0-incapable entries are reported", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lvs-resync-"));
    const file = join(dir, "ip_vs_conn");
    writeFileSync(
      file,
      [
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData",
        "TCP 0A010005 9C41 0A000001 0050 0A00020B 1F90 ESTABLISHED     899",
        "TCP 0A010006 9C42 0A000001 0050 0A00020C 1F90 FIN_WAIT         65",
        "TCP 2001:0db8:0000:0000:0000:0000:0000:0005 C350 2001:0db8:0000:0000:0000:0000:0000:0001 01BB 2001:0db8:0000:0000:0000:0000:0000:000b 20FB SYN_RECV         55",
        "TCP garbage",
        "",
      ].join("\n"),
    );
    try {
      for (const version of ["1", "0"]) {
        const want = version === "1" ? 3 : 2;
        const rx = b.spawn([
          "node",
          BIN,
          "sync",
          "listen",
          "--mcast-interface",
          "eth0",
          "--syncid",
          "5",
          "--count",
          String(want),
          "--timeout",
          "20",
        ]);
        await waitFor(() => rx.output().includes("listening on eth0"), {
          what: "listener",
          timeoutMs: 10_000,
        });
        const r = await a.exec([
          "node",
          BIN,
          "sync",
          "resync",
          "--mcast-interface",
          "eth0",
          "--syncid",
          "5",
          "--sync-version",
          version,
          "--conn-file",
          file,
          "--no-service-table",
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain(`${file}:5: expected at least 9 fields, got 2`);
        expect(r.stderr).toContain(`resync: sent ${want} connections in 1 messages`);
        if (version === "0")
          expect(r.stderr).toContain("skipped 2001:db8::5:50000: protocol v0 carries IPv4 only");
        expect(await rx.exited).toBe(0);
        expect(
          rx
            .output()
            .split("\n")
            .filter((l) => l.startsWith("TCP ")),
        ).toEqual(
          [
            "TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED",
            "TCP 10.1.0.6:40002 10.0.0.1:80 10.0.2.12:8080 FIN_WAIT",
            "TCP [2001:db8::5]:50000 [2001:db8::1]:443 [2001:db8::b]:8443 SYN_RECV",
          ].slice(0, want),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Every checker against a real server started by the test on loopback.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processGroupMembers, processRunning, waitFor } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkDns,
  checkHttp,
  checkIcmp,
  checkMisc,
  checkSmtp,
  checkTcp,
  checkUdp,
  decodeDnsMessage,
  encodeDnsMessage,
  HealthCheckRunner,
  probe,
  type TargetEvent,
} from "../src/index.js";

const closers: Array<() => void> = [];
afterAll(() => {
  for (const c of closers.reverse()) c();
});
const port = (s: { address(): AddressInfo | string | null }) => (s.address() as AddressInfo).port;

async function listen(server: Server | ReturnType<typeof createNetServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  closers.push(() => server.close());
  return port(server);
}

/** A port that was just bound and released: nothing listens there. */
async function closedTcpPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const p = port(s);
  await new Promise((r) => s.close(r));
  return p;
}

describe("TCP_CHECK", () => {
  it("up on a listening port, down with ECONNREFUSED on a closed one", async () => {
    const p = await listen(createNetServer((c) => c.destroy()));
    const up = await checkTcp({ type: "tcp", connectIp: "127.0.0.1", connectPort: p, bindto: "127.0.0.1" });
    expect(up).toMatchObject({ up: true, reason: "connected" });
    expect(up.latencyMs).toBeGreaterThan(0);
    const down = await checkTcp({ type: "tcp", connectIp: "127.0.0.1", connectPort: await closedTcpPort() });
    expect(down).toMatchObject({ up: false, reason: "ECONNREFUSED" });
  });
});

describe("HTTP_GET", () => {
  let flap = true;
  let p = 0;
  let slowPort = 0;
  const seen: Array<{ host: string | undefined; version: string }> = [];
  beforeAll(async () => {
    const server = createHttpServer((req, res) => {
      seen.push({ host: req.headers.host, version: req.httpVersion });
      if (req.url === "/flap") {
        flap = !flap;
        res.writeHead(flap ? 503 : 200).end(flap ? "sick" : "fine");
      } else if (req.url === "/chunked") {
        res.writeHead(200);
        res.write("hello ");
        res.end("world");
      } else res.writeHead(200, { "content-type": "text/plain" }).end("status: healthy\n");
    });
    p = await listen(server);
    // Accepts, then never answers within the timeout.
    slowPort = await listen(createNetServer((c) => closers.push(() => c.destroy())));
  });

  it("follows a flapping server: 200, 503, 200", async () => {
    const def = { type: "http" as const, connectIp: "127.0.0.1", connectPort: p, url: [{ path: "/flap" }] };
    expect(await checkHttp(def)).toMatchObject({ up: true, reason: "/flap status 200" });
    expect(await checkHttp(def)).toMatchObject({ up: false, reason: "status 503 not in 200-299" });
    expect((await checkHttp(def)).up).toBe(true);
  });

  it("checks status_code ranges, MD5 digest, regex and regex_no_match", async () => {
    const base = { type: "http" as const, connectIp: "127.0.0.1", connectPort: p };
    const md5 = createHash("md5").update("status: healthy\n").digest("hex");
    expect((await checkHttp({ ...base, url: [{ path: "/", digest: md5, statusCode: [200] }] })).up).toBe(
      true,
    );
    expect(await checkHttp({ ...base, url: [{ path: "/", digest: "00".repeat(16) }] })).toMatchObject({
      up: false,
      reason: `digest ${md5} != ${"00".repeat(16)}`,
    });
    expect(await checkHttp({ ...base, url: [{ path: "/", statusCode: [[300, 399], 404] }] })).toMatchObject({
      up: false,
      reason: "status 200 not in 300-399,404",
    });
    expect((await checkHttp({ ...base, url: [{ path: "/", regex: "^status: \\w+" }] })).up).toBe(true);
    expect(
      (await checkHttp({ ...base, url: [{ path: "/", regex: "healthy", regexNoMatch: true }] })).up,
    ).toBe(false);
    // Every url must pass.
    expect((await checkHttp({ ...base, url: [{ path: "/" }, { path: "/", statusCode: [500] }] })).up).toBe(
      false,
    );
  });

  it("sends virtualhost as Host, HTTP/1.0 by default and 1.1 on request; decodes chunked", async () => {
    seen.length = 0;
    const base = { type: "http" as const, connectIp: "127.0.0.1", connectPort: p };
    await checkHttp({ ...base, url: [{ path: "/" }] });
    await checkHttp({ ...base, virtualhost: "www.example.test", httpProtocol: "1.1", url: [{ path: "/" }] });
    expect(seen).toEqual([
      { host: `127.0.0.1:${p}`, version: "1.0" },
      { host: "www.example.test", version: "1.1" },
    ]);
    const md5 = createHash("md5").update("hello world").digest("hex");
    expect(
      (await checkHttp({ ...base, httpProtocol: "1.1", url: [{ path: "/chunked", digest: md5 }] })).up,
    ).toBe(true);
  });

  it("a responder slower than connect_timeout is down with a timeout reason", async () => {
    const r = await checkHttp({
      type: "http",
      connectIp: "127.0.0.1",
      connectPort: slowPort,
      connectTimeout: 0.3,
      url: [{ path: "/" }],
    });
    expect(r).toMatchObject({ up: false, reason: "timeout after 300 ms" });
    expect(r.latencyMs).toBeLessThan(5000); // generous upper bound
  });
});

describe("SSL_GET with a self-signed certificate", () => {
  let dir = "";
  let p = 0;
  let cert = "";
  const sni: Array<string | undefined> = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lvs-hc-"));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=rs.example.test",
        "-addext",
        "subjectAltName=DNS:rs.example.test",
      ],
      { stdio: "ignore" },
    );
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    const server = createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert }, (req, res) => {
      sni.push((req.socket as import("node:tls").TLSSocket).servername || undefined);
      res.writeHead(200).end("tls ok");
    });
    p = await listen(server as unknown as Server);
  });

  it("verify off (keepalived default): up", async () => {
    const r = await checkHttp({
      type: "https",
      connectIp: "127.0.0.1",
      connectPort: p,
      url: [{ path: "/" }],
    });
    expect(r).toMatchObject({ up: true, reason: "/ status 200" });
  });

  it("verify on: down for an untrusted self-signed cert, up when it is the trusted CA and the name matches", async () => {
    const base = {
      type: "https" as const,
      connectIp: "127.0.0.1",
      connectPort: p,
      url: [{ path: "/" }],
      tlsVerify: true,
    };
    const untrusted = await checkHttp(base);
    expect(untrusted.up).toBe(false);
    expect(untrusted.reason).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    const trusted = await checkHttp({ ...base, ca: cert, virtualhost: "rs.example.test", enableSni: true });
    expect(trusted).toMatchObject({ up: true });
    const wrongName = await checkHttp({ ...base, ca: cert, virtualhost: "other.example.test" });
    expect(wrongName).toMatchObject({ up: false, reason: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });

  it("sends SNI only with enable_sni", async () => {
    sni.length = 0;
    const base = {
      type: "https" as const,
      connectIp: "127.0.0.1",
      connectPort: p,
      url: [{ path: "/" }],
      virtualhost: "rs.example.test",
    };
    await checkHttp(base);
    await checkHttp({ ...base, enableSni: true });
    expect(sni).toEqual([undefined, "rs.example.test"]);
  });
});

describe("UDP_CHECK", () => {
  let echo: UdpSocket;
  let p = 0;
  beforeAll(async () => {
    echo = createSocket("udp4");
    echo.on("message", (m, rinfo) =>
      echo.send(Buffer.concat([Buffer.from([0xaa]), m]), rinfo.port, rinfo.address),
    );
    await new Promise<void>((r) => echo.bind(0, "127.0.0.1", () => r()));
    p = echo.address().port;
    closers.push(() => echo.close());
  });

  it("up on an echo reply matching require_reply (with ?? wildcards)", async () => {
    const base = { type: "udp" as const, connectIp: "127.0.0.1", connectPort: p, payload: "0102" };
    expect(await checkUdp({ ...base, requireReply: true })).toMatchObject({
      up: true,
      reason: "reply 3 bytes",
    });
    expect((await checkUdp({ ...base, requireReply: "aa??02" })).up).toBe(true);
    expect((await checkUdp({ ...base, requireReply: "bb" })).up).toBe(false);
  });

  it("min_reply_length / max_reply_length bound the reply (3 bytes here) when require_reply gives bytes", async () => {
    const base = {
      type: "udp" as const,
      connectIp: "127.0.0.1",
      connectPort: p,
      payload: "0102",
      requireReply: "aa",
    };
    expect((await checkUdp({ ...base, minReplyLength: 3, maxReplyLength: 3 })).up).toBe(true);
    expect(await checkUdp({ ...base, minReplyLength: 4 })).toMatchObject({
      up: false,
      reason: expect.stringMatching(/reply 3 bytes, outside min_reply_length 4/),
    });
    expect((await checkUdp({ ...base, maxReplyLength: 2 })).up).toBe(false);
  });

  it("as keepalived's check_udp.c: a bare require_reply takes any reply, lengths unjudged; a short reply matching its prefix passes", async () => {
    const base = { type: "udp" as const, connectIp: "127.0.0.1", connectPort: p, payload: "0102" };
    // Bare `require_reply`: keepalived has no reply data, so it never looks at the lengths.
    expect(await checkUdp({ ...base, requireReply: true, minReplyLength: 4 })).toMatchObject({
      up: true,
      reason: "reply 3 bytes",
    });
    // A 4-byte pattern against the 3-byte reply aa 01 02: only 3 bytes are compared.
    expect((await checkUdp({ ...base, requireReply: "aa0102ff" })).up).toBe(true);
    expect((await checkUdp({ ...base, requireReply: "aa0103ff" })).up).toBe(false);
    expect((await checkUdp({ ...base, requireReply: "aa0102ff", minReplyLength: 4 })).up).toBe(false);
    // max_reply_length defaults to 255 once a pattern is given: a 300-byte reply fails.
    const long = "00".repeat(299);
    expect(await checkUdp({ ...base, payload: long, requireReply: "aa" })).toMatchObject({
      up: false,
      reason: "reply 300 bytes, outside min_reply_length 0 / max_reply_length 255",
    });
    expect((await checkUdp({ ...base, payload: long, requireReply: "aa", maxReplyLength: 300 })).up).toBe(
      true,
    );
  });

  it("without require_reply, a send with no ICMP error is up (keepalived)", async () => {
    const sink = createSocket("udp4");
    await new Promise<void>((r) => sink.bind(0, "127.0.0.1", () => r()));
    closers.push(() => sink.close());
    const sinkPort = sink.address().port;
    expect(await checkUdp({ type: "udp", connectIp: "127.0.0.1", connectPort: sinkPort })).toMatchObject({
      up: true,
      reason: "sent, no ICMP error",
    });
    // …but with require_reply, silence is a timeout.
    expect(
      await checkUdp({
        type: "udp",
        connectIp: "127.0.0.1",
        connectPort: sinkPort,
        requireReply: true,
        connectTimeout: 0.2,
      }),
    ).toMatchObject({ up: false, reason: "timeout after 200 ms" });
  });

  it("silent probes time out at their own connect_timeout while answered ones beside them do not", async () => {
    const sink = createSocket("udp4");
    await new Promise<void>((r) => sink.bind(0, "127.0.0.1", () => r()));
    closers.push(() => sink.close());
    const silent = { type: "udp" as const, connectIp: "127.0.0.1", requireReply: true, connectTimeout: 0.15 };
    const answered = { ...silent, connectPort: p };
    const first = [
      checkUdp({ ...silent, connectPort: sink.address().port }),
      checkUdp(answered),
      checkUdp({ ...silent, connectPort: sink.address().port, connectTimeout: 0.25 }),
      checkUdp(answered),
    ];
    await new Promise((r) => setTimeout(r, 50));
    const later = [checkUdp(answered), checkUdp({ ...silent, connectPort: sink.address().port })];
    const [a, b, c, d] = await Promise.all(first);
    const [e, f] = await Promise.all(later);
    expect([a, c, f].map((r) => r?.reason)).toEqual([
      "timeout after 150 ms",
      "timeout after 250 ms",
      "timeout after 150 ms",
    ]);
    expect([b, d, e].every((r) => r?.up)).toBe(true);
    expect(c!.latencyMs).toBeLessThan(5000); // generous upper bound
  });

  it("ICMP port unreachable (ECONNREFUSED on the connected socket) is down", async () => {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    const closed = s.address().port;
    s.close();
    expect(
      await checkUdp({ type: "udp", connectIp: "127.0.0.1", connectPort: closed, connectTimeout: 2 }),
    ).toMatchObject({ up: false, reason: "ECONNREFUSED" });
    expect(
      await checkUdp({
        type: "udp",
        connectIp: "127.0.0.1",
        connectPort: closed,
        connectTimeout: 2,
        requireReply: true,
      }),
    ).toMatchObject({ up: false, reason: "ECONNREFUSED" });
  });

  it("bad hex in payload is a clear error, not a crash", async () => {
    const r = await probe({ type: "udp", connectIp: "127.0.0.1", connectPort: p, payload: "zz" });
    expect(r).toMatchObject({ up: false, reason: 'payload: "zz" is not a hex byte' });
  });
});

describe("DNS_CHECK", () => {
  it("asks the configured type/name and judges the responder's rcode", async () => {
    const sock = createSocket("udp4");
    const asked: string[] = [];
    sock.on("message", (m, rinfo) => {
      const q = decodeDnsMessage(m);
      const question = q.questions[0]!;
      asked.push(`${question.name} ${question.type}`);
      const nx = question.name.startsWith("missing");
      const reply = encodeDnsMessage({
        ...q,
        flags: 0x8180 | (nx ? 3 : 0),
        answers: nx
          ? []
          : [{ name: question.name, type: 1, class: 1, ttl: 60, data: Uint8Array.of(127, 0, 0, 9) }],
      });
      // A stray reply with another id first: must be ignored.
      sock.send(
        encodeDnsMessage({ ...q, id: (q.id + 1) & 0xffff, flags: 0x8182 }),
        rinfo.port,
        rinfo.address,
      );
      sock.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    closers.push(() => sock.close());
    const p = sock.address().port;
    expect(
      await checkDns({
        type: "dns",
        connectIp: "127.0.0.1",
        connectPort: p,
        name: "rs.example.test",
        queryType: "AAAA",
      }),
    ).toMatchObject({ up: true, reason: "NOERROR, 1 answer(s)" });
    expect(
      await checkDns({ type: "dns", connectIp: "127.0.0.1", connectPort: p, name: "missing.example.test" }),
    ).toMatchObject({ up: false, reason: "rcode NXDOMAIN" });
    expect(asked).toEqual(["rs.example.test. 28", "missing.example.test. 1"]);
  });
});

describe("SMTP_CHECK", () => {
  it("expects the 220 banner and a 250 to HELO helo_name", async () => {
    const helos: string[] = [];
    const ok = createNetServer((c) => {
      c.write("220-mx.example.test ESMTP\r\n220 ready\r\n");
      c.on("data", (d) => {
        const line = d.toString();
        if (line.startsWith("HELO")) {
          helos.push(line.trim());
          c.write("250 mx.example.test\r\n");
        } else if (line.startsWith("QUIT")) c.end("221 bye\r\n");
      });
    });
    const busy = createNetServer((c) => c.end("421 too busy\r\n"));
    const okPort = await listen(ok);
    const busyPort = await listen(busy);
    expect(
      await checkSmtp({
        type: "smtp",
        connectIp: "127.0.0.1",
        connectPort: okPort,
        heloName: "lb1.example.test",
      }),
    ).toMatchObject({ up: true, reason: "HELO accepted" });
    expect(helos).toEqual(["HELO lb1.example.test"]);
    expect(await checkSmtp({ type: "smtp", connectIp: "127.0.0.1", connectPort: busyPort })).toMatchObject({
      up: false,
      reason: 'banner "421 too busy"',
    });
  });
});

describe("MISC_CHECK", () => {
  let dir = "";
  let script = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lvs-misc-"));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    script = join(dir, "check.sh");
    writeFileSync(script, '#!/bin/sh\n[ "$1" = sleep ] && exec sleep 5\nexit "$1"\n');
    chmodSync(script, 0o755);
  });

  it.each([
    [0, false, { up: true, reason: "exit 0" }],
    [1, false, { up: false, reason: "exit 1" }],
    [1, true, { up: false, reason: "exit 1" }],
    [7, false, { up: false, reason: "exit 7" }],
    [2, true, { up: true, reason: "exit 2", weight: 0 }],
    [52, true, { up: true, reason: "exit 52", weight: 50 }],
    [255, true, { up: true, reason: "exit 255", weight: 253 }],
  ])("exit %i (misc_dynamic %s)", async (code, dynamic, expected) => {
    const r = await checkMisc({ type: "misc", miscPath: [script, String(code)], miscDynamic: dynamic });
    expect(r).toEqual({ ...expected, latencyMs: r.latencyMs });
  });

  it("argv is not a shell: metacharacters are passed literally", async () => {
    const r = await checkMisc({ type: "misc", miscPath: ["/bin/test", "a;b", "=", "a;b"] });
    expect(r.up).toBe(true);
  });

  it("kills the program at misc_timeout; runs as `user`", async () => {
    const r = await checkMisc({ type: "misc", miscPath: [script, "sleep"], miscTimeout: 0.3 });
    expect(r).toMatchObject({ up: false, reason: "timeout after 300 ms" });
    // uid 65534 (nobody) cannot write into root's 0700 dir.
    const probeDir = mkdtempSync(join(tmpdir(), "lvs-user-"));
    closers.push(() => rmSync(probeDir, { recursive: true, force: true }));
    const asRoot = await checkMisc({ type: "misc", miscPath: ["/usr/bin/touch", join(probeDir, "x")] });
    const asNobody = await checkMisc({
      type: "misc",
      miscPath: ["/usr/bin/touch", join(probeDir, "y")],
      user: { uid: 65534, gid: 65534 },
    });
    expect(asRoot.up).toBe(true);
    expect(asNobody).toMatchObject({ up: false, reason: "exit 1" });
  });

  it.each([
    ["exits on SIGTERM", ""],
    ["ignores SIGTERM (only the SIGKILL step ends it)", 'trap "" TERM\n'],
  ])(
    "a timeout ends the whole process group, background children too: a script that %s",
    async (_, trap) => {
      const forker = join(dir, `forker${trap ? "-stubborn" : ""}.sh`);
      const pidsFile = `${forker}.pids`;
      writeFileSync(forker, `#!/bin/sh\n${trap}sleep 1000 &\necho "$$ $!" > "${pidsFile}"\nwait\n`);
      chmodSync(forker, 0o755);
      const r = await checkMisc({ type: "misc", miscPath: [forker], miscTimeout: 0.5 });
      expect(r).toMatchObject({ up: false, reason: "timeout after 500 ms" });
      const [shell, sleeper] = readFileSync(pidsFile, "utf8").trim().split(" ").map(Number) as [
        number,
        number,
      ];
      try {
        // The script led a group of its own (setsid), which held its background sleep.
        expect(shell).toBeGreaterThan(0);
        // SIGTERM at once, SIGKILL SCRIPT_KILL_GRACE_MS (2 s) later: 10 s is a generous bound.
        await waitFor(
          () => !processRunning(shell) && !processRunning(sleeper) && processGroupMembers(shell).length === 0,
          { timeoutMs: 10_000, what: `process group ${shell} (sleep ${sleeper}) to end` },
        );
      } finally {
        for (const pid of [shell, sleeper]) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone, as it should be
          }
        }
      }
    },
    20_000,
  );

  it("a missing program is down with ENOENT", async () => {
    expect(await checkMisc({ type: "misc", miscPath: [join(dir, "nope")] })).toMatchObject({
      up: false,
      reason: `${join(dir, "nope")}: ENOENT`,
    });
  });
});

describe("PING_CHECK", () => {
  it("ICMP echo to 127.0.0.1 and ::1 (root)", async () => {
    expect(await checkIcmp({ type: "icmp", connectIp: "127.0.0.1", connectTimeout: 2 })).toMatchObject({
      up: true,
      reason: "echo reply from 127.0.0.1",
    });
    expect(await checkIcmp({ type: "icmp", connectIp: "::1", connectTimeout: 2 })).toMatchObject({
      up: true,
      reason: "echo reply from ::1",
    });
  });
});

describe("runner end to end with real probes", () => {
  it("a server that goes away is reported down, then up again", async () => {
    let server = createNetServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const p = port(server);
    const events: TargetEvent[] = [];
    let notify: () => void = () => {};
    const runner = new HealthCheckRunner({
      random: () => 0,
      onEvent: (e) => {
        events.push(e);
        notify();
      },
    });
    const next = () =>
      new Promise<void>((r) => {
        notify = r;
      });
    closers.push(() => runner.stop());
    runner.configure([
      {
        id: "rs",
        check: { type: "tcp", connectIp: "127.0.0.1", connectPort: p },
        policy: { delayLoop: 0.05, retry: 0, fall: 2, rise: 2 },
      },
    ]);
    const down = next();
    await new Promise((r) => server.close(r));
    await down;
    const up = next();
    server = createNetServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(p, "127.0.0.1", () => r()));
    closers.push(() => server.close());
    await up;
    runner.stop();
    expect(events.map((e) => [e.kind, e.reason])).toEqual([
      ["down", "ECONNREFUSED"],
      ["up", "connected"],
    ]);
  });
});

// HTTP_GET and SSL_GET against nginx (Debian nginx-light) in a namespace: status ranges, SNI with
// two certificates, and `digest` values computed by keepalived's own genhash on the same pages.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SpawnedProcess } from "@lvs/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpCheck } from "../../src/index.js";
import {
  type CheckerLab,
  canRunLab,
  createCheckerLab,
  DIRECTOR_IF,
  SERVER_IP,
  SIDE_IF,
  serverListens,
} from "./lab.js";

const NGINX = "/usr/sbin/nginx";
const GENHASH = "/usr/bin/genhash";
const OPENSSL = "/usr/bin/openssl";
const ready = canRunLab() && existsSync(NGINX) && existsSync(GENHASH) && existsSync(OPENSSL);

/** A self-signed certificate for `name` (its own CA, so `ca` = the certificate verifies it). */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    OPENSSL,
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=DNS:${name}`,
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
}

function nginxConf(dir: string, a: { cert: string; key: string }, b: { cert: string; key: string }): string {
  // master_process off: one process, ours to kill; every path inside the lab's temp dir.
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log off;
  default_type text/plain;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen ${SERVER_IP}:80;
    root ${dir}/www;
    location = /created { return 201 "created\\n"; }
    location = /moved { return 302 /index.html; }
    location = /unavailable { return 503 "try later\\n"; }
  }
  server {
    listen ${SERVER_IP}:443 ssl default_server;
    server_name a.hc.test;
    ssl_certificate ${a.cert};
    ssl_certificate_key ${a.key};
    root ${dir}/www-a;
  }
  server {
    listen ${SERVER_IP}:443 ssl;
    server_name b.hc.test;
    ssl_certificate ${b.cert};
    ssl_certificate_key ${b.key};
    root ${dir}/www-b;
  }
}
`;
}

describe.skipIf(!ready)("HTTP_GET / SSL_GET against nginx in a namespace", () => {
  let lab: CheckerLab;
  let certB: string;
  let nginx: SpawnedProcess;
  const http = (over: Partial<HttpCheck> & Pick<HttpCheck, "url">): HttpCheck => ({
    type: "http",
    connectIp: SERVER_IP,
    connectPort: 80,
    connectTimeout: 3,
    ...over,
  });
  const https = (over: Partial<HttpCheck> & Pick<HttpCheck, "url">): HttpCheck => ({
    type: "https",
    connectIp: SERVER_IP,
    connectPort: 443,
    connectTimeout: 3,
    ...over,
  });
  /** genhash (keepalived's digest tool) run from the director namespace; its last line is the MD5. */
  const genhash = async (args: string[]): Promise<string> => {
    const r = await lab.director.exec([GENHASH, "-s", SERVER_IP, ...args, "-t", "3"], { timeoutMs: 10_000 });
    const digest = r.stdout.trim().split("\n").pop() ?? "";
    if (r.code !== 0 || !/^[0-9a-f]{32}$/.test(digest)) {
      throw new Error(`genhash ${args.join(" ")} → exit ${r.code}: ${r.stdout}${r.stderr}`);
    }
    return digest;
  };

  beforeAll(async () => {
    lab = await createCheckerLab("nginx");
    const { dir } = lab;
    for (const d of ["www", "www-a", "www-b"]) mkdirSync(join(dir, d));
    writeFileSync(join(dir, "www", "index.html"), "<html><body>real server one</body></html>\n");
    writeFileSync(join(dir, "www-a", "index.html"), "site a\n");
    writeFileSync(join(dir, "www-b", "index.html"), "site b\n");
    const a = selfSigned(dir, "a.hc.test");
    const b = selfSigned(dir, "b.hc.test");
    certB = execFileSync("cat", [b.cert], { encoding: "utf8" });
    writeFileSync(join(dir, "nginx.conf"), nginxConf(dir, a, b));
    nginx = await lab.startDaemon(
      [NGINX, "-p", dir, "-c", join(dir, "nginx.conf"), "-e", "stderr"],
      async () => (await serverListens(lab.server, "tcp", 80)) && serverListens(lab.server, "tcp", 443),
      "nginx",
    );
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("status codes: 200 within the default 200-299, 404 and 503 outside it, explicit lists and ranges", async () => {
    const [ok, missing, missing404, unavailable, created, moved, moved3xx] = await lab.probe(
      http({ url: [{ path: "/index.html" }] }),
      http({ url: [{ path: "/no-such-page" }] }),
      http({ url: [{ path: "/no-such-page", statusCode: [404] }] }),
      http({ url: [{ path: "/unavailable", statusCode: [[200, 299], 302] }] }),
      http({ url: [{ path: "/created", statusCode: [[200, 299]] }] }),
      http({ url: [{ path: "/moved" }] }),
      http({ url: [{ path: "/moved", statusCode: [[300, 399]] }] }),
    );
    expect(ok).toMatchObject({ up: true, reason: "/index.html status 200" });
    expect(missing).toMatchObject({ up: false, reason: "status 404 not in 200-299" });
    expect(missing404).toMatchObject({ up: true, reason: "/no-such-page status 404" });
    expect(unavailable).toMatchObject({ up: false, reason: "status 503 not in 200-299,302" });
    expect(created).toMatchObject({ up: true, reason: "/created status 201" });
    expect(moved).toMatchObject({ up: false, reason: "status 302 not in 200-299" });
    expect(moved3xx?.up).toBe(true);
  });

  it("every url must pass: one failing url makes the check DOWN, whatever its position", async () => {
    const [both, secondBad] = await lab.probe(
      http({ url: [{ path: "/index.html" }, { path: "/created" }] }),
      http({ url: [{ path: "/index.html" }, { path: "/no-such-page" }] }),
    );
    expect(both?.up).toBe(true);
    expect(secondBad).toMatchObject({ up: false, reason: "status 404 not in 200-299" });
  });

  it("HTTP 1.0, 1.0C and 1.1 requests all read nginx's reply", async () => {
    const results = await lab.probe(
      ...(["1.0", "1.0C", "1.1"] as const).map((httpProtocol) =>
        http({ httpProtocol, url: [{ path: "/index.html", regex: "real server one" }] }),
      ),
    );
    expect(results.map((r) => r.up)).toEqual([true, true, true]);
  });

  it("digest: genhash's MD5 of the page makes the check UP; a changed page makes it DOWN", async () => {
    const page = join(lab.dir, "www", "index.html");
    const digest = await genhash(["-p", "80", "-u", "/index.html"]);
    const check = http({ url: [{ path: "/index.html", digest }] });
    const [before] = await lab.probe(check);
    expect(before).toMatchObject({ up: true, reason: "/index.html status 200" });

    writeFileSync(page, "<html><body>real server one, edited</body></html>\n");
    const newDigest = await genhash(["-p", "80", "-u", "/index.html"]);
    expect(newDigest).not.toBe(digest);
    const [after] = await lab.probe(check);
    expect(after).toMatchObject({ up: false, reason: `digest ${newDigest} != ${digest}` });
    // And genhash's new value is what our checker computes on the edited page.
    const [again] = await lab.probe(http({ url: [{ path: "/index.html", digest: newDigest }] }));
    expect(again?.up).toBe(true);
  });

  it("SSL_GET + SNI: enable_sni selects b's server block and certificate (verified), without SNI nginx answers with a's", async () => {
    const url = [{ path: "/index.html", regex: "^site b" }];
    const [sniVerified, noSniVerified, sniUnverified, noSniUnverified] = await lab.probe(
      https({ virtualhost: "b.hc.test", enableSni: true, tlsVerify: true, ca: certB, url }),
      https({ virtualhost: "b.hc.test", enableSni: false, tlsVerify: true, ca: certB, url }),
      https({ virtualhost: "b.hc.test", enableSni: true, url }),
      // keepalived's default: no verification, so a's certificate is accepted; the Host header
      // still routes the request to b's server block.
      https({ virtualhost: "b.hc.test", url }),
    );
    expect(sniVerified).toMatchObject({ up: true, reason: "/index.html status 200" });
    // a's certificate (self-signed, not the `ca` given) is what nginx served without SNI.
    expect(noSniVerified).toMatchObject({ up: false, reason: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    expect(sniUnverified?.up).toBe(true);
    expect(noSniUnverified?.up).toBe(true);
  });

  it("SSL_GET digest: genhash -S -I (SNI) over TLS gives the digest our checker accepts", async () => {
    const digestB = await genhash(["-S", "-I", "-V", "b.hc.test", "-p", "443", "-u", "/index.html"]);
    const digestA = await genhash(["-S", "-p", "443", "-u", "/index.html"]);
    expect(digestB).not.toBe(digestA);
    const [b, bAsA, a] = await lab.probe(
      https({ virtualhost: "b.hc.test", enableSni: true, url: [{ path: "/index.html", digest: digestB }] }),
      https({ virtualhost: "b.hc.test", enableSni: true, url: [{ path: "/index.html", digest: digestA }] }),
      https({ url: [{ path: "/index.html", digest: digestA }] }),
    );
    expect(b?.up).toBe(true);
    expect(bAsA).toMatchObject({ up: false, reason: `digest ${digestB} != ${digestA}` });
    expect(a?.up).toBe(true);
  });

  it("bind_if: HTTP_GET and SSL_GET (SNI, verified) through the device towards nginx are UP, through a dead-end device DOWN", async () => {
    const url = [{ path: "/index.html", regex: "^site b" }];
    const [plain, tls, deadEnd] = await lab.probe(
      http({ bindIf: DIRECTOR_IF, url: [{ path: "/index.html", regex: "real server one" }] }),
      https({
        bindIf: DIRECTOR_IF,
        virtualhost: "b.hc.test",
        enableSni: true,
        tlsVerify: true,
        ca: certB,
        url,
      }),
      http({ bindIf: SIDE_IF, connectTimeout: 0.5, url: [{ path: "/index.html" }] }),
    );
    expect(plain).toMatchObject({ up: true, reason: "/index.html status 200" });
    expect(tls).toMatchObject({ up: true, reason: "/index.html status 200" });
    expect(deadEnd?.up).toBe(false);
  });

  it("nginx gone: DOWN with ECONNREFUSED (the server namespace still answers with RST)", async () => {
    nginx.kill("SIGKILL");
    await nginx.exited;
    expect(await serverListens(lab.server, "tcp", 80)).toBe(false);
    const [r] = await lab.probe(http({ url: [{ path: "/index.html" }] }));
    expect(r).toMatchObject({ up: false, reason: "ECONNREFUSED" });
  });
});

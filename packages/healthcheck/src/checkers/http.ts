import { createHash } from "node:crypto";
import { isIP, type NetConnectOpts, connect as netConnect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { checkServerIdentity, connect as tlsConnect } from "node:tls";
import { formatEndpoint } from "@lvs/inet";
import { HTTP_MAX_RESPONSE_BYTES } from "../constants.js";
import type { HttpCheck, HttpUrl, ProbeOptions, ProbeResult } from "../types.js";
import { connectTcp } from "./sockets.js";
import { Attempt, errorReason } from "./util.js";

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Parse a complete HTTP/1.x response; returns undefined while more bytes are needed. */
export function parseHttpResponse(buf: Buffer, complete: boolean): HttpResponse | undefined {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) {
    if (complete) throw new Error("connection closed before end of headers");
    return undefined;
  }
  const lines = buf.subarray(0, headEnd).toString("latin1").split("\r\n");
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? "");
  if (!m) throw new Error(`bad status line "${(lines[0] ?? "").slice(0, 40)}"`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = buf.subarray(headEnd + 4);
  const status = Number(m[1]);
  if ((headers["transfer-encoding"] ?? "").toLowerCase().includes("chunked")) {
    const parts: Buffer[] = [];
    let off = 0;
    for (;;) {
      const eol = rest.indexOf("\r\n", off);
      if (eol < 0) break;
      const size = Number.parseInt(rest.subarray(off, eol).toString("latin1"), 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size");
      if (size === 0) return { status, headers, body: Buffer.concat(parts) };
      if (eol + 2 + size + 2 > rest.length) break;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      off = eol + 2 + size + 2;
    }
    if (complete) throw new Error("connection closed inside chunked body");
    return undefined;
  }
  const cl = headers["content-length"];
  if (cl !== undefined) {
    const len = Number(cl);
    if (rest.length >= len) return { status, headers, body: rest.subarray(0, len) };
    if (complete) throw new Error(`body truncated: ${rest.length} of ${len} bytes`);
    return undefined;
  }
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { status, headers, body: Buffer.alloc(0) };
  }
  return complete ? { status, headers, body: rest } : undefined;
}

export function statusMatches(status: number, spec: HttpUrl["statusCode"]): boolean {
  if (!spec || spec.length === 0) return status >= 200 && status <= 299;
  return spec.some((s) => (typeof s === "number" ? s === status : status >= s[0] && status <= s[1]));
}

function formatStatusSpec(spec: HttpUrl["statusCode"]): string {
  if (!spec || spec.length === 0) return "200-299";
  return spec.map((s) => (typeof s === "number" ? String(s) : `${s[0]}-${s[1]}`)).join(",");
}

/** Judge one response against one `url { }` block; returns a reason when it fails. */
export function judgeResponse(res: HttpResponse, url: HttpUrl): string | undefined {
  if (!statusMatches(res.status, url.statusCode)) {
    return `status ${res.status} not in ${formatStatusSpec(url.statusCode)}`;
  }
  if (url.digest !== undefined) {
    const got = createHash("md5").update(res.body).digest("hex");
    if (got !== url.digest.toLowerCase()) return `digest ${got} != ${url.digest.toLowerCase()}`;
  }
  if (url.regex !== undefined) {
    const matched = new RegExp(url.regex).test(res.body.toString("utf8"));
    if (matched === Boolean(url.regexNoMatch)) {
      return url.regexNoMatch ? `body matches /${url.regex}/` : `body does not match /${url.regex}/`;
    }
  }
  return undefined;
}

function requestOne(def: HttpCheck, url: HttpUrl, opts: ProbeOptions): Promise<ProbeResult> {
  const attempt = new Attempt(def.connectTimeout, opts);
  const https = def.type === "https";
  const port = def.connectPort ?? (https ? 443 : 80);
  const defaultPort = port === (https ? 443 : 80);
  const host =
    url.virtualhost ??
    def.virtualhost ??
    (defaultPort ? formatEndpoint(def.connectIp) : formatEndpoint(def.connectIp, port));
  const proto = def.httpProtocol ?? "1.0";
  const version = proto === "1.1" ? "HTTP/1.1" : "HTTP/1.0";
  const request =
    `GET ${url.path} ${version}\r\nHost: ${host}\r\nUser-Agent: lvs-healthcheck\r\n` +
    `${proto === "1.0" ? "" : "Connection: close\r\n"}\r\n`;
  // `bind_if`: a device-bound TCP socket of our own, which TLS then runs over.
  let deviceTcp: Socket | undefined;
  if (def.bindIf !== undefined) {
    deviceTcp = connectTcp(def, port, attempt);
    if (!deviceTcp) return attempt.promise;
    const made = deviceTcp;
    attempt.onCleanup(() => made.destroy());
  }
  const common = deviceTcp
    ? { socket: deviceTcp }
    : {
        host: def.connectIp,
        port,
        ...(def.bindto !== undefined ? { localAddress: def.bindto } : {}),
        ...(def.bindPort !== undefined ? { localPort: def.bindPort } : {}),
      };
  const sniHost = url.virtualhost ?? def.virtualhost;
  let sock: Socket;
  if (https) {
    sock = tlsConnect({
      ...common,
      rejectUnauthorized: def.tlsVerify === true,
      ...(def.ca !== undefined ? { ca: def.ca } : {}),
      // SNI must be a hostname, never an IP literal (RFC 6066 §3).
      ...(def.enableSni && sniHost && isIP(sniHost.replace(/:\d+$/, "")) === 0
        ? { servername: sniHost.replace(/:\d+$/, "") }
        : {}),
      // With verification on and no SNI, check the certificate against the virtualhost/IP.
      checkServerIdentity: (hostname, cert) =>
        def.tlsVerify
          ? checkServerIdentity(sniHost?.replace(/:\d+$/, "") ?? hostname ?? def.connectIp, cert)
          : undefined,
    });
    sock.once("secureConnect", () => sock.write(request));
  } else {
    sock = deviceTcp ?? netConnect(common as NetConnectOpts);
    sock.once("connect", () => sock.write(request));
  }
  attempt.onCleanup(() => sock.destroy());
  const chunks: Buffer[] = [];
  let total = 0;
  const tryFinish = (complete: boolean) => {
    let res: HttpResponse | undefined;
    try {
      res = parseHttpResponse(Buffer.concat(chunks), complete);
    } catch (err) {
      attempt.down((err as Error).message);
      return;
    }
    if (!res) return;
    const why = judgeResponse(res, url);
    if (why) attempt.down(why);
    else attempt.up(`${url.path} status ${res.status}`);
  };
  sock.on("data", (d: Buffer) => {
    chunks.push(d);
    total += d.length;
    if (total > HTTP_MAX_RESPONSE_BYTES)
      attempt.down(`response larger than ${HTTP_MAX_RESPONSE_BYTES} bytes`);
    else tryFinish(false);
  });
  sock.once("end", () => tryFinish(true));
  sock.once("error", (err) => attempt.down(errorReason(err)));
  return attempt.promise;
}

/** HTTP_GET / SSL_GET: every `url` must pass; one connection per url, as keepalived. */
export async function checkHttp(def: HttpCheck, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const started = performance.now();
  let last: ProbeResult | undefined;
  for (const url of def.url) {
    last = await requestOne(def, url, opts);
    if (!last.up) return { ...last, latencyMs: performance.now() - started };
  }
  if (!last) return { up: false, reason: "no url configured", latencyMs: 0 };
  return { ...last, latencyMs: performance.now() - started };
}

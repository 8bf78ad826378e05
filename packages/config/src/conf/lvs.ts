// virtual_server_group, virtual_server, real_server and the checkers of keepalived.conf
// (keepalived 2.2.7 check/check_parser.c, check_api.c, check_http.c, check_misc.c, check_udp.c,
// check_dns.c, check_smtp.c). Values inherited from enclosing blocks are filled later by
// resolve.ts, which the YAML loader shares.
import { isIP } from "node:net";
import type { Statement } from "../ast.js";
import { DNS_QUERY_TYPES, DNS_TYPE_DEFAULT, PERSISTENCE_TIMEOUT_DEFAULT } from "../constants.js";
import type { Word } from "../lexer.js";
import {
  accountAs,
  args,
  bool,
  type Ctx,
  deprecated,
  type Frame,
  flag,
  frame,
  type Handler,
  int,
  needBlock,
  noBlock,
  type Obj,
  put,
  registerTable,
  runAs,
  runBlock,
  scalar,
  script,
  scriptValue,
  secs,
  str,
  type Table,
  toInt,
} from "./context.js";
import { blockName } from "./vrrp.js";

// ───────────────────────────── virtual_server_group ─────────────────────────────

/** `10.0.0.1-10` / `10.0.0.250-10.0.1.10` / `10.0.0.8/29` → [first, last]. */
function addressRange(text: string): [string, string | undefined] | undefined {
  const slash = /^(.+)\/(\d+)$/.exec(text);
  if (slash && isIP(slash[1]!) === 4) {
    const bits = Number(slash[2]);
    if (bits > 32) return undefined;
    const n = ipv4ToInt(slash[1]!);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const first = (n & mask) >>> 0;
    const last = (first | (~mask >>> 0)) >>> 0;
    return [intToIpv4(first), first === last ? undefined : intToIpv4(last)];
  }
  const dash = text.lastIndexOf("-");
  if (dash < 0) return [text, undefined];
  const first = text.slice(0, dash);
  const end = text.slice(dash + 1);
  if (isIP(end)) return [first, end];
  const fam = isIP(first);
  if (fam === 4 && /^\d{1,3}$/.test(end)) return [first, first.replace(/\d+$/, end)];
  if (fam === 6 && /^[0-9a-fA-F]{1,4}$/.test(end)) return [first, first.replace(/[0-9a-fA-F]+$/, end)];
  return undefined;
}

function ipv4ToInt(s: string): number {
  return s.split(".").reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
}
function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

export function readVirtualServerGroup(st: Statement, root: Obj, c: Ctx): void {
  const name = blockName(st, c, "WEB");
  const body = needBlock(st, c);
  if (!name || !body) return;
  const list = root.virtualServerGroups as Obj[];
  const path = ["virtualServerGroups", list.length];
  const entries: Obj[] = [];
  list.push({ name: name.text, entries });
  c.sources.set(path, { pos: st.keyword.pos, keyword: "virtual_server_group" });
  c.sources.set([...path, "name"], { pos: name.pos, keyword: "virtual_server_group" });
  c.sources.set([...path, "entries"], { pos: st.keyword.pos, keyword: "virtual_server_group" });
  for (const line of body) {
    noBlock(line, c);
    const p = [...path, "entries", entries.length];
    const w = line.keyword;
    if (w.text === "fwmark") {
      const a = args(line, c, 1, 2, "1");
      if (!a) continue;
      const e: Obj = { fwmark: toInt(a[0]!) };
      if (a[1]) e.family = a[1].text;
      c.sources.set(p, { pos: w.pos, keyword: "fwmark", hintKeyword: "fwmark" });
      c.sources.set([...p, "fwmark"], { pos: w.pos, keyword: "fwmark", valuePos: a[0]!.pos });
      if (a[1]) c.sources.set([...p, "family"], { pos: a[1].pos, keyword: "fwmark" });
      entries.push(e);
      continue;
    }
    const range = addressRange(w.text);
    if (!range) {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        w.pos,
        `virtual_server_group ${name.text}: \`${w.text}\` is not an address, range or subnet; write \`10.0.0.1 80\`, \`10.0.0.1-10 80\` or \`10.0.0.8/29 80\``,
        "virtual_server_group",
      );
      continue;
    }
    if (line.args.length > 1) args(line, c, 0, 1, "");
    const e: Obj = { address: range[0], port: line.args[0] ? toInt(line.args[0]) : 0 };
    if (range[1]) e.lastAddress = range[1];
    c.sources.set(p, { pos: w.pos, keyword: "virtual_server_group", hintKeyword: "" });
    c.sources.set([...p, "address"], { pos: w.pos, keyword: "virtual_server_group", hintKeyword: "" });
    if (range[1])
      c.sources.set([...p, "lastAddress"], { pos: w.pos, keyword: "virtual_server_group", hintKeyword: "" });
    if (line.args[0])
      c.sources.set([...p, "port"], { pos: line.args[0].pos, keyword: "port", hintKeyword: "" });
    entries.push(e);
  }
}

// ───────────────────────────── shared: lvs_method, notify, timers ─────────────────────────────

/** `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` → LvsMethod. */
function lvsMethod(st: Statement, c: Ctx): Obj | undefined {
  const a = args(st, c, 1, 6, "DR");
  if (!a) return undefined;
  const v: Obj = { method: a[0]!.text };
  for (let i = 1; i < a.length; i++) {
    const w = a[i]!;
    if (w.text === "type" && a[i + 1]) {
      v.tunnelType = a[++i]!.text;
    } else if (w.text === "port" && a[i + 1]) {
      v.tunnelPort = toInt(a[++i]!);
    } else if (["nocsum", "csum", "remcsum"].includes(w.text)) {
      v.tunnelChecksum = w.text;
    } else {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        w.pos,
        `${st.keyword.text}: unexpected \`${w.text}\`; write \`${st.keyword.text} TUN type gue port 6080\` or \`${st.keyword.text} DR\``,
        st.keyword.text,
      );
      return undefined;
    }
  }
  if (v.method !== "TUN" && a.length > 1) {
    c.sink.error(
      "CONFIG_INVALID_VALUE",
      a[1]!.pos,
      `${st.keyword.text}: tunnel options only apply to TUN; write \`${st.keyword.text} ${a[0]!.text}\``,
      st.keyword.text,
    );
    return undefined;
  }
  if (v.tunnelType === "gue" && v.tunnelPort === undefined) {
    c.sink.error(
      "CONFIG_MISSING_PARAMETER",
      st.keyword.pos,
      `gue tunnels need a port; write \`${st.keyword.text} TUN type gue port 6080\``,
      st.keyword.text,
    );
    return undefined;
  }
  return v;
}

const method =
  (field: string): Handler =>
  (st, f, c) => {
    noBlock(st, c);
    const v = lvsMethod(st, c);
    if (v) {
      put(f, c, field, v, st, st.args[0]);
      c.sources.set([...f.path, field, "method"], { pos: st.args[0]!.pos, keyword: st.keyword.text });
    }
  };

/** `alpha` / `inhibit_on_failure` on real servers and checkers take an optional <BOOL>. */
const optBool: Handler = bool;

// ───────────────────────────── checkers ─────────────────────────────

const CHECK_TYPES: Record<string, string> = {
  TCP_CHECK: "tcp",
  HTTP_GET: "http",
  SSL_GET: "https",
  MISC_CHECK: "misc",
  UDP_CHECK: "udp",
  PING_CHECK: "icmp",
  DNS_CHECK: "dns",
  SMTP_CHECK: "smtp",
};

/** Checker-level keywords that go into `check` (the rest go into `policy` or the checker itself). */
function checkField(f: Frame): Frame {
  return { ...f, obj: f.obj.check as Obj, path: [...f.path, "check"], seen: f.seen, label: f.label };
}
function policyField(f: Frame): Frame {
  return { ...f, obj: f.obj.policy as Obj, path: [...f.path, "policy"], seen: f.seen, label: f.label };
}

const inCheck =
  (h: Handler): Handler =>
  (st, f, c) =>
    h(st, checkField(f), c);
const inPolicy =
  (h: Handler): Handler =>
  (st, f, c) =>
    h(st, policyField(f), c);

const COMMON_CONNECT: Table = {
  connect_ip: inCheck(str("10.0.0.2")),
  connect_port: inCheck(int("80")),
  bindto: inCheck(str("10.0.0.1")),
  bind_port: inCheck(int("10000")),
  connect_timeout: inCheck(secs("3")),
  bind_if: str("eth0"),
  fwmark: int("1"),
};

const COMMON_POLICY: Table = {
  retry: inPolicy(int("3")),
  delay_before_retry: inPolicy(secs("3")),
  warmup: inPolicy(secs("0")),
  delay_loop: inPolicy(secs("6")),
  alpha: inPolicy(optBool),
  log_all_failures: bool,
};

/** `status_code 200 300-399 …` → [200, [300, 399]]. */
function statusCodes(st: Statement, f: Frame, c: Ctx): void {
  noBlock(st, c);
  const a = args(st, c, 1, 1000, "200-299");
  if (!a) return;
  const out: Array<number | [number, number] | string> = [];
  for (const w of a) {
    for (const part of w.text.split(",").filter(Boolean)) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(part);
      if (!m) {
        out.push(part);
        continue;
      }
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? undefined : Number(m[2]);
      if (hi !== undefined && hi < lo) {
        c.sink.error(
          "CONFIG_INVALID_VALUE",
          w.pos,
          `status_code range ${part} is reversed; write \`${hi}-${lo}\``,
          "status_code",
        );
        return;
      }
      out.push(hi === undefined ? lo : [lo, hi]);
    }
  }
  put(f, c, "statusCode", out, st, a[0]);
}

const URL: Table = registerTable("url", {
  path: str("/health"),
  digest: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 1, 1, "9b3a0c85a887a256d6939da88aabd8cd");
    if (a) put(f, c, "digest", a[0]!.text.toLowerCase(), st, a[0]);
  },
  status_code: statusCodes,
  virtualhost: str("www.example.com"),
  regex: str("OK"),
  regex_no_match: (st, f, c) => {
    noBlock(st, c);
    put(f, c, "regexNoMatch", true, st);
  },
});
export const URL_IGNORED = new Set(["regex_options", "regex_min_offset", "regex_max_offset", "regex_stack"]);

const HTTP: Table = {
  ...COMMON_CONNECT,
  ...COMMON_POLICY,
  nb_get_retry: deprecated("retry", inPolicy(scalar("int", "retry", "3"))),
  virtualhost: inCheck(str("www.example.com")),
  http_protocol: inCheck(str("1.1")),
  enable_sni: inCheck(flag),
  fast_recovery: bool,
  url: (st, f, c) => {
    const body = needBlock(st, c);
    if (!body) return;
    const check = f.obj.check as Obj;
    const urls = (check.url as Obj[] | undefined) ?? [];
    check.url = urls;
    const path = [...f.path, "check", "url", urls.length];
    const u: Obj = {};
    urls.push(u);
    c.sources.set([...f.path, "check", "url"], { pos: st.keyword.pos, keyword: "url" });
    c.sources.set(path, { pos: st.keyword.pos, keyword: "url" });
    runBlock(body, URL, frame(u, path, `${f.label} url`), c, URL_IGNORED);
  },
};

const MISC: Table = {
  ...COMMON_POLICY,
  misc_path: (st, f, c) => {
    noBlock(st, c);
    const v = scriptValue(st, c, false);
    if (v) put(checkField(f), c, "miscPath", v.argv, st, st.args[0]);
  },
  misc_timeout: inCheck(int("5")),
  misc_dynamic: inCheck(flag),
  user: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 1, 2, "nobody");
    if (!a) return;
    const u = runAs(c, a[0]!, a[1], a[0]!.pos, "user");
    if (u) put(checkField(f), c, "user", u, st, a[0]);
  },
};

/** keepalived's free-format hex: "Ab12f 3 456" → "ab120f034506"; X/x nibbles = any (require_reply). */
function hexString(words: Word[], wildcard: boolean): string | undefined {
  let out = "";
  for (const w of words) {
    const t = w.text;
    const re = wildcard ? /^[0-9a-fA-FxX]+$/ : /^[0-9a-fA-F]+$/;
    if (!re.test(t)) return undefined;
    const padded = t.length % 2 ? `0${t}` : t;
    out += padded;
  }
  // healthcheck's pattern syntax: "??" for a wildcard byte (a single x nibble widens to the byte).
  return out.replace(/([0-9a-fA-FxX]{2})/g, (b) => (/[xX]/.test(b) ? "??" : b.toLowerCase()));
}

const UDP: Table = {
  ...COMMON_CONNECT,
  ...COMMON_POLICY,
  payload: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 1, 1000, "00");
    if (!a) return;
    const hex = hexString(a, false);
    if (hex === undefined) {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        a[0]!.pos,
        "payload must be hex digits; write `payload 0102ab`",
        "payload",
      );
      return;
    }
    put(checkField(f), c, "payload", hex, st, a[0]);
  },
  require_reply: (st, f, c) => {
    noBlock(st, c);
    if (st.args.length === 0) {
      put(checkField(f), c, "requireReply", true, st);
      return;
    }
    const hex = hexString(st.args, true);
    if (hex === undefined) {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        st.args[0]!.pos,
        "require_reply must be hex digits (x = any nibble); write `require_reply 01xx`",
        "require_reply",
      );
      return;
    }
    put(checkField(f), c, "requireReply", hex, st, st.args[0]);
  },
  min_reply_length: int("0"),
  max_reply_length: int("255"),
};

const DNS: Table = {
  ...COMMON_CONNECT,
  ...COMMON_POLICY,
  // keepalived check_dns.c dns_type_handler: the name is matched without regard to case; an
  // unknown one is reported and ignored (the default type is asked for), never a refusal.
  type: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 1, 1, "A");
    if (!a) return;
    const w = a[0]!;
    const t = w.text.toUpperCase();
    if (!(DNS_QUERY_TYPES as readonly string[]).includes(t)) {
      c.sink.warn(
        "CONFIG_INVALID_VALUE",
        w.pos,
        `unknown DNS_CHECK type ${w.text}, ignored as keepalived does: ${DNS_TYPE_DEFAULT} is asked for (types: ${DNS_QUERY_TYPES.join(", ")})`,
        "type",
      );
      return;
    }
    put(checkField(f), c, "queryType", t, st, w);
  },
  name: inCheck(str("example.com")),
};

const SMTP: Table = {
  ...COMMON_CONNECT,
  ...COMMON_POLICY,
  helo_name: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 1, 1, "localhost");
    if (a) put(checkField(f), c, "heloName", a[0]!.text, st, a[0]);
  },
};

const CHECKER_TABLES: Record<string, Table> = Object.fromEntries(
  Object.entries({
    TCP_CHECK: { ...COMMON_CONNECT, ...COMMON_POLICY },
    HTTP_GET: HTTP,
    SSL_GET: HTTP,
    MISC_CHECK: MISC,
    UDP_CHECK: UDP,
    PING_CHECK: { ...COMMON_CONNECT, ...COMMON_POLICY },
    DNS_CHECK: DNS,
    SMTP_CHECK: SMTP,
  }).map(([k, t]) => [k, accountAs("checker", t)]),
);

export const SMTP_IGNORED = new Set(["host"]);

function checker(kind: string): Handler {
  return (st, f, c) => {
    if (st.args.length) args(st, c, 0, 0, "");
    const body = needBlock(st, c) ?? [];
    const list = f.obj.checkers as Obj[];
    const path = [...f.path, "checkers", list.length];
    const obj: Obj = { kind, check: { type: CHECK_TYPES[kind] }, policy: {} };
    list.push(obj);
    c.sources.set(path, { pos: st.keyword.pos, keyword: kind });
    c.sources.set([...path, "check"], { pos: st.keyword.pos, keyword: kind });
    c.sources.set([...path, "policy"], { pos: st.keyword.pos, keyword: kind });
    runBlock(
      body,
      CHECKER_TABLES[kind]!,
      frame(obj, path, `${kind} of ${f.label}`),
      c,
      kind === "SMTP_CHECK" ? SMTP_IGNORED : undefined,
    );
    if (kind === "PING_CHECK") {
      const check = obj.check as Obj;
      for (const k of ["connectPort", "bindPort"]) {
        if (k in check) {
          const src = c.sources.get([...path, "check", k]);
          c.sink.warn(
            "CONFIG_IGNORED_KEYWORD",
            src?.pos ?? st.keyword.pos,
            `PING_CHECK has no port; \`${src?.keyword ?? k}\` is ignored`,
            src?.keyword,
          );
          delete check[k];
        }
      }
    }
    if ((kind === "HTTP_GET" || kind === "SSL_GET") && !(obj.check as Obj).url) {
      c.sink.error(
        "CONFIG_MISSING_REQUIRED",
        st.keyword.pos,
        `${kind} has no url; write \`url { path / }\` inside it`,
        kind,
      );
    }
    if (kind === "MISC_CHECK" && !(obj.check as Obj).miscPath) {
      c.sink.error(
        "CONFIG_MISSING_REQUIRED",
        st.keyword.pos,
        'MISC_CHECK has no misc_path; write `misc_path "/usr/local/bin/check.sh arg"` inside it',
        kind,
      );
    }
  };
}

// ───────────────────────────── real_server ─────────────────────────────

export const RS_IGNORED = new Set(["snmp_name", "BFD_CHECK", "FILE_CHECK", "track_file"]);

const RS: Table = registerTable("real_server", {
  weight: int("1"),
  lvs_method: method("lvsMethod"),
  uthreshold: int("1000"),
  lthreshold: int("100"),
  inhibit_on_failure: optBool,
  notify_up: script(),
  notify_down: script(),
  alpha: optBool,
  retry: int("3"),
  delay_before_retry: secs("3"),
  warmup: secs("0"),
  connect_timeout: secs("3"),
  delay_loop: secs("6"),
  smtp_alert: bool,
  virtualhost: str("www.example.com"),
  // lvs extension: haproxy's PROXY header to this real server on the proxy dataplane.
  proxy_protocol: str("v2"),
  ...Object.fromEntries(Object.keys(CHECK_TYPES).map((k) => [k, checker(k)])),
});

/** `KEYWORD IP [PORT]` → address and port words. */
function ipPort(st: Statement, c: Ctx, example: string): { ip: Word; port?: Word } | undefined {
  const a = args(st, c, 1, 2, example);
  if (!a) return undefined;
  return { ip: a[0]!, ...(a[1] ? { port: a[1] } : {}) };
}

function readRealServer(st: Statement, f: Frame, c: Ctx): void {
  const a = ipPort(st, c, "192.168.1.11 80 {");
  if (!a) return;
  const body = needBlock(st, c) ?? [];
  const list = f.obj.realServers as Obj[];
  const path = [...f.path, "realServers", list.length];
  const obj: Obj = { address: a.ip.text, port: a.port ? toInt(a.port) : 0, checkers: [] };
  list.push(obj);
  c.sources.set(path, { pos: st.keyword.pos, keyword: "real_server" });
  c.sources.set([...path, "address"], { pos: a.ip.pos, keyword: "real_server" });
  if (a.port) c.sources.set([...path, "port"], { pos: a.port.pos, keyword: "real_server" });
  runBlock(
    body,
    RS,
    frame(obj, path, `real_server ${a.ip.text}${a.port ? ` ${a.port.text}` : ""}`),
    c,
    RS_IGNORED,
  );
}

// ───────────────────────────── virtual_server ─────────────────────────────

const SCHED_FLAG: Handler = (st, f, c) => {
  noBlock(st, c);
  if (st.args.length) args(st, c, 0, 0, "");
  const list = (f.obj.schedFlags as string[] | undefined) ?? [];
  if (!list.includes(st.keyword.text)) list.push(st.keyword.text);
  f.obj.schedFlags = list;
  c.sources.set([...f.path, "schedFlags"], { pos: st.keyword.pos, keyword: st.keyword.text });
};

export const VS_IGNORED = new Set(["snmp_name", "hashed"]);

const VS: Table = registerTable("virtual_server", {
  ip_family: str("inet"),
  retry: int("3"),
  delay_before_retry: secs("3"),
  warmup: secs("0"),
  connect_timeout: secs("3"),
  delay_loop: secs("6"),
  inhibit_on_failure: flag,
  lb_algo: scalar("string", "lvsSched", "wlc"),
  lvs_sched: scalar("string", "lvsSched", "wlc"),
  ops: flag,
  "flag-1": SCHED_FLAG,
  "flag-2": SCHED_FLAG,
  "flag-3": SCHED_FLAG,
  "sh-port": SCHED_FLAG,
  "sh-fallback": SCHED_FLAG,
  "mh-port": SCHED_FLAG,
  "mh-fallback": SCHED_FLAG,
  lb_kind: method("lvsMethod"),
  lvs_method: method("lvsMethod"),
  persistence_engine: str("sip"),
  persistence_timeout: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 0, 1, "360");
    if (!a) return;
    put(f, c, "persistenceTimeout", a[0] ? toInt(a[0]) : PERSISTENCE_TIMEOUT_DEFAULT, st, a[0]);
  },
  persistence_granularity: str("255.255.255.0"),
  protocol: str("TCP"),
  ha_suspend: flag,
  smtp_alert: bool,
  virtualhost: str("www.example.com"),
  alpha: flag,
  omega: flag,
  quorum_up: script(),
  quorum_down: script(),
  quorum: int("1"),
  hysteresis: int("0"),
  weight: int("1"),
  sorry_server: (st, f, c) => {
    noBlock(st, c);
    const a = ipPort(st, c, "127.0.0.1 80");
    if (!a) return;
    const prev = f.obj.sorryServer as Obj | undefined;
    put(
      f,
      c,
      "sorryServer",
      { ...prev, address: a.ip.text, port: a.port ? toInt(a.port) : 0, inhibit: prev?.inhibit ?? false },
      st,
    );
    c.sources.set([...f.path, "sorryServer", "address"], { pos: a.ip.pos, keyword: "sorry_server" });
    if (a.port)
      c.sources.set([...f.path, "sorryServer", "port"], { pos: a.port.pos, keyword: "sorry_server" });
  },
  sorry_server_inhibit: (st, f, c) => {
    noBlock(st, c);
    const s = f.obj.sorryServer as Obj | undefined;
    if (!s) {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        st.keyword.pos,
        "sorry_server_inhibit before (or without) sorry_server; write `sorry_server 127.0.0.1 80` first",
        st.keyword.text,
      );
      return;
    }
    s.inhibit = true;
  },
  sorry_server_lvs_method: (st, f, c) => {
    noBlock(st, c);
    const s = f.obj.sorryServer as Obj | undefined;
    if (!s) {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        st.keyword.pos,
        "sorry_server_lvs_method before (or without) sorry_server; write `sorry_server 127.0.0.1 80` first",
        st.keyword.text,
      );
      return;
    }
    const v = lvsMethod(st, c);
    if (v) {
      s.lvsMethod = v;
      c.sources.set([...f.path, "sorryServer", "lvsMethod", "method"], {
        pos: st.args[0]!.pos,
        keyword: st.keyword.text,
      });
    }
  },
  real_server: readRealServer,
});

export function readVirtualServer(st: Statement, root: Obj, c: Ctx): void {
  const list = root.virtualServers as Obj[];
  const path = ["virtualServers", list.length];
  const a = st.args;
  let key: Obj;
  let label: string;
  if (a[0]?.text === "fwmark" || a[0]?.text === "group") {
    const v = args(st, c, 2, 2, a[0].text === "fwmark" ? "fwmark 1 {" : "group WEB {");
    if (!v) return;
    key = a[0].text === "fwmark" ? { fwmark: toInt(v[1]!) } : { group: v[1]!.text };
    label = `virtual_server ${a[0].text} ${v[1]!.text}`;
    c.sources.set([...path, "key", a[0].text], { pos: v[1]!.pos, keyword: `virtual_server ${a[0].text}` });
  } else {
    const v = ipPort(st, c, "10.0.0.100 80 {");
    if (!v) return;
    if (!isIP(v.ip.text)) {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        v.ip.pos,
        `virtual_server: \`${v.ip.text}\` is not an IP address; write \`virtual_server 10.0.0.100 80 {\`, \`virtual_server fwmark 1 {\` or \`virtual_server group NAME {\``,
        "virtual_server",
      );
      return;
    }
    key = { address: v.ip.text, port: v.port ? toInt(v.port) : 0 };
    label = `virtual_server ${v.ip.text}${v.port ? ` ${v.port.text}` : ""}`;
    c.sources.set([...path, "key", "address"], {
      pos: v.ip.pos,
      keyword: "virtual_server",
      hintKeyword: "virtual_server",
    });
    if (v.port)
      c.sources.set([...path, "key", "port"], {
        pos: v.port.pos,
        keyword: "virtual_server",
        hintKeyword: "virtual_server 10.0.0.100",
      });
  }
  const body = needBlock(st, c);
  if (!body) return;
  const obj: Obj = { key, realServers: [] };
  list.push(obj);
  c.sources.set(path, { pos: st.keyword.pos, keyword: "virtual_server" });
  c.sources.set([...path, "key"], { pos: st.keyword.pos, keyword: "virtual_server" });
  const f = frame(obj, path, label);
  runBlock(body, VS, f, c, VS_IGNORED);
  // keepalived 2.2.7 reports these as config errors and then uses a default (check_data.c).
  if (obj.lvsSched === undefined) {
    c.sink.warn(
      "CONFIG_MISSING_REQUIRED",
      st.keyword.pos,
      `${label} has no lvs_sched; wlc is used (keepalived reports this too); write \`lvs_sched wlc\``,
      "lvs_sched",
    );
  }
  if (obj.lvsMethod === undefined) {
    c.sink.warn(
      "CONFIG_MISSING_REQUIRED",
      st.keyword.pos,
      `${label} has no lvs_method; NAT is used (keepalived reports this too); write \`lvs_method NAT\``,
      "lvs_method",
    );
  }
  const flags = (obj.schedFlags as string[] | undefined) ?? [];
  for (const fl of flags) {
    const need = fl.startsWith("sh-") ? "sh" : fl.startsWith("mh-") ? "mh" : undefined;
    if (need && obj.lvsSched !== need) {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        c.sources.get([...path, "schedFlags"])?.pos ?? st.keyword.pos,
        `\`${fl}\` only applies to lvs_sched ${need}; write \`lvs_sched ${need}\` or remove it`,
        fl,
      );
    }
  }
}

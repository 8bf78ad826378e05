/**
 * ipvsadm 1.31's command line (popt rules: short clusters, `--long[=value]`, an optional argument
 * for -p, leftover arguments for --set), checked like ipvsadm.c's parse_options,
 * generic_opt_check and process_options, with its error messages and exit codes. Pure.
 */
import { parseIPv4, parseIPv6, prefixToMask } from "@lvs/inet";
import * as C from "../constants.js";
import type { Daemon, Timeouts } from "../types.js";

export type IpvsadmCommand =
  | "ADD"
  | "EDIT"
  | "DEL"
  | "FLUSH"
  | "LIST"
  | "ADDDEST"
  | "DELDEST"
  | "EDITDEST"
  | "TIMEOUT"
  | "STARTDAEMON"
  | "STOPDAEMON"
  | "RESTORE"
  | "SAVE"
  | "ZERO";

/** ipvsadm.c command order (index into the legality table). */
const COMMANDS: IpvsadmCommand[] = [
  "ADD",
  "EDIT",
  "DEL",
  "FLUSH",
  "LIST",
  "ADDDEST",
  "DELDEST",
  "EDITDEST",
  "TIMEOUT",
  "STARTDAEMON",
  "STOPDAEMON",
  "RESTORE",
  "SAVE",
  "ZERO",
];
const CMD_NAMES = [
  "add-service",
  "edit-service",
  "delete-service",
  "flush",
  "list",
  "add-server",
  "delete-server",
  "edit-server",
  "set",
  "start-daemon",
  "stop-daemon",
  "restore",
  "save",
  "zero",
];

/** OPTC_* indexes and names (ipvsadm.c optnames). */
const OPT_NAMES = [
  "numeric",
  "connection",
  "service-address",
  "scheduler",
  "persistent",
  "netmask",
  "real-server",
  "forwarding-method",
  "weight",
  "u-threshold",
  "l-threshold",
  "mcast-interface",
  "timeout",
  "daemon",
  "stats",
  "rate",
  "thresholds",
  "persistent-conn",
  "nosort",
  "syncid",
  "exact",
  "ops",
  "pe",
  "sched-flags",
  "mcast-group",
  "mcast-port",
  "mcast-ttl",
  "sync-maxlen",
  "tun-info",
  "tun-type",
  "tun-port",
  "tun-nocsum",
  "tun-csum",
  "tun-remcsum",
];
const O = Object.fromEntries(OPT_NAMES.map((n, i) => [n, i])) as Record<string, number>;

/** commands_v_options: '+' required, 'x' illegal, '1' exclusive, ' ' optional. */
const LEGAL: Record<IpvsadmCommand, string> = {
  ADD: "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
  EDIT: "xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
  DEL: "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  FLUSH: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  LIST: " 11xxxxxxxxx11       xxxxxxx xxxxx",
  ADDDEST: "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
  DELDEST: "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
  EDITDEST: "xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
  TIMEOUT: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  STARTDAEMON: "xxxxxxxxxxx xxxxxxx xxxx    xxxxxx",
  STOPDAEMON: "xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx",
  RESTORE: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  SAVE: " xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  ZERO: "xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};
/** tunnel_types_v_options over (tun-port, tun-nocsum, tun-csum, tun-remcsum). */
const TUN_LEGAL = ["xxxx", "+111", "x11x"];
const TUN_OPTS = [O["tun-port"], O["tun-nocsum"], O["tun-csum"], O["tun-remcsum"]] as number[];
const TUN_NAMES = ["ipip", "gue", "gre"];

/** ipvsadm.c FMT_* */
const FMT = {
  NUMERIC: 1,
  STATS: 4,
  RATE: 8,
  THRESHOLDS: 0x10,
  PERSISTENTCONN: 0x20,
  NOSORT: 0x40,
  EXACT: 0x80,
  TUN_INFO: 0x100,
};

const MAX_TIMEOUT = 86400 * 31;

export interface ParsedService {
  af: number;
  protocol: number;
  address: string;
  port: number;
  fwmark: number;
  scheduler: string;
  flags: number;
  timeout: number;
  /** Prefix length. */
  netmask: number;
  peName: string;
}

export interface ParsedDest {
  af: number;
  address: string;
  port: number;
  forward: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  tunnelType: number;
  tunnelPort: number;
  tunnelFlags: number;
}

export interface ParsedIpvsadm {
  command: IpvsadmCommand;
  /** OPTC_* indexes given. */
  options: Set<number>;
  /** FMT_* bits for listing. */
  format: number;
  service: ParsedService;
  dest: ParsedDest;
  timeouts: Timeouts;
  daemon: Daemon;
}

/** What ipvsadm would print and exit with instead of running a command. */
export interface IpvsadmExit {
  exit: number;
  stdout: string;
  stderr: string;
}

export const VERSION_TEXT = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

export function tryHelp(program: string): IpvsadmExit {
  return {
    exit: 255,
    stdout: "",
    stderr: `Try \`${program} -h' or '${program} --help' for more information.\n`,
  };
}

class Fail {
  constructor(readonly result: IpvsadmExit) {}
}
const fail = (msg: string): never => {
  throw new Fail({ exit: 2, stdout: "", stderr: `${msg}\n` });
};

// ---------------------------------------------------------------- option table (popt)
type ArgKind = "none" | "required" | "optional";
interface OptDef {
  long: string;
  short?: string;
  arg: ArgKind;
  tag: string;
}
const TABLE: OptDef[] = [
  { long: "add-service", short: "A", arg: "none", tag: "A" },
  { long: "edit-service", short: "E", arg: "none", tag: "E" },
  { long: "delete-service", short: "D", arg: "none", tag: "D" },
  { long: "clear", short: "C", arg: "none", tag: "C" },
  { long: "list", short: "L", arg: "none", tag: "L" },
  { long: "list", short: "l", arg: "none", tag: "L" },
  { long: "zero", short: "Z", arg: "none", tag: "Z" },
  { long: "add-server", short: "a", arg: "none", tag: "a" },
  { long: "edit-server", short: "e", arg: "none", tag: "e" },
  { long: "delete-server", short: "d", arg: "none", tag: "d" },
  { long: "set", arg: "none", tag: "set" },
  { long: "help", short: "h", arg: "none", tag: "h" },
  { long: "version", short: "v", arg: "none", tag: "v" },
  { long: "restore", short: "R", arg: "none", tag: "R" },
  { long: "save", short: "S", arg: "none", tag: "S" },
  { long: "start-daemon", arg: "required", tag: "start-daemon" },
  { long: "stop-daemon", arg: "required", tag: "stop-daemon" },
  { long: "tcp-service", short: "t", arg: "required", tag: "t" },
  { long: "udp-service", short: "u", arg: "required", tag: "u" },
  { long: "sctp-service", arg: "required", tag: "sctp" },
  { long: "fwmark-service", short: "f", arg: "required", tag: "f" },
  { long: "scheduler", short: "s", arg: "required", tag: "s" },
  { long: "persistent", short: "p", arg: "optional", tag: "p" },
  { long: "netmask", short: "M", arg: "required", tag: "M" },
  { long: "real-server", short: "r", arg: "required", tag: "r" },
  { long: "masquerading", short: "m", arg: "none", tag: "m" },
  { long: "ipip", short: "i", arg: "none", tag: "i" },
  { long: "gatewaying", short: "g", arg: "none", tag: "g" },
  { long: "weight", short: "w", arg: "required", tag: "w" },
  { long: "u-threshold", short: "x", arg: "required", tag: "x" },
  { long: "l-threshold", short: "y", arg: "required", tag: "y" },
  { long: "numeric", short: "n", arg: "none", tag: "n" },
  { long: "connection", short: "c", arg: "none", tag: "c" },
  { long: "mcast-interface", arg: "required", tag: "mcast-interface" },
  { long: "syncid", arg: "required", tag: "syncid" },
  { long: "timeout", arg: "none", tag: "timeout" },
  { long: "daemon", arg: "none", tag: "daemon" },
  { long: "stats", arg: "none", tag: "stats" },
  { long: "rate", arg: "none", tag: "rate" },
  { long: "thresholds", arg: "none", tag: "thresholds" },
  { long: "persistent-conn", arg: "none", tag: "persistent-conn" },
  { long: "nosort", arg: "none", tag: "nosort" },
  { long: "sort", arg: "none", tag: "sort" },
  { long: "exact", short: "X", arg: "none", tag: "X" },
  { long: "ipv6", short: "6", arg: "none", tag: "6" },
  { long: "ops", short: "o", arg: "none", tag: "o" },
  { long: "pe", arg: "required", tag: "pe" },
  { long: "sched-flags", short: "b", arg: "required", tag: "b" },
  { long: "mcast-group", arg: "required", tag: "mcast-group" },
  { long: "mcast-port", arg: "required", tag: "mcast-port" },
  { long: "mcast-ttl", arg: "required", tag: "mcast-ttl" },
  { long: "sync-maxlen", arg: "required", tag: "sync-maxlen" },
  { long: "tun-info", arg: "none", tag: "tun-info" },
  { long: "tun-type", arg: "required", tag: "tun-type" },
  { long: "tun-port", arg: "required", tag: "tun-port" },
  { long: "tun-nocsum", arg: "none", tag: "tun-nocsum" },
  { long: "tun-csum", arg: "none", tag: "tun-csum" },
  { long: "tun-remcsum", arg: "none", tag: "tun-remcsum" },
];

interface Token {
  tag: string;
  value: string | undefined;
  /** As written, for error messages (poptBadOption). */
  text: string;
}

/** popt-style scan: options in order, plus leftover arguments. Errors as ipvsadm prints them. */
function scan(argv: readonly string[]): {
  tokens: Token[];
  args: string[];
  error?: { text: string; reason: string };
} {
  const tokens: Token[] = [];
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      const def = TABLE.find((d) => d.long === name);
      if (!def) return { tokens, args, error: { text: a, reason: "unknown option" } };
      let value: string | undefined;
      if (eq !== -1) value = a.slice(eq + 1);
      else if (def.arg === "required") {
        if (i + 1 >= argv.length) return { tokens, args, error: { text: a, reason: "missing argument" } };
        value = argv[++i];
      } else if (def.arg === "optional" && i + 1 < argv.length && !(argv[i + 1] as string).startsWith("-")) {
        value = argv[++i];
      }
      tokens.push({ tag: def.tag, value, text: a });
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const ch = a[j] as string;
        const def = TABLE.find((d) => d.short === ch);
        if (!def) return { tokens, args, error: { text: `-${ch}`, reason: "unknown option" } };
        const rest = a.slice(j + 1);
        let value: string | undefined;
        if (def.arg === "required") {
          if (rest) value = rest;
          else if (i + 1 < argv.length) value = argv[++i];
          else return { tokens, args, error: { text: `-${ch}`, reason: "missing argument" } };
          tokens.push({ tag: def.tag, value, text: `-${ch}` });
          break;
        }
        if (def.arg === "optional") {
          if (rest) value = rest;
          else if (i + 1 < argv.length && !(argv[i + 1] as string).startsWith("-")) value = argv[++i];
          tokens.push({ tag: def.tag, value, text: `-${ch}` });
          break;
        }
        tokens.push({ tag: def.tag, value: undefined, text: `-${ch}` });
      }
      continue;
    }
    args.push(a);
  }
  return { tokens, args };
}

// ---------------------------------------------------------------- value parsers
/** string_to_number: strtol base 10 over the whole string, within [min, max]; -1 otherwise. */
function toNumber(s: string, min: number, max: number): number {
  if (!/^\s*[+-]?\d+$/.test(s)) return -1;
  const n = Number.parseInt(s, 10);
  return n >= min && n <= max ? n : -1;
}

function parseTimeout(s: string | undefined, min: number, max: number): number {
  if (s === undefined) return C.IPVS_SVC_PERSISTENT_TIMEOUT;
  const n = toNumber(s, min, max);
  if (n === -1) fail(`invalid timeout value \`${s}' specified`);
  return n;
}

/** Port names from /etc/services (getservbyname); injected so parsing stays pure. */
export type ServiceByName = (name: string, protocol: number) => number | undefined;

const SERVICE_ADDR = 1;
const SERVICE_PORT = 2;

/** parse_service: "host", "host:port", "[v6]:port", bare IPv6; returns SERVICE_* bits. */
function parseServiceAddr(
  buf: string,
  protocol: number,
  byName: ServiceByName,
): { result: number; af: number; address: string; port: number } | undefined {
  if (/^\d*$/.test(buf)) return undefined;
  let text = buf;
  let portText: string | undefined;
  let bracketed = false;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) return undefined;
    if (text[close + 1] !== ":") return undefined;
    portText = text.slice(close + 2);
    text = text.slice(1, close);
    bracketed = true;
  }
  let af: number;
  let address: string;
  const v6 = parseIPv6(text);
  if (v6) {
    af = C.AF_INET6;
    address = text;
  } else {
    if (!bracketed) {
      const colon = text.lastIndexOf(":");
      if (colon !== -1) {
        portText = text.slice(colon + 1);
        text = text.slice(0, colon);
      }
    }
    if (!parseIPv4(text)) return undefined;
    af = C.AF_INET;
    address = text;
  }
  let result = SERVICE_ADDR;
  let port = 0;
  if (portText !== undefined) {
    result |= SERVICE_PORT;
    const n = toNumber(portText, 0, 65535);
    if (n !== -1) port = n;
    else {
      const p = byName(portText, protocol);
      if (p === undefined) return undefined;
      port = p;
    }
  }
  return { result, af, address, port };
}

function maskPrefix(text: string): number | undefined {
  const b = parseIPv4(text);
  if (!b) return undefined;
  const m =
    (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
  for (let p = 0; p <= 32; p++) if (prefixToMask(p) === m) return p;
  return undefined;
}

function parseSchedFlags(sched: string, arg: string): number {
  const s = sched || "wlc";
  let flags = 0;
  for (const flag of arg.split(",").filter((x) => x !== "")) {
    switch (flag) {
      case "flag-1":
        flags |= C.IP_VS_SVC_F_SCHED1;
        break;
      case "flag-2":
        flags |= C.IP_VS_SVC_F_SCHED2;
        break;
      case "flag-3":
        flags |= C.IP_VS_SVC_F_SCHED3;
        break;
      case "sh-fallback":
      case "sh-port":
      case "mh-fallback":
      case "mh-port": {
        flags |= flag.endsWith("fallback") ? C.IP_VS_SVC_F_SCHED1 : C.IP_VS_SVC_F_SCHED2;
        if (s !== flag.slice(0, 2)) fail(`incompatible scheduler flag \`${flag}'`);
        break;
      }
      default:
        fail(`invalid scheduler flag \`${flag}'`);
    }
  }
  return flags;
}

// ---------------------------------------------------------------- the parser
/**
 * argv (without the program name) → a command, or what ipvsadm would print and exit with.
 * `program` is used in "Try `ipvsadm -h'..." messages.
 */
export function parseIpvsadm(
  argv: readonly string[],
  opts: { program?: string; serviceByName?: ServiceByName } = {},
): ParsedIpvsadm | IpvsadmExit {
  const program = opts.program ?? "ipvsadm";
  const byName = opts.serviceByName ?? (() => undefined);
  try {
    return parseInner(argv, program, byName);
  } catch (err) {
    if (err instanceof Fail) return err.result;
    throw err;
  }
}

export function isExit(x: ParsedIpvsadm | IpvsadmExit): x is IpvsadmExit {
  return (x as IpvsadmExit).exit !== undefined;
}

function parseInner(
  argv: readonly string[],
  program: string,
  byName: ServiceByName,
): ParsedIpvsadm | IpvsadmExit {
  const { tokens, args, error } = scan(argv);
  const first = tokens[0];
  if (!first) return tryHelp(program);

  const svc: ParsedService = {
    af: 0,
    protocol: 0,
    address: "0.0.0.0",
    port: 0,
    fwmark: 0,
    scheduler: "",
    flags: 0,
    timeout: 0,
    netmask: 32,
    peName: "",
  };
  const dest: ParsedDest = {
    af: 0,
    address: "0.0.0.0",
    port: 0,
    forward: C.IP_VS_CONN_F_DROUTE,
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    tunnelType: 0,
    tunnelPort: 0,
    tunnelFlags: 0,
  };
  const daemon: Daemon = { state: 0, mcastIfn: "", syncId: 0 };
  const timeouts: Timeouts = { tcp: 0, tcpFin: 0, udp: 0 };
  const options = new Set<number>();
  let format = 0;
  let schedFlagsArg = "";
  let command: IpvsadmCommand;

  const setOption = (o: number): void => {
    if (options.has(o)) fail(`multiple '${OPT_NAMES[o]}' options specified`);
    options.add(o);
  };

  switch (first.tag) {
    case "A":
      command = "ADD";
      break;
    case "E":
      command = "EDIT";
      break;
    case "D":
      command = "DEL";
      break;
    case "a":
      command = "ADDDEST";
      break;
    case "e":
      command = "EDITDEST";
      break;
    case "d":
      command = "DELDEST";
      break;
    case "C":
      command = "FLUSH";
      break;
    case "L":
      command = "LIST";
      break;
    case "Z":
      command = "ZERO";
      break;
    case "set":
      command = "TIMEOUT";
      break;
    case "R":
      command = "RESTORE";
      break;
    case "S":
      command = "SAVE";
      break;
    case "start-daemon":
    case "stop-daemon":
      command = first.tag === "start-daemon" ? "STARTDAEMON" : "STOPDAEMON";
      if (first.value === "master") daemon.state = C.IP_VS_STATE_MASTER;
      else if (first.value === "backup") daemon.state = C.IP_VS_STATE_BACKUP;
      else
        fail(
          first.tag === "start-daemon"
            ? "illegal start-daemon parameter specified"
            : "illegal start_daemon specified",
        );
      break;
    case "h":
      return { exit: 0, stdout: usageText(program), stderr: "" };
    case "v":
      return { exit: 0, stdout: VERSION_TEXT, stderr: "" };
    default:
      return tryHelp(program);
  }
  const cmdIndex = COMMANDS.indexOf(command);

  for (const t of tokens.slice(1)) {
    const v = t.value ?? "";
    switch (t.tag) {
      case "A":
      case "E":
      case "D":
      case "a":
      case "e":
      case "d":
      case "C":
      case "L":
      case "Z":
      case "set":
      case "R":
      case "S":
      case "start-daemon":
      case "stop-daemon":
        // set_command refuses a second command... but in the option loop ipvsadm 1.31 treats
        // them as unknown options.
        fail(`invalid option \`${t.text}'`);
        break;
      case "h":
      case "v":
        fail(`invalid option \`${t.text}'`);
        break;
      case "t":
      case "u":
      case "sctp": {
        setOption(O["service-address"] as number);
        svc.protocol = t.tag === "t" ? C.IPPROTO_TCP : t.tag === "u" ? C.IPPROTO_UDP : C.IPPROTO_SCTP;
        const p = parseServiceAddr(v, svc.protocol, byName);
        if (!p) fail("illegal virtual server address[:port] specified");
        else {
          svc.af = p.af;
          svc.address = p.address;
          if (p.result & SERVICE_PORT) svc.port = p.port;
          if (p.af === C.AF_INET6) svc.netmask = 128;
        }
        break;
      }
      case "f": {
        setOption(O["service-address"] as number);
        svc.af = C.AF_INET;
        svc.protocol = C.IPPROTO_TCP;
        const n = /^[+-]?\d+$/.test(v) ? Number(v) : Number.NaN;
        if (!(n > 0 && n <= 0xffffffff)) fail(`invalid fwmark value \`${v}' specified`);
        svc.fwmark = n;
        break;
      }
      case "s":
        setOption(O.scheduler as number);
        svc.scheduler = v.slice(0, C.IP_VS_SCHEDNAME_MAXLEN - 1);
        break;
      case "p":
        setOption(O.persistent as number);
        svc.flags |= C.IP_VS_SVC_F_PERSISTENT;
        svc.timeout = parseTimeout(t.value, 1, MAX_TIMEOUT);
        break;
      case "M":
        setOption(O.netmask as number);
        if (svc.af !== C.AF_INET6) {
          const p = maskPrefix(v);
          if (p === undefined) fail("illegal virtual server persistent mask specified");
          else svc.netmask = p;
        } else {
          const n = Number.parseInt(v, 10);
          if (!(n >= 1 && n <= 128)) fail("illegal ipv6 netmask specified");
          svc.netmask = n;
        }
        break;
      case "r": {
        setOption(O["real-server"] as number);
        const p = parseServiceAddr(v, svc.protocol, byName);
        if (!p) fail("illegal real server address[:port] specified");
        else {
          dest.af = p.af;
          dest.address = p.address;
          dest.port = p.result === SERVICE_ADDR ? svc.port : p.port;
        }
        break;
      }
      case "i":
      case "g":
      case "m":
        setOption(O["forwarding-method"] as number);
        dest.forward =
          t.tag === "i" ? C.IP_VS_CONN_F_TUNNEL : t.tag === "g" ? C.IP_VS_CONN_F_DROUTE : C.IP_VS_CONN_F_MASQ;
        break;
      case "w":
        setOption(O.weight as number);
        // Debian's ipvsadm 1.31 lets any int through to the kernel (captured: -w 70000 reaches it).
        dest.weight = toNumber(v, 0, 0x7fffffff);
        if (dest.weight === -1) fail("illegal weight specified");
        break;
      case "x":
        setOption(O["u-threshold"] as number);
        dest.upperThreshold = toNumber(v, 0, 0x7fffffff);
        if (dest.upperThreshold === -1) fail("illegal u_threshold specified");
        break;
      case "y":
        setOption(O["l-threshold"] as number);
        dest.lowerThreshold = toNumber(v, 0, 0x7fffffff);
        if (dest.lowerThreshold === -1) fail("illegal l_threshold specified");
        break;
      case "c":
        setOption(O.connection as number);
        break;
      case "n":
        setOption(O.numeric as number);
        format |= FMT.NUMERIC;
        break;
      case "mcast-interface":
        setOption(O["mcast-interface"] as number);
        daemon.mcastIfn = v.slice(0, C.IP_VS_IFNAME_MAXLEN - 1);
        break;
      case "syncid":
        setOption(O.syncid as number);
        daemon.syncId = toNumber(v, 0, 255);
        if (daemon.syncId === -1) fail("illegal syncid specified");
        break;
      case "timeout":
        setOption(O.timeout as number);
        break;
      case "daemon":
        setOption(O.daemon as number);
        break;
      case "stats":
        setOption(O.stats as number);
        format |= FMT.STATS;
        break;
      case "rate":
        setOption(O.rate as number);
        format |= FMT.RATE;
        break;
      case "thresholds":
        setOption(O.thresholds as number);
        format |= FMT.THRESHOLDS;
        break;
      case "persistent-conn":
        setOption(O["persistent-conn"] as number);
        format |= FMT.PERSISTENTCONN;
        break;
      case "nosort":
        setOption(O.nosort as number);
        format |= FMT.NOSORT;
        break;
      case "sort":
        break;
      case "X":
        setOption(O.exact as number);
        format |= FMT.EXACT;
        break;
      case "6":
        if (svc.fwmark) {
          svc.af = C.AF_INET6;
          svc.netmask = 128;
        } else fail("-6 used before -f\n");
        break;
      case "o":
        setOption(O.ops as number);
        svc.flags |= C.IP_VS_SVC_F_ONEPACKET;
        break;
      case "pe":
        setOption(O.pe as number);
        svc.peName = v.slice(0, C.IP_VS_PENAME_MAXLEN);
        break;
      case "b":
        setOption(O["sched-flags"] as number);
        schedFlagsArg = v.slice(0, 127);
        break;
      case "mcast-group": {
        setOption(O["mcast-group"] as number);
        if (v.includes(":")) {
          const b = parseIPv6(v);
          if (!b || b[0] !== 0xff) fail(`invalid IPv6 mcast-group \`${v}'`);
        } else {
          const b = parseIPv4(v);
          if (!b || (b[0] as number) < 224 || (b[0] as number) > 239)
            fail(`invalid IPv4 mcast-group \`${v}'`);
        }
        daemon.mcastGroup = v;
        break;
      }
      case "mcast-port": {
        setOption(O["mcast-port"] as number);
        const n = toNumber(v, 1, 65535);
        if (n === -1) fail("illegal mcast-port specified");
        daemon.mcastPort = n;
        break;
      }
      case "mcast-ttl": {
        setOption(O["mcast-ttl"] as number);
        const n = toNumber(v, 1, 255);
        if (n === -1) fail("illegal mcast-ttl specified");
        daemon.mcastTtl = n;
        break;
      }
      case "sync-maxlen": {
        setOption(O["sync-maxlen"] as number);
        const n = toNumber(v, 1, 65535 - 20 - 8);
        if (n === -1) fail("illegal sync-maxlen specified");
        daemon.syncMaxLen = n;
        break;
      }
      case "tun-info":
        setOption(O["tun-info"] as number);
        format |= FMT.TUN_INFO;
        break;
      case "tun-type": {
        setOption(O["tun-type"] as number);
        const n = TUN_NAMES.indexOf(v);
        if (n === -1) fail("illegal tunnel type specified");
        dest.tunnelType = n;
        break;
      }
      case "tun-port": {
        setOption(O["tun-port"] as number);
        const n = toNumber(v, 1, 65535);
        if (n === -1) fail("illegal tunnel port specified");
        dest.tunnelPort = n;
        break;
      }
      case "tun-nocsum":
        setOption(O["tun-nocsum"] as number);
        break;
      case "tun-csum":
        setOption(O["tun-csum"] as number);
        dest.tunnelFlags |= C.IP_VS_TUNNEL_ENCAP_FLAG_CSUM;
        break;
      case "tun-remcsum":
        setOption(O["tun-remcsum"] as number);
        dest.tunnelFlags |= C.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM;
        break;
    }
  }

  if (error) {
    // popt error after the command: "<option>: <reason>", exit status -1
    return { exit: 255, stdout: "", stderr: `${error.text}: ${error.reason}\n` };
  }

  const rest = [...args];
  if (command === "TIMEOUT") {
    if (rest.length < 3) fail("--set option requires 3 timeout values");
    timeouts.tcp = parseTimeout(rest.shift(), 0, MAX_TIMEOUT);
    timeouts.tcpFin = parseTimeout(rest.shift(), 0, MAX_TIMEOUT);
    timeouts.udp = parseTimeout(rest.shift(), 0, MAX_TIMEOUT);
  }
  if (rest.length > 0) fail(`unexpected argument ${rest[0]}`);

  if (schedFlagsArg) {
    svc.flags &= ~(C.IP_VS_SVC_F_SCHED1 | C.IP_VS_SVC_F_SCHED2 | C.IP_VS_SVC_F_SCHED3);
    svc.flags |= parseSchedFlags(svc.scheduler, schedFlagsArg);
  }

  // generic_opt_check
  const legal = LEGAL[command];
  let exclusive = -1;
  for (let j = 0; j < OPT_NAMES.length; j++) {
    const rule = legal[j];
    if (!options.has(j)) {
      if (rule === "+")
        fail(`You need to supply the '${OPT_NAMES[j]}' option for the '${CMD_NAMES[cmdIndex]}' command`);
    } else {
      if (rule === "x") fail(`Illegal '${OPT_NAMES[j]}' option with the '${CMD_NAMES[cmdIndex]}' command`);
      if (rule === "1") {
        if (exclusive === -1) exclusive = j;
        else
          fail(
            `The option '${OPT_NAMES[j]}' conflicts with the '${OPT_NAMES[exclusive]}' option in the '${CMD_NAMES[cmdIndex]}' command`,
          );
      }
    }
  }

  if (command === "ADD" || command === "EDIT") {
    if (!svc.fwmark && !svc.port && !(svc.flags & C.IP_VS_SVC_F_PERSISTENT))
      fail("Zero port specified for non-persistent service");
    if (svc.flags & C.IP_VS_SVC_F_ONEPACKET && !svc.fwmark && svc.protocol !== C.IPPROTO_UDP)
      fail("One-Packet Scheduling is only for UDP virtual services");
    if (!svc.scheduler) svc.scheduler = "wlc";
  }
  if (command === "STARTDAEMON" && !daemon.mcastIfn) daemon.mcastIfn = "eth0";

  if (command === "ADDDEST" || command === "EDITDEST") {
    const fwd = dest.forward;
    if (!svc.fwmark && (fwd === C.IP_VS_CONN_F_TUNNEL || fwd === C.IP_VS_CONN_F_DROUTE)) dest.port = svc.port;
    if (dest.af !== svc.af && fwd !== C.IP_VS_CONN_F_TUNNEL)
      fail("Different address family is allowed only for tunneling servers");
    const tunOpts = ["tun-type", "tun-port", "tun-nocsum", "tun-csum", "tun-remcsum"].some((n) =>
      options.has(O[n] as number),
    );
    if (tunOpts && fwd !== C.IP_VS_CONN_F_TUNNEL) fail("Tunnel options conflict with forward method");
    // tunnel_opt_check
    const rules = TUN_LEGAL[dest.tunnelType] as string;
    let last = -1;
    for (let j = 0; j < TUN_OPTS.length; j++) {
      const k = TUN_OPTS[j] as number;
      const rule = rules[j];
      if (!options.has(k)) {
        if (rule === "+")
          fail(
            `You need to supply the '${OPT_NAMES[k]}' option for the '${TUN_NAMES[dest.tunnelType]}' tunnel type`,
          );
      } else {
        if (rule === "x")
          fail(`Illegal '${OPT_NAMES[k]}' option with the '${TUN_NAMES[dest.tunnelType]}' tunnel type`);
        if (rule === "1") {
          if (last === -1) last = k;
          else
            fail(
              `The option '${OPT_NAMES[k]}' conflicts with the '${OPT_NAMES[last]}' option in the '${TUN_NAMES[dest.tunnelType]}' tunnel type`,
            );
        }
      }
    }
  }

  if (command === "LIST") {
    const has = (n: string): boolean => options.has(O[n] as number);
    if (
      ((has("connection") || has("timeout") || has("daemon")) &&
        (has("stats") || has("rate") || has("thresholds"))) ||
      ((has("timeout") || has("daemon")) && has("persistent-conn"))
    ) {
      fail("options conflicts in the list command");
    }
  }
  return { command, options, format, service: svc, dest, timeouts, daemon };
}

export function hasOption(p: ParsedIpvsadm, name: string): boolean {
  return p.options.has(O[name] as number);
}

/** One line of help per option tag (our wording; ipvsadm(8) has the full semantics). */
const HELP: Record<string, string> = {
  A: "add a virtual service",
  E: "edit a virtual service",
  D: "delete a virtual service",
  C: "delete every virtual service",
  R: "read -S lines from standard input and apply them",
  S: "print the table as restorable -A/-a lines",
  a: "add a real server to a virtual service",
  e: "edit a real server",
  d: "delete a real server",
  L: "list the table (or connections with -c)",
  Z: "zero the counters of one service or all",
  set: "set the tcp, tcpfin and udp timeouts in seconds",
  "start-daemon": "start the connection sync daemon (master or backup)",
  "stop-daemon": "stop the connection sync daemon (master or backup)",
  h: "show this help",
  v: "show the version",
  t: "TCP service address[:port]",
  u: "UDP service address[:port]",
  sctp: "SCTP service address[:port]",
  f: "firewall-mark service (a number)",
  s: "scheduler: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh",
  p: "persistent service, optional timeout in seconds (default 300)",
  M: "persistence granularity: IPv4 netmask or IPv6 prefix length",
  pe: "persistence engine (sip)",
  b: "scheduler flags, comma-separated (sh-fallback, sh-port, mh-fallback, mh-port, flag-1..3)",
  r: "real server address[:port]",
  g: "forward by direct routing (gatewaying, the default)",
  i: "forward by IP-in-IP tunnel",
  m: "forward by NAT (masquerading)",
  "tun-type": "tunnel type: ipip, gue or gre",
  "tun-port": "GUE tunnel destination port",
  "tun-nocsum": "tunnel without checksum",
  "tun-csum": "tunnel with checksum",
  "tun-remcsum": "tunnel with remote checksum offload",
  w: "weight (0 stops new connections)",
  x: "upper connection threshold (0 = none)",
  y: "lower connection threshold (0 = none)",
  "mcast-interface": "sync daemon: multicast interface",
  syncid: "sync daemon: sync id (0..255)",
  "sync-maxlen": "sync daemon: largest message in bytes",
  "mcast-group": "sync daemon: multicast group (IPv4 or IPv6)",
  "mcast-port": "sync daemon: UDP port",
  "mcast-ttl": "sync daemon: multicast TTL",
  c: "list connections (/proc/net/ip_vs_conn)",
  timeout: "list the tcp, tcpfin and udp timeouts",
  daemon: "list the sync daemons",
  stats: "list with counters",
  rate: "list with rates",
  thresholds: "list with thresholds",
  "persistent-conn": "list with persistent connection counts",
  "tun-info": "list with tunnel settings",
  nosort: "list in the kernel's order",
  sort: "list sorted (the default)",
  n: "numeric addresses and ports",
  X: "exact counters (no K/M/G)",
  "6": "IPv6 firewall-mark service",
  o: "one-packet scheduling (UDP)",
};

export function usageText(program: string): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const d of TABLE) {
    if (seen.has(d.tag)) continue;
    seen.add(d.tag);
    const names = TABLE.filter((x) => x.tag === d.tag);
    const shorts = names
      .map((x) => x.short)
      .filter(Boolean)
      .map((c) => `-${c}`);
    const flag = [`--${d.long}`, ...shorts].join(" ");
    const arg = d.arg === "required" ? " ARG" : d.arg === "optional" ? " [ARG]" : "";
    lines.push(`  ${`${flag}${arg}`.padEnd(34)}${HELP[d.tag] ?? ""}`);
  }
  return `${VERSION_TEXT}Usage:
  ${program} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  ${program} -D virtual-service
  ${program} -C
  ${program} -R
  ${program} -S [-n]
  ${program} -a|e virtual-service -r server-address [options]
  ${program} -d virtual-service -r server-address
  ${program} -L|l [virtual-service] [options]
  ${program} -Z [virtual-service]
  ${program} --set tcp tcpfin udp
  ${program} --start-daemon {master|backup} [daemon-options]
  ${program} --stop-daemon {master|backup}
  ${program} -h

Options:
${lines.join("\n")}

See ipvsadm(8): every ipvsadm 1.31 option is accepted with the same meaning.
`;
}

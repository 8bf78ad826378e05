/**
 * ipvsadm 1.31's command line (popt rules: short clusters, `--long[=value]`, an optional argument
 * for -p, leftover arguments for --set), checked like ipvsadm.c's parse_options,
 * generic_opt_check and process_options, with its error messages and exit codes. Pure.
 *
 * In steps: scan argv (options.ts) → the first option names the command → each further option
 * through its handler (OPTION_HANDLERS) → leftover arguments → the legality table → the checks
 * of the command's own kind (service, real server, list).
 */

import { parseIPv4, parseIPv6 } from "@lvs/inet";
import {
  AF_INET,
  AF_INET6,
  type Daemon,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_IFNAME_MAXLEN,
  IP_VS_PENAME_MAXLEN,
  IP_VS_SCHEDNAME_MAXLEN,
  IP_VS_STATE_BACKUP,
  IP_VS_STATE_MASTER,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
  IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type Timeouts,
} from "@lvs/ipvs";
import { fail, type IpvsadmExit, Refusal, tryHelp, VERSION_TEXT } from "./exit.js";
import { Fmt } from "./format.js";
import {
  COMMAND_NAMES,
  COMMAND_RULES,
  type IpvsadmCommand,
  OPTION_NAMES,
  type OptionName,
  optionIndex,
  scan,
  type Token,
  TUNNEL_OPTIONS,
  TUNNEL_RULES,
  TUNNEL_TYPE_NAMES,
} from "./options.js";
import { usageText } from "./usage.js";
import {
  MAX_TIMEOUT,
  maskPrefix,
  numberOr,
  parseSchedFlags,
  parseServiceAddr,
  parseTimeout,
  type ServiceByName,
} from "./values.js";

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
  /** FMT_* bits for listing (Fmt). */
  format: number;
  service: ParsedService;
  dest: ParsedDest;
  timeouts: Timeouts;
  daemon: Daemon;
}

/** What the steps fill in: the result under construction, plus what only parsing needs. */
interface ParseState extends ParsedIpvsadm {
  /** -b's text: applied once the scheduler is known, whatever the option order. */
  schedFlags: string;
  byName: ServiceByName;
}

// ---------------------------------------------------------------- entry points
/**
 * argv (without the program name) → a command, or what ipvsadm would print and exit with.
 * `program` is used in "Try `ipvsadm -h'..." messages.
 */
export function parseIpvsadm(
  argv: readonly string[],
  opts: { program?: string; serviceByName?: ServiceByName } = {},
): ParsedIpvsadm | IpvsadmExit {
  const program = opts.program ?? "ipvsadm";
  try {
    return parseSteps(argv, program, opts.serviceByName ?? (() => undefined));
  } catch (err) {
    if (err instanceof Refusal) return err.result;
    throw err;
  }
}

export function isExit(x: ParsedIpvsadm | IpvsadmExit): x is IpvsadmExit {
  return (x as IpvsadmExit).exit !== undefined;
}

export function hasOption(p: ParsedIpvsadm, name: OptionName): boolean {
  return p.options.has(optionIndex(name));
}

function parseSteps(
  argv: readonly string[],
  program: string,
  byName: ServiceByName,
): ParsedIpvsadm | IpvsadmExit {
  const { tokens, args, error } = scan(argv);
  const first = tokens[0];
  if (!first) return tryHelp(program);
  const start = commandOf(first, program);
  if ("exit" in start) return start;
  const st = initialState(start.command, byName);
  st.daemon.state = start.daemonState;
  for (const t of tokens.slice(1)) {
    const handle = OPTION_HANDLERS[t.tag];
    // A second command, -h or -v after the command: ipvsadm 1.31's option loop calls them unknown.
    if (!handle) fail(`invalid option \`${t.text}'`);
    handle(st, t.value ?? "", t);
  }
  // popt's own complaint comes after what the options before it refused: "<option>: <reason>", -1
  if (error) return { exit: 255, stdout: "", stderr: `${error.text}: ${error.reason}\n` };
  takeArguments(st, args);
  if (st.schedFlags) {
    st.service.flags &= ~(IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3);
    st.service.flags |= parseSchedFlags(st.service.scheduler, st.schedFlags);
  }
  checkRules(COMMAND_RULES[st.command], OPTION_NAMES, st.options, `'${COMMAND_NAMES[st.command]}' command`);
  COMMAND_CHECKS[st.command]?.(st);
  const { schedFlags: _s, byName: _b, ...parsed } = st;
  return parsed;
}

// ---------------------------------------------------------------- step 1: the command
/** Tags of the commands that take no value. */
const COMMAND_OF_TAG: Record<string, IpvsadmCommand> = {
  A: "ADD",
  E: "EDIT",
  D: "DEL",
  a: "ADDDEST",
  e: "EDITDEST",
  d: "DELDEST",
  C: "FLUSH",
  L: "LIST",
  Z: "ZERO",
  set: "TIMEOUT",
  R: "RESTORE",
  S: "SAVE",
};

/** The first option names the command (ipvsadm.c set_command); -h and -v answer at once. */
function commandOf(
  first: Token,
  program: string,
): { command: IpvsadmCommand; daemonState: number } | IpvsadmExit {
  const command = COMMAND_OF_TAG[first.tag];
  if (command) return { command, daemonState: 0 };
  switch (first.tag) {
    case "start-daemon":
    case "stop-daemon": {
      const start = first.tag === "start-daemon";
      if (first.value === "master")
        return { command: start ? "STARTDAEMON" : "STOPDAEMON", daemonState: IP_VS_STATE_MASTER };
      if (first.value === "backup")
        return { command: start ? "STARTDAEMON" : "STOPDAEMON", daemonState: IP_VS_STATE_BACKUP };
      return fail(start ? "illegal start-daemon parameter specified" : "illegal start_daemon specified");
    }
    case "h":
      return { exit: 0, stdout: usageText(program), stderr: "" };
    case "v":
      return { exit: 0, stdout: VERSION_TEXT, stderr: "" };
    default:
      return tryHelp(program);
  }
}

/** ipvsadm's defaults before any option (process_options' memset + its initial values). */
function initialState(command: IpvsadmCommand, byName: ServiceByName): ParseState {
  return {
    command,
    options: new Set<number>(),
    format: 0,
    service: {
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
    },
    dest: {
      af: 0,
      address: "0.0.0.0",
      port: 0,
      forward: IP_VS_CONN_F_DROUTE,
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
      tunnelType: 0,
      tunnelPort: 0,
      tunnelFlags: 0,
    },
    timeouts: { tcp: 0, tcpFin: 0, udp: 0 },
    daemon: { state: 0, mcastIfn: "", syncId: 0 },
    schedFlags: "",
    byName,
  };
}

// ---------------------------------------------------------------- step 2: each option
type OptionHandler = (st: ParseState, value: string, token: Token) => void;

/** set_option: each option at most once. */
function setOption(st: ParseState, name: OptionName): void {
  const o = optionIndex(name);
  if (st.options.has(o)) fail(`multiple '${name}' options specified`);
  st.options.add(o);
}

/** An option that only marks itself given. */
const mark =
  (name: OptionName): OptionHandler =>
  (st) =>
    setOption(st, name);
/** A listing option: marks itself and sets its FMT_* bit. */
const listing =
  (name: OptionName, bit: number): OptionHandler =>
  (st) => {
    setOption(st, name);
    st.format |= bit;
  };
const forwarding =
  (method: number): OptionHandler =>
  (st) => {
    setOption(st, "forwarding-method");
    st.dest.forward = method;
  };
const tunnelFlag =
  (name: OptionName, bit: number): OptionHandler =>
  (st) => {
    setOption(st, name);
    st.dest.tunnelFlags |= bit;
  };

function virtualService(st: ParseState, v: string, t: Token): void {
  setOption(st, "service-address");
  const svc = st.service;
  svc.protocol = t.tag === "t" ? IPPROTO_TCP : t.tag === "u" ? IPPROTO_UDP : IPPROTO_SCTP;
  const p = parseServiceAddr(v, svc.protocol, st.byName);
  if (!p) fail("illegal virtual server address[:port] specified");
  svc.af = p.af;
  svc.address = p.address;
  if (p.port !== undefined) svc.port = p.port;
  if (p.af === AF_INET6) svc.netmask = 128;
}

function fwmarkService(st: ParseState, v: string): void {
  setOption(st, "service-address");
  st.service.af = AF_INET;
  st.service.protocol = IPPROTO_TCP;
  const n = /^[+-]?\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!(n > 0 && n <= 0xffffffff)) fail(`invalid fwmark value \`${v}' specified`);
  st.service.fwmark = n;
}

function netmask(st: ParseState, v: string): void {
  setOption(st, "netmask");
  if (st.service.af !== AF_INET6) {
    const p = maskPrefix(v);
    if (p === undefined) fail("illegal virtual server persistent mask specified");
    st.service.netmask = p;
    return;
  }
  const n = Number.parseInt(v, 10);
  if (!(n >= 1 && n <= 128)) fail("illegal ipv6 netmask specified");
  st.service.netmask = n;
}

function realServer(st: ParseState, v: string): void {
  setOption(st, "real-server");
  const p = parseServiceAddr(v, st.service.protocol, st.byName);
  if (!p) fail("illegal real server address[:port] specified");
  st.dest.af = p.af;
  st.dest.address = p.address;
  st.dest.port = p.port ?? st.service.port;
}

function mcastGroup(st: ParseState, v: string): void {
  setOption(st, "mcast-group");
  if (v.includes(":")) {
    const b = parseIPv6(v);
    if (!b || b[0] !== 0xff) fail(`invalid IPv6 mcast-group \`${v}'`);
  } else {
    const b = parseIPv4(v);
    if (!b || (b[0] as number) < 224 || (b[0] as number) > 239) fail(`invalid IPv4 mcast-group \`${v}'`);
  }
  st.daemon.mcastGroup = v;
}

/** What each option does to the command being built, by its popt tag (ipvsadm.c parse_options). */
const OPTION_HANDLERS: Record<string, OptionHandler> = {
  t: virtualService,
  u: virtualService,
  sctp: virtualService,
  f: fwmarkService,
  s: (st, v) => {
    setOption(st, "scheduler");
    st.service.scheduler = v.slice(0, IP_VS_SCHEDNAME_MAXLEN - 1);
  },
  p: (st, _v, t) => {
    setOption(st, "persistent");
    st.service.flags |= IP_VS_SVC_F_PERSISTENT;
    st.service.timeout = parseTimeout(t.value, 1, MAX_TIMEOUT);
  },
  M: netmask,
  r: realServer,
  i: forwarding(IP_VS_CONN_F_TUNNEL),
  g: forwarding(IP_VS_CONN_F_DROUTE),
  m: forwarding(IP_VS_CONN_F_MASQ),
  w: (st, v) => {
    setOption(st, "weight");
    // Debian's ipvsadm 1.31 lets any int through to the kernel (captured: -w 70000 reaches it).
    st.dest.weight = numberOr(v, 0, 0x7fffffff, "illegal weight specified");
  },
  x: (st, v) => {
    setOption(st, "u-threshold");
    st.dest.upperThreshold = numberOr(v, 0, 0x7fffffff, "illegal u_threshold specified");
  },
  y: (st, v) => {
    setOption(st, "l-threshold");
    st.dest.lowerThreshold = numberOr(v, 0, 0x7fffffff, "illegal l_threshold specified");
  },
  c: mark("connection"),
  n: listing("numeric", Fmt.NUMERIC),
  "mcast-interface": (st, v) => {
    setOption(st, "mcast-interface");
    st.daemon.mcastIfn = v.slice(0, IP_VS_IFNAME_MAXLEN - 1);
  },
  syncid: (st, v) => {
    setOption(st, "syncid");
    st.daemon.syncId = numberOr(v, 0, 255, "illegal syncid specified");
  },
  timeout: mark("timeout"),
  daemon: mark("daemon"),
  stats: listing("stats", Fmt.STATS),
  rate: listing("rate", Fmt.RATE),
  thresholds: listing("thresholds", Fmt.THRESHOLDS),
  "persistent-conn": listing("persistent-conn", Fmt.PERSISTENTCONN),
  nosort: listing("nosort", Fmt.NOSORT),
  sort: () => {},
  X: listing("exact", Fmt.EXACT),
  "6": (st) => {
    if (!st.service.fwmark) fail("-6 used before -f\n");
    st.service.af = AF_INET6;
    st.service.netmask = 128;
  },
  o: (st) => {
    setOption(st, "ops");
    st.service.flags |= IP_VS_SVC_F_ONEPACKET;
  },
  pe: (st, v) => {
    setOption(st, "pe");
    st.service.peName = v.slice(0, IP_VS_PENAME_MAXLEN);
  },
  b: (st, v) => {
    setOption(st, "sched-flags");
    st.schedFlags = v.slice(0, 127);
  },
  "mcast-group": mcastGroup,
  "mcast-port": (st, v) => {
    setOption(st, "mcast-port");
    st.daemon.mcastPort = numberOr(v, 1, 65535, "illegal mcast-port specified");
  },
  "mcast-ttl": (st, v) => {
    setOption(st, "mcast-ttl");
    st.daemon.mcastTtl = numberOr(v, 1, 255, "illegal mcast-ttl specified");
  },
  "sync-maxlen": (st, v) => {
    setOption(st, "sync-maxlen");
    st.daemon.syncMaxLen = numberOr(v, 1, 65535 - 20 - 8, "illegal sync-maxlen specified");
  },
  "tun-info": listing("tun-info", Fmt.TUN_INFO),
  "tun-type": (st, v) => {
    setOption(st, "tun-type");
    const n = TUNNEL_TYPE_NAMES.indexOf(v);
    if (n === -1) fail("illegal tunnel type specified");
    st.dest.tunnelType = n;
  },
  "tun-port": (st, v) => {
    setOption(st, "tun-port");
    st.dest.tunnelPort = numberOr(v, 1, 65535, "illegal tunnel port specified");
  },
  "tun-nocsum": mark("tun-nocsum"),
  "tun-csum": tunnelFlag("tun-csum", IP_VS_TUNNEL_ENCAP_FLAG_CSUM),
  "tun-remcsum": tunnelFlag("tun-remcsum", IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM),
};

// ---------------------------------------------------------------- step 3: leftover arguments
/** --set's three timeouts; any other leftover argument is refused. */
function takeArguments(st: ParseState, args: readonly string[]): void {
  const rest = [...args];
  if (st.command === "TIMEOUT") {
    if (rest.length < 3) fail("--set option requires 3 timeout values");
    st.timeouts.tcp = parseTimeout(rest.shift(), 0, MAX_TIMEOUT);
    st.timeouts.tcpFin = parseTimeout(rest.shift(), 0, MAX_TIMEOUT);
    st.timeouts.udp = parseTimeout(rest.shift(), 0, MAX_TIMEOUT);
  }
  if (rest.length > 0) fail(`unexpected argument ${rest[0]}`);
}

// ---------------------------------------------------------------- step 4: legality tables
/**
 * generic_opt_check / tunnel_opt_check: `rules` has one character per option of `names`
 * ('+' required, 'x' illegal, '1' exclusive with the other '1's); `what` ends the messages.
 */
function checkRules(rules: string, names: readonly OptionName[], given: Set<number>, what: string): void {
  let exclusive: OptionName | undefined;
  for (const [j, name] of names.entries()) {
    const rule = rules[j];
    if (!given.has(optionIndex(name))) {
      if (rule === "+") fail(`You need to supply the '${name}' option for the ${what}`);
      continue;
    }
    if (rule === "x") fail(`Illegal '${name}' option with the ${what}`);
    if (rule !== "1") continue;
    if (exclusive === undefined) exclusive = name;
    else fail(`The option '${name}' conflicts with the '${exclusive}' option in the ${what}`);
  }
}

// ---------------------------------------------------------------- step 5: per command kind
/** -A / -E (process_options): a port or persistence, OPS for UDP only, wlc by default. */
function checkService(st: ParseState): void {
  const svc = st.service;
  if (!svc.fwmark && !svc.port && !(svc.flags & IP_VS_SVC_F_PERSISTENT))
    fail("Zero port specified for non-persistent service");
  if (svc.flags & IP_VS_SVC_F_ONEPACKET && !svc.fwmark && svc.protocol !== IPPROTO_UDP)
    fail("One-Packet Scheduling is only for UDP virtual services");
  if (!svc.scheduler) svc.scheduler = "wlc";
}

/** -a / -e: DR and tunnels keep the service's port; families may differ only for tunnels. */
function checkDest(st: ParseState): void {
  const { service: svc, dest } = st;
  const fwd = dest.forward;
  if (!svc.fwmark && (fwd === IP_VS_CONN_F_TUNNEL || fwd === IP_VS_CONN_F_DROUTE)) dest.port = svc.port;
  if (dest.af !== svc.af && fwd !== IP_VS_CONN_F_TUNNEL)
    fail("Different address family is allowed only for tunneling servers");
  const tunnelOptions: OptionName[] = ["tun-type", ...TUNNEL_OPTIONS];
  if (tunnelOptions.some((n) => st.options.has(optionIndex(n))) && fwd !== IP_VS_CONN_F_TUNNEL)
    fail("Tunnel options conflict with forward method");
  const type = TUNNEL_TYPE_NAMES[dest.tunnelType];
  checkRules(TUNNEL_RULES[dest.tunnelType] as string, TUNNEL_OPTIONS, st.options, `'${type}' tunnel type`);
}

/** -L: connections, timeouts and daemons list no counters. */
function checkList(st: ParseState): void {
  const has = (n: OptionName): boolean => st.options.has(optionIndex(n));
  if (
    ((has("connection") || has("timeout") || has("daemon")) &&
      (has("stats") || has("rate") || has("thresholds"))) ||
    ((has("timeout") || has("daemon")) && has("persistent-conn"))
  ) {
    fail("options conflicts in the list command");
  }
}

const COMMAND_CHECKS: Partial<Record<IpvsadmCommand, (st: ParseState) => void>> = {
  ADD: checkService,
  EDIT: checkService,
  ADDDEST: checkDest,
  EDITDEST: checkDest,
  LIST: checkList,
  STARTDAEMON: (st) => {
    if (!st.daemon.mcastIfn) st.daemon.mcastIfn = "eth0";
  },
};

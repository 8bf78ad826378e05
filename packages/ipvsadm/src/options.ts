/**
 * ipvsadm 1.31's options as data: the popt table (names, short letters, argument kinds), the
 * option and command names its messages use, and its legality tables (ipvsadm.c:
 * commands_v_options, tunnel_types_v_options); plus the popt-style scan of argv. Pure.
 */

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

/** ipvsadm.c cmdnames, by command (as its messages name them). */
export const COMMAND_NAMES: Record<IpvsadmCommand, string> = {
  ADD: "add-service",
  EDIT: "edit-service",
  DEL: "delete-service",
  FLUSH: "flush",
  LIST: "list",
  ADDDEST: "add-server",
  DELDEST: "delete-server",
  EDITDEST: "edit-server",
  TIMEOUT: "set",
  STARTDAEMON: "start-daemon",
  STOPDAEMON: "stop-daemon",
  RESTORE: "restore",
  SAVE: "save",
  ZERO: "zero",
};

/** OPTC_* names in index order (ipvsadm.c optnames). */
export const OPTION_NAMES = [
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
] as const;
export type OptionName = (typeof OPTION_NAMES)[number];

/** OPTC_* index of an option name. */
export const optionIndex = (name: OptionName): number => OPTION_NAMES.indexOf(name);

/**
 * commands_v_options, one character per OPTC_* index: '+' required, 'x' illegal, '1' at most
 * one of the '1's, ' ' optional.
 */
export const COMMAND_RULES: Record<IpvsadmCommand, string> = {
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

/** Tunnel types by IP_VS_CONN_F_TUNNEL_TYPE_* value. */
export const TUNNEL_TYPE_NAMES = ["ipip", "gue", "gre"];
/** The options tunnel_types_v_options rules, in its column order. */
export const TUNNEL_OPTIONS: readonly OptionName[] = ["tun-port", "tun-nocsum", "tun-csum", "tun-remcsum"];
/** tunnel_types_v_options, by tunnel type, over TUNNEL_OPTIONS. */
export const TUNNEL_RULES = ["xxxx", "+111", "x11x"];

// ---------------------------------------------------------------- the popt table
export type ArgKind = "none" | "required" | "optional";
export interface OptDef {
  long: string;
  short?: string;
  arg: ArgKind;
  /** What the parser dispatches on (one tag may have several spellings: -L and -l). */
  tag: string;
}

export const POPT_TABLE: readonly OptDef[] = [
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

export interface Token {
  tag: string;
  value: string | undefined;
  /** As written, for error messages (poptBadOption). */
  text: string;
}

export interface Scan {
  tokens: Token[];
  /** Leftover arguments (--set's three timeouts; anything else is refused later). */
  args: string[];
  /** popt's complaint, if the scan stopped early. */
  error?: { text: string; reason: string };
}

/** popt-style scan: options in order, plus leftover arguments. Errors as ipvsadm prints them. */
export function scan(argv: readonly string[]): Scan {
  const out: Scan = { tokens: [], args: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--") {
      out.args.push(...argv.slice(i + 1));
      break;
    }
    const next = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
    const peekIsValue = i + 1 < argv.length && !(argv[i + 1] as string).startsWith("-");
    const stop = a.startsWith("--")
      ? scanLong(a, next, peekIsValue, out)
      : scanShort(a, next, peekIsValue, out);
    if (stop) return out;
  }
  return out;
}

/** `--name`, `--name=value`, `--name value`; true when the scan must stop (error set). */
function scanLong(a: string, next: () => string | undefined, peekIsValue: boolean, out: Scan): boolean {
  const eq = a.indexOf("=");
  const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
  const def = POPT_TABLE.find((d) => d.long === name);
  if (!def) {
    out.error = { text: a, reason: "unknown option" };
    return true;
  }
  let value: string | undefined;
  if (eq !== -1) value = a.slice(eq + 1);
  else if (def.arg === "required") {
    value = next();
    if (value === undefined) {
      out.error = { text: a, reason: "missing argument" };
      return true;
    }
  } else if (def.arg === "optional" && peekIsValue) value = next();
  out.tokens.push({ tag: def.tag, value, text: a });
  return false;
}

/** A cluster `-Ln`, `-w5`, `-p 60`, or a bare argument; true when the scan must stop. */
function scanShort(a: string, next: () => string | undefined, peekIsValue: boolean, out: Scan): boolean {
  if (!a.startsWith("-") || a.length === 1) {
    out.args.push(a);
    return false;
  }
  for (let j = 1; j < a.length; j++) {
    const ch = a[j] as string;
    const def = POPT_TABLE.find((d) => d.short === ch);
    if (!def) {
      out.error = { text: `-${ch}`, reason: "unknown option" };
      return true;
    }
    const rest = a.slice(j + 1);
    if (def.arg === "none") {
      out.tokens.push({ tag: def.tag, value: undefined, text: `-${ch}` });
      continue;
    }
    // An argument ends the cluster: the rest of it, or the next word.
    let value: string | undefined = rest || undefined;
    if (value === undefined && (def.arg === "required" || peekIsValue)) value = next();
    if (value === undefined && def.arg === "required") {
      out.error = { text: `-${ch}`, reason: "missing argument" };
      return true;
    }
    out.tokens.push({ tag: def.tag, value, text: `-${ch}` });
    return false;
  }
  return false;
}

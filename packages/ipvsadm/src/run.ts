/**
 * Runs an ipvsadm 1.31 command line against an IpvsClient and returns what ipvsadm would print
 * and its exit status. -R pipelines the whole file through `batch()` (in order, each line's
 * failure reported like ipvsadm, the others kept).
 */
import {
  AF_INET,
  type Destination,
  Errno,
  type IpvsClient,
  IpvsError,
  type Operation,
  parseConnections,
  type Service,
  type ServiceKey,
  type ServiceWithDests,
} from "@lvs/ipvs";
import { type IpvsadmExit, tryHelp } from "./exit.js";
import {
  Fmt,
  formatConnections,
  formatDaemons,
  formatListAll,
  formatListService,
  formatTimeouts,
  type NameLookup,
  numericOnly,
} from "./format.js";
import { hasOption, isExit, type ParsedIpvsadm, parseIpvsadm } from "./parse.js";
import type { ServiceByName } from "./values.js";

export interface IpvsadmEnv {
  client: IpvsClient;
  /** stdin for -R. */
  stdin?: () => string | Promise<string>;
  /** /proc/net/ip_vs_conn contents for -L -c (of the client's namespace). */
  readConnections?: () => string | Promise<string>;
  names?: NameLookup;
  serviceByName?: ServiceByName;
  program?: string;
}

export type IpvsadmResult = IpvsadmExit;

/** libipvs.c ipvs_strerror: messages by (operation, errno), else strerror. */
export function ipvsStrerror(command: string, errno: number): string {
  const table: [string | undefined, number, string][] = [
    ["ADD", 17, "Service already exists"],
    ["ADD", 2, "Scheduler or persistence engine not found"],
    ["EDIT", 3, "No such service"],
    ["EDIT", 2, "Scheduler or persistence engine not found"],
    ["DEL", 3, "No such service"],
    ["ZERO", 3, "No such service"],
    ["ADDDEST", 3, "Service not defined"],
    ["ADDDEST", 17, "Destination already exists"],
    ["EDITDEST", 3, "Service not defined"],
    ["EDITDEST", 2, "No such destination"],
    ["DELDEST", 3, "Service not defined"],
    ["DELDEST", 2, "No such destination"],
    ["STARTDAEMON", 17, "Daemon has already run"],
    ["STOPDAEMON", 3, "No daemon is running"],
    ["GETSERVICES", 3, "No such service"],
    ["GETDESTS", 3, "No such service"],
    ["GETSERVICE", 3, "No such service"],
    [undefined, 1, "Permission denied (you must be root)"],
    [undefined, 22, "Invalid operation.  Possibly wrong module version, address not unicast, ..."],
    [undefined, 92, "Protocol not available"],
    [undefined, 12, "Memory allocation problem"],
    [undefined, 95, "Operation not supported with IPv6"],
    [undefined, 97, "Operation not supported with specified address family"],
    [undefined, 90, "Module is wrong version"],
  ];
  for (const [cmd, e, msg] of table) if ((cmd === undefined || cmd === command) && e === errno) return msg;
  return STRERROR[errno] ?? `Unknown error ${errno}`;
}

const STRERROR: Record<number, string> = {
  2: "No such file or directory",
  3: "No such process",
  16: "Device or resource busy",
  17: "File exists",
  19: "No such device",
  34: "Numerical result out of range",
  105: "No buffer space available",
  110: "Connection timed out",
};

function toService(p: ParsedIpvsadm): Service {
  const s = p.service;
  const settings = {
    scheduler: s.scheduler,
    flags: s.flags,
    timeout: s.timeout,
    netmask: s.netmask,
    ...(s.peName ? { peName: s.peName } : {}),
  };
  if (s.fwmark) return { af: s.af || AF_INET, fwmark: s.fwmark, ...settings };
  return { af: s.af, protocol: s.protocol, address: s.address, port: s.port, ...settings };
}

function toKey(p: ParsedIpvsadm): ServiceKey {
  const s = p.service;
  if (s.fwmark) return { af: s.af || AF_INET, fwmark: s.fwmark };
  return { af: s.af, protocol: s.protocol, address: s.address, port: s.port };
}

function toDest(p: ParsedIpvsadm): Destination {
  const d = p.dest;
  return {
    af: d.af,
    address: d.address,
    port: d.port,
    forward: d.forward,
    weight: d.weight,
    upperThreshold: d.upperThreshold,
    lowerThreshold: d.lowerThreshold,
    tunnelType: d.tunnelType,
    tunnelPort: d.tunnelPort,
    tunnelFlags: d.tunnelFlags,
  };
}

/** The mutation a parsed line stands for, if it is one batch() can carry. */
export function parsedToOperation(p: ParsedIpvsadm): Operation | undefined {
  switch (p.command) {
    case "ADD":
      return { op: "addService", service: toService(p) };
    case "EDIT":
      return { op: "editService", service: toService(p) };
    case "DEL":
      return { op: "delService", service: toKey(p) };
    case "ADDDEST":
      return { op: "addDest", service: toKey(p), dest: toDest(p) };
    case "EDITDEST":
      return { op: "editDest", service: toKey(p), dest: toDest(p) };
    case "DELDEST":
      return { op: "delDest", service: toKey(p), dest: { address: p.dest.address, port: p.dest.port } };
    default:
      return undefined;
  }
}

const errnoOf = (err: unknown): number =>
  err instanceof IpvsError && err.errno !== undefined ? err.errno : Errno.EINVAL;
const OP_COMMAND: Record<Operation["op"], string> = {
  addService: "ADD",
  editService: "EDIT",
  delService: "DEL",
  addDest: "ADDDEST",
  editDest: "EDITDEST",
  delDest: "DELDEST",
};

/** Runs one ipvsadm command line (argv without the program name). */
export async function runIpvsadm(argv: readonly string[], env: IpvsadmEnv): Promise<IpvsadmResult> {
  const program = env.program ?? "ipvsadm";
  if (argv.length === 0) {
    const [info, table] = await Promise.all([env.client.info(), env.client.table()]);
    return { exit: 0, stdout: formatListAll(info, table, Fmt.NONE, env.names ?? numericOnly), stderr: "" };
  }
  const parsed = parseIpvsadm(argv, {
    program,
    ...(env.serviceByName ? { serviceByName: env.serviceByName } : {}),
  });
  if (isExit(parsed)) return parsed;
  return execute(parsed, env, false);
}

async function execute(p: ParsedIpvsadm, env: IpvsadmEnv, fromRestore: boolean): Promise<IpvsadmResult> {
  const names = env.names ?? numericOnly;
  const client = env.client;
  const ok = (stdout = ""): IpvsadmResult => ({ exit: 0, stdout, stderr: "" });
  // ipvsadm returns -1 (255) when a command fails, but exit(1) when listing fails.
  const failed = (command: string, err: unknown, exit = 255): IpvsadmResult => {
    if (!(err instanceof IpvsError) || err.errno === undefined) throw err;
    return { exit, stdout: "", stderr: `${ipvsStrerror(command, errnoOf(err))}\n` };
  };
  switch (p.command) {
    case "LIST": {
      try {
        if (hasOption(p, "connection")) {
          const text = env.readConnections ? await env.readConnections() : "";
          return ok(formatConnections(parseConnections(text).connections, p.format, names));
        }
        if (hasOption(p, "service-address")) {
          const key = toKey(p);
          let entry: ServiceWithDests;
          try {
            const service = await client.service(key);
            entry = { service, dests: await client.dests(key) };
          } catch (err) {
            return failed("GETSERVICE", err, 1);
          }
          return ok(formatListService(entry, p.format, names));
        }
        if (hasOption(p, "timeout")) return ok(formatTimeouts(await client.timeouts()));
        if (hasOption(p, "daemon")) return ok(formatDaemons(await client.daemons()));
        const [info, table] = await Promise.all([client.info(), client.table()]);
        return ok(formatListAll(info, table, p.format, names));
      } catch (err) {
        return failed("GETSERVICES", err, 1);
      }
    }
    case "SAVE": {
      const [info, table] = await Promise.all([client.info(), client.table()]);
      return ok(formatListAll(info, table, p.format | Fmt.RULE, names));
    }
    case "RESTORE":
      if (fromRestore) return tryHelp(env.program ?? "ipvsadm");
      return restore(env);
    case "FLUSH":
      return client.flush().then(
        () => ok(),
        (e) => failed("FLUSH", e),
      );
    case "ZERO":
      return client.zero(hasOption(p, "service-address") ? toKey(p) : undefined).then(
        () => ok(),
        (e) => failed("ZERO", e),
      );
    case "TIMEOUT":
      return client.setTimeouts(p.timeouts).then(
        () => ok(),
        (e) => failed("TIMEOUT", e),
      );
    case "STARTDAEMON":
      return client.startDaemon(p.daemon).then(
        () => ok(),
        (e) => failed("STARTDAEMON", e),
      );
    case "STOPDAEMON":
      return client.stopDaemon(p.daemon.state).then(
        () => ok(),
        (e) => failed("STOPDAEMON", e),
      );
    default: {
      const op = parsedToOperation(p) as Operation;
      const [r] = await client.batch([op]);
      return r?.error ? failed(OP_COMMAND[op.op], r.error) : ok();
    }
  }
}

/**
 * -R: ipvsadm's restore reads lines of ipvsadm arguments. A line that does not parse ends the
 * run (after the lines before it, as ipvsadm exits there); kernel refusals are printed and the
 * rest goes on; the exit status is the last line's.
 */
async function restore(env: IpvsadmEnv): Promise<IpvsadmResult> {
  const text = env.stdin ? await env.stdin() : "";
  let stdout = "";
  let stderr = "";
  let exit = 0;
  const pending: { op: Operation }[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const results = await env.client.batch(pending.map((x) => x.op));
    for (const r of results) {
      if (r.error) {
        stderr += `${ipvsStrerror(OP_COMMAND[r.operation.op], errnoOf(r.error))}\n`;
        exit = 255;
      } else exit = 0;
    }
    pending.length = 0;
  };
  for (const line of text.split("\n")) {
    const tokens = line.split(/[ \t\r]+/).filter((t) => t !== "" && t !== "ipvsadm");
    if (tokens.length === 0 || tokens[0]?.startsWith("#")) continue;
    const parsed = parseIpvsadm(tokens, {
      program: env.program ?? "ipvsadm",
      ...(env.serviceByName ? { serviceByName: env.serviceByName } : {}),
    });
    if (isExit(parsed)) {
      await flush();
      return { exit: parsed.exit, stdout: stdout + parsed.stdout, stderr: stderr + parsed.stderr };
    }
    const op = parsedToOperation(parsed);
    if (op) {
      pending.push({ op });
      continue;
    }
    await flush();
    const r = await execute(parsed, env, true);
    stdout += r.stdout;
    stderr += r.stderr;
    exit = r.exit;
  }
  await flush();
  return { exit, stdout, stderr };
}

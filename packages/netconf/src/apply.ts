/**
 * Profiles (io): snapshot the namespace, plan (profile.ts), record (state.ts), apply; and revert
 * from the record to the exact previous values.
 */
import type { IpVersion as Family } from "@lvs/inet";
import { NetconfError } from "./errors.js";
import { parseIp } from "./input.js";
import {
  type Change,
  type Desired,
  type DirectorSpec,
  desiredDirector,
  desiredRealServer,
  type Plan,
  planUp,
  type RealServerSpec,
  type Snapshot,
  sameValue,
} from "./profile.js";
import { RtnlClient } from "./rtnl.js";
import {
  defaultStateFile,
  emptyState,
  type NetconfState,
  readState,
  type StateRecord,
  writeState,
} from "./state.js";
import { readSysctlSync, writeSysctlSync } from "./sysctl.js";

export interface ProfileRunOptions {
  /** Network namespace to work in (name under /run/netns or a path). */
  netns?: string;
  /** Where the record of changes lives; default /var/lib/lvs/netconf/<role>[-<netns>].json. */
  stateFile?: string;
  /** Plan only: report the changes, touch nothing (not even the state file). */
  dryRun?: boolean;
}

export interface ProfileReport {
  role: string;
  mode?: string;
  dryRun: boolean;
  stateFile: string;
  /** What was changed (or, in a dry run, would be), in order. */
  changes: Change[];
  unchanged: string[];
  skipped: Array<{ object: string; reason: string }>;
  /** Remarks for the operator (values changed behind our back, VIPs left in place…). */
  notes: string[];
}

const nsOpt = (netns: string | undefined): { netns?: string } => (netns === undefined ? {} : { netns });

async function snapshot(rtnl: RtnlClient, netns: string | undefined): Promise<Snapshot> {
  const [links, addresses] = [await rtnl.listLinks(), await rtnl.listAddresses()];
  const cache = new Map<string, string | undefined>();
  return {
    links,
    addresses,
    sysctl: (key) => {
      if (!cache.has(key)) cache.set(key, readSysctlSync(key, nsOpt(netns)));
      return cache.get(key);
    },
  };
}

/** Applies a desired state (idempotent) and records what it changed. */
export async function applyDesired(
  role: string,
  mode: string,
  want: Desired,
  opts: ProfileRunOptions = {},
): Promise<ProfileReport> {
  const stateFile = opts.stateFile ?? defaultStateFile(role, opts.netns);
  const rtnl = RtnlClient.open(nsOpt(opts.netns));
  try {
    const plan = planUp(want, await snapshot(rtnl, opts.netns));
    const report = reportOf(role, mode, opts, stateFile, plan);
    if (opts.dryRun) return report;
    const before = readState(stateFile);
    const state: NetconfState = before
      ? { ...before, records: [...before.records], modes: [...before.modes] }
      : emptyState(role, opts.netns);
    if (!state.modes.includes(mode)) state.modes.push(mode);
    const added = new Map<Change, StateRecord>();
    for (const c of plan.changes) {
      const rec = recordOf(c, state);
      if (rec) {
        state.records.push(rec);
        added.set(c, rec);
      }
    }
    if (plan.changes.length > 0) writeState(stateFile, state); // write-ahead
    const done: Change[] = [];
    try {
      for (const c of plan.changes) {
        const changed = await applyChange(rtnl, c, opts.netns);
        if (changed) done.push(c);
        else {
          // Someone else did it between plan and apply: not ours to undo.
          const rec = added.get(c);
          if (rec) state.records.splice(state.records.indexOf(rec), 1);
          report.notes.push(`${describeObject(c)} was already in place`);
        }
      }
    } catch (err) {
      // Undo this call's changes, newest first, and put the record back as it was.
      for (const c of done.reverse()) {
        try {
          await undoChange(rtnl, c, opts.netns);
        } catch {
          // best effort: the state file still lists it
        }
      }
      if (before) writeState(stateFile, before);
      else writeState(stateFile, emptyState(role, opts.netns));
      throw err;
    }
    writeState(stateFile, state);
    report.changes = plan.changes.filter((c) => done.includes(c));
    return report;
  } finally {
    rtnl.close();
  }
}

/**
 * Reverts what the state file records, newest first, to the exact previous values. With
 * `addresses`, only those addresses go (sysctls and links stay while other recorded addresses
 * remain); addresses given but not recorded are removed too (the caller asked for it).
 */
export async function revertRecorded(
  role: string,
  opts: ProfileRunOptions & { addresses?: string[] } = {},
): Promise<ProfileReport> {
  const stateFile = opts.stateFile ?? defaultStateFile(role, opts.netns);
  const state = readState(stateFile);
  const report: ProfileReport = {
    role,
    dryRun: opts.dryRun === true,
    stateFile,
    changes: [],
    unchanged: [],
    skipped: [],
    notes: [],
  };
  const records = state?.records ?? [];
  if (!state) report.notes.push(`no state file ${stateFile}: nothing recorded to restore`);
  const only = opts.addresses?.map((a) => parseIp(a).text);
  const rtnl = RtnlClient.open(nsOpt(opts.netns));
  try {
    const current = await rtnl.listAddresses();
    const targets: StateRecord[] = [];
    const extra: Array<{ dev: string; address: string; prefixLength: number; family: Family }> = [];
    if (only) {
      for (const ip of only) {
        const rec = records.find((r) => r.kind === "address" && parseIp(r.address).text === ip);
        if (rec) targets.push(rec);
        else {
          const found = current.filter((e) => parseIp(e.address).text === ip);
          if (found.length === 0) report.notes.push(`${ip} is not configured`);
          for (const f of found) {
            extra.push({ dev: f.dev, address: f.address, prefixLength: f.prefixLength, family: f.family });
            report.notes.push(`${ip} on ${f.dev} was not added by a recorded profile; removing it as asked`);
          }
        }
      }
    }
    const remainingAddresses = records.filter((r) => r.kind === "address" && !targets.includes(r));
    const revertAll = !only || remainingAddresses.length === 0;
    if (revertAll) {
      for (const r of records) if (r.kind !== "address" && !targets.includes(r)) targets.push(r);
      if (!only) for (const r of records) if (r.kind === "address" && !targets.includes(r)) targets.push(r);
    } else {
      report.notes.push(
        `sysctls and links kept: ${remainingAddresses.length} recorded VIP(s) remain (${remainingAddresses
          .map((r) => (r.kind === "address" ? r.address : ""))
          .join(", ")})`,
      );
    }
    // Newest first.
    const ordered = records.filter((r) => targets.includes(r)).reverse();
    const changes: Array<{ change: Change; record?: StateRecord }> = [];
    for (const e of extra) {
      changes.push({
        change: { kind: "address-del", dev: e.dev, address: e.address, prefixLength: e.prefixLength },
      });
    }
    for (const r of ordered) {
      if (r.kind === "address") {
        const present = current.some(
          (e) => e.dev === r.dev && parseIp(e.address).text === parseIp(r.address).text,
        );
        if (!present) {
          report.unchanged.push(`${r.address}/${r.prefixLength} on ${r.dev} already gone`);
          dropRecord(state, r);
          continue;
        }
        changes.push({
          change: { kind: "address-del", dev: r.dev, address: r.address, prefixLength: r.prefixLength },
          record: r,
        });
      } else if (r.kind === "sysctl") {
        const cur = readSysctlSync(r.key, nsOpt(opts.netns));
        if (cur === undefined) {
          report.skipped.push({ object: r.key, reason: "no longer exists (interface gone?)" });
          dropRecord(state, r);
          continue;
        }
        if (!sameValue(cur, r.applied) && !sameValue(cur, r.previous)) {
          report.notes.push(
            `${r.key} was changed to ${cur} after we set ${r.applied}; restoring ${r.previous}`,
          );
        }
        if (sameValue(cur, r.previous)) {
          report.unchanged.push(`${r.key} = ${cur}`);
          dropRecord(state, r);
          continue;
        }
        changes.push({ change: { kind: "sysctl", key: r.key, from: cur, to: r.previous }, record: r });
      } else {
        changes.push({ change: { kind: "link-down", dev: r.dev }, record: r });
      }
    }
    report.changes = changes.map((c) => c.change);
    if (opts.dryRun) return report;
    // Undoing is idempotent (a VIP already gone, a value already back), so one write at the end
    // suffices: after a crash midway the record still lists the rest.
    try {
      for (const { change, record } of changes) {
        await applyChange(rtnl, change, opts.netns);
        if (record) dropRecord(state, record);
      }
    } finally {
      if (state) writeState(stateFile, state);
    }
    return report;
  } finally {
    rtnl.close();
  }
}

function dropRecord(state: NetconfState | undefined, r: StateRecord): void {
  if (!state) return;
  const i = state.records.indexOf(r);
  if (i >= 0) state.records.splice(i, 1);
}

/** The record for a change, or undefined when the state already holds an earlier one for it. */
function recordOf(c: Change, state: NetconfState): StateRecord | undefined {
  switch (c.kind) {
    case "sysctl":
      // The first recorded previous value is the one to go back to.
      if (state.records.some((r) => r.kind === "sysctl" && r.key === c.key)) {
        const r = state.records.find((x) => x.kind === "sysctl" && x.key === c.key);
        if (r && r.kind === "sysctl") r.applied = c.to;
        return undefined;
      }
      return { kind: "sysctl", key: c.key, previous: c.from, applied: c.to };
    case "address-add": {
      const family = parseIp(c.address).version;
      return {
        kind: "address",
        dev: c.dev,
        address: c.address,
        prefixLength: c.prefixLength,
        family,
        ...(c.label !== undefined ? { label: c.label } : {}),
      };
    }
    case "link-up":
      if (state.records.some((r) => r.kind === "link-up" && r.dev === c.dev)) return undefined;
      return { kind: "link-up", dev: c.dev };
    default:
      return undefined;
  }
}

/** Applies one change; false when it turned out to be in place already. */
async function applyChange(rtnl: RtnlClient, c: Change, netns: string | undefined): Promise<boolean> {
  switch (c.kind) {
    case "sysctl":
      writeSysctlSync(c.key, c.to, nsOpt(netns));
      return true;
    case "address-add":
      return (
        await rtnl.addAddress({
          dev: c.dev,
          address: c.address,
          prefixLength: c.prefixLength,
          ...(c.label !== undefined ? { label: c.label } : {}),
          noDad: true,
        })
      ).changed;
    case "address-del":
      return (await rtnl.removeAddress({ dev: c.dev, address: c.address, prefixLength: c.prefixLength }))
        .changed;
    case "link-up":
      return (await rtnl.setLinkUp(c.dev, true)).changed;
    case "link-down":
      return (await rtnl.setLinkUp(c.dev, false)).changed;
  }
}

async function undoChange(rtnl: RtnlClient, c: Change, netns: string | undefined): Promise<void> {
  switch (c.kind) {
    case "sysctl":
      writeSysctlSync(c.key, c.from, nsOpt(netns));
      return;
    case "address-add":
      await rtnl.removeAddress({ dev: c.dev, address: c.address, prefixLength: c.prefixLength });
      return;
    case "link-up":
      await rtnl.setLinkUp(c.dev, false);
      return;
    default:
      return;
  }
}

function describeObject(c: Change): string {
  switch (c.kind) {
    case "sysctl":
      return c.key;
    case "address-add":
    case "address-del":
      return `${c.address}/${c.prefixLength} on ${c.dev}`;
    default:
      return c.dev;
  }
}

function reportOf(
  role: string,
  mode: string,
  opts: ProfileRunOptions,
  stateFile: string,
  plan: Plan,
): ProfileReport {
  return {
    role,
    mode,
    dryRun: opts.dryRun === true,
    stateFile,
    changes: plan.changes,
    unchanged: plan.unchanged,
    skipped: plan.skipped,
    notes: [],
  };
}

/** `lvsctl realserver up`: VIPs and ARP sysctls for a DR or TUN real server. */
export function realServerUp(spec: RealServerSpec, opts: ProfileRunOptions = {}): Promise<ProfileReport> {
  return applyDesired("realserver", spec.mode, desiredRealServer(spec), opts);
}

/** `lvsctl realserver down`: removes the VIPs (all recorded, or those given) and restores the sysctls. */
export function realServerDown(
  spec: { vips?: string[] } = {},
  opts: ProfileRunOptions = {},
): Promise<ProfileReport> {
  return revertRecorded("realserver", { ...opts, ...(spec.vips ? { addresses: spec.vips } : {}) });
}

/** `lvsctl director prep`: forwarding and redirect sysctls for a NAT, DR or TUN director. */
export function directorPrep(spec: DirectorSpec, opts: ProfileRunOptions = {}): Promise<ProfileReport> {
  return applyDesired("director", spec.mode, desiredDirector(spec), opts);
}

/** `lvsctl director restore`: puts back every sysctl value `directorPrep` changed. */
export function directorRestore(opts: ProfileRunOptions = {}): Promise<ProfileReport> {
  return revertRecorded("director", opts);
}

/**
 * A set of sysctls applied with a record, for callers of their own (`role` names the state
 * file); undo with `revertRecorded(role, …)`.
 */
export function applySysctls(
  role: string,
  settings: Record<string, string | number>,
  opts: ProfileRunOptions = {},
): Promise<ProfileReport> {
  const sysctls = Object.entries(settings).map(([key, v]) => ({ key, to: String(v) }));
  if (sysctls.length === 0) {
    return Promise.reject(new NetconfError("NETCONF_BAD_OPTION", "no sysctls to apply", { object: role }));
  }
  return applyDesired(role, "sysctls", { sysctls, addresses: [], linksUp: [] }, opts);
}

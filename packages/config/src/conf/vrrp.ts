// global_defs, vrrp_script, vrrp_sync_group and vrrp_instance of keepalived.conf
// (keepalived 2.2.7 core/global_parser.c, vrrp/vrrp_parser.c, vrrp/vrrp_track.c).
import { isIP } from "node:net";
import type { Statement } from "../ast.js";
import { SMTP_PORT_DEFAULT } from "../constants.js";
import type { Word } from "../lexer.js";
import {
  args,
  blockWords,
  bool,
  type Ctx,
  camel,
  deprecated,
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

const fifo: Handler = (st, f, c) => {
  noBlock(st, c);
  const a = args(st, c, 1, 3, "/run/keepalived.fifo");
  if (!a) return;
  const user = a[1] ? runAs(c, a[1], a[2], a[1].pos, st.keyword.text) : undefined;
  if (a[1] && !user) return;
  put(f, c, camel(st.keyword.text), { path: a[0]!.text, ...(user ? { user } : {}) }, st, a[0]);
};

const scriptUser: Handler = (st, f, c) => {
  noBlock(st, c);
  const a = args(st, c, 1, 2, "keepalived_script");
  if (!a) return;
  const u = runAs(c, a[0]!, a[1], a[0]!.pos, st.keyword.text);
  if (u) put(f, c, st.keyword.text === "user" ? "user" : "scriptUser", u, st, a[0]);
};

const LVS_SYNC_WORDS = new Set(["inst", "id", "maxlen", "port", "ttl", "group"]);

const lvsSyncDaemon: Handler = (st, f, c) => {
  noBlock(st, c);
  const a = args(st, c, 1, 14, "eth0 inst VI_1 id 1");
  if (!a) return;
  const v: Obj = { interface: a[0]!.text };
  const path = [...f.path, "lvsSyncDaemon"];
  let i = 1;
  if (a[i] && !LVS_SYNC_WORDS.has(a[i]!.text)) v.instance = a[i++]!.text;
  for (; i < a.length; i++) {
    const w = a[i]!;
    const val = a[i + 1];
    if (!LVS_SYNC_WORDS.has(w.text) || !val) {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        w.pos,
        `lvs_sync_daemon: unexpected \`${w.text}\`; write \`lvs_sync_daemon eth0 [inst VI_1] [id N] [maxlen N] [port N] [ttl N] [group IP]\``,
        st.keyword.text,
      );
      return;
    }
    const field = w.text === "inst" ? "instance" : w.text === "id" ? "syncId" : w.text;
    v[field] = field === "instance" || field === "group" ? val.text : toInt(val);
    c.sources.set([...path, field], { pos: w.pos, keyword: w.text, valuePos: val.pos });
    i++;
  }
  put(f, c, "lvsSyncDaemon", v, st, a[0]);
};

const lvsTimeouts: Handler = (st, f, c) => {
  noBlock(st, c);
  const a = args(st, c, 2, 6, "tcp 900 tcpfin 120 udp 300");
  if (!a) return;
  const v: Obj = {};
  for (let i = 0; i < a.length; i += 2) {
    const w = a[i]!;
    const val = a[i + 1];
    if (!["tcp", "tcpfin", "udp"].includes(w.text) || !val) {
      c.sink.error(
        "CONFIG_INVALID_VALUE",
        w.pos,
        `lvs_timeouts: unexpected \`${w.text}\`; write \`lvs_timeouts tcp 900 tcpfin 120 udp 300\``,
        st.keyword.text,
      );
      return;
    }
    v[w.text] = toInt(val);
    c.sources.set([...f.path, "lvsTimeouts", w.text], { pos: w.pos, keyword: w.text, valuePos: val.pos });
  }
  put(f, c, "lvsTimeouts", v, st);
};

export const GLOBAL_IGNORED = new Set([
  "tmp_config_directory",
  "config_save_dir",
  "process_names",
  "process_name",
  "vrrp_process_name",
  "checker_process_name",
  "bfd_process_name",
  "lvs_process_name",
  "max_auto_priority",
  "min_auto_priority_delay",
  "disable_local_igmp",
  "vrrp_garp_extra_if",
  "vrrp_vmac_garp_intvl",
  "vrrp_iptables",
  "vrrp_ipsets",
  "nftables",
  "nftables_priority",
  "nftables_ifindex",
  "nftables_ipvs",
  "nftables_ipvs_priority",
  "nftables_ipvs_start_fwmark",
  "nftables_counters",
  "vrrp_no_swap",
  "vrrp_cpu_affinity",
  "vrrp_rlimit_rttime",
  "vrrp_rlimit_rtime",
  "checker_priority",
  "checker_no_swap",
  "checker_rt_priority",
  "checker_cpu_affinity",
  "checker_rlimit_rttime",
  "checker_rlimit_rtime",
  "bfd_priority",
  "bfd_no_swap",
  "bfd_rt_priority",
  "bfd_cpu_affinity",
  "bfd_rlimit_rttime",
  "bfd_rlimit_rtime",
  "snmp_socket",
  "enable_traps",
  "enable_snmp_vrrp",
  "enable_snmp_keepalived",
  "enable_snmp_rfc",
  "enable_snmp_rfcv2",
  "enable_snmp_rfcv3",
  "enable_snmp_checker",
  // keepalived 2.3
  "snmp_vs_stats_update_interval",
  "snmp_rs_stats_update_interval",
  "use_symlink_paths",
  "enable_dbus",
  "dbus_service_name",
  "vrrp_netlink_cmd_rcv_bufs",
  "vrrp_netlink_cmd_rcv_bufs_force",
  "vrrp_netlink_monitor_rcv_bufs",
  "vrrp_netlink_monitor_rcv_bufs_force",
  "process_monitor_rcv_bufs",
  "process_monitor_rcv_bufs_force",
  "lvs_netlink_cmd_rcv_bufs",
  "lvs_netlink_cmd_rcv_bufs_force",
  "lvs_netlink_monitor_rcv_bufs",
  "lvs_netlink_monitor_rcv_bufs_force",
  "vrrp_rx_bufs_policy",
  "vrrp_rx_bufs_multiplier",
  "log_unknown_vrids",
  "vmac_prefix",
  "vmac_addr_prefix",
  "umask",
  "random_seed",
  "reload_check_config",
  "reload_time_file",
  "reload_repeat",
  "reload_file",
  "include_check",
  "data_use_instance",
  "linkbeat_use_polling",
  "net_namespace",
  "net_namespace_ipvs",
  "namespace_with_ipsets",
  "use_pid_dir",
  "instance",
  "child_wait_time",
]);

const GLOBAL: Table = registerTable("global_defs", {
  router_id: str("LVS_DEVEL"),
  notification_email: (st, f, c) => {
    const words = blockWords(st, c);
    if (!words) return;
    const list = (f.obj.notificationEmail as unknown[] | undefined) ?? [];
    for (const w of words) {
      c.sources.set([...f.path, "notificationEmail", list.length], {
        pos: w.pos,
        keyword: "notification_email",
      });
      list.push(w.text);
    }
    put(f, c, "notificationEmail", list, st);
  },
  notification_email_from: str("keepalived@example.com"),
  smtp_server: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 1, 2, "127.0.0.1 25");
    if (!a) return;
    put(f, c, "smtpServer", { host: a[0]!.text, port: a[1] ? toInt(a[1]) : SMTP_PORT_DEFAULT }, st, a[0]);
  },
  smtp_helo_name: str("director1"),
  smtp_connect_timeout: int("30"),
  smtp_alert: bool,
  smtp_alert_vrrp: bool,
  smtp_alert_checker: bool,
  checker_log_all_failures: bool,
  no_email_faults: flag,
  enable_script_security: flag,
  script_user: scriptUser,
  startup_script: script(),
  startup_script_timeout: int("10"),
  shutdown_script: script(),
  shutdown_script_timeout: int("10"),
  default_interface: str("eth0"),
  dynamic_interfaces: (st, f, c) => {
    noBlock(st, c);
    args(st, c, 0, 1, "allow_if_changes");
    put(f, c, "dynamicInterfaces", true, st);
  },
  vrrp_mcast_group4: str("224.0.0.18"),
  vrrp_mcast_group6: str("ff02::12"),
  vrrp_garp_master_delay: int("5"),
  vrrp_garp_master_repeat: int("5"),
  vrrp_garp_master_refresh: int("60"),
  vrrp_garp_master_refresh_repeat: int("1"),
  vrrp_garp_lower_prio_delay: int("5"),
  vrrp_garp_lower_prio_repeat: int("5"),
  vrrp_garp_interval: secs("0.001"),
  vrrp_gna_interval: secs("0.001"),
  vrrp_min_garp: bool,
  vrrp_lower_prio_no_advert: bool,
  vrrp_higher_prio_send_advert: bool,
  vrrp_version: int("2"),
  vrrp_strict: flag,
  vrrp_check_unicast_src: flag,
  vrrp_skip_check_adv_addr: flag,
  vrrp_startup_delay: secs("5"),
  vrrp_notify_priority_changes: bool,
  vrrp_down_timer_adverts: int("3"),
  vrrp_priority: int("-10"),
  vrrp_rt_priority: int("50"),
  notify_fifo: fifo,
  notify_fifo_script: script(),
  vrrp_notify_fifo: fifo,
  vrrp_notify_fifo_script: script(),
  lvs_notify_fifo: fifo,
  lvs_notify_fifo_script: script(),
  fifo_write_vrrp_states_on_reload: flag,
  lvs_sync_daemon: lvsSyncDaemon,
  lvs_timeouts: lvsTimeouts,
  lvs_flush: flag,
  // lvs extension: set the sysctls the LVS part needs (ip_forward for NAT…) at start, restore at stop.
  lvs_director_sysctl: flag,
  lvs_flush_on_stop: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 0, 1, "VS");
    if (!a) return;
    put(f, c, "lvsFlushOnStop", a[0] ? a[0].text : "RS", st, a[0]);
  },
  lvs_flush_onstop: deprecated("lvs_flush_on_stop", (st, f, c) => GLOBAL.lvs_flush_on_stop!(st, f, c)),
  rs_init_notifies: flag,
  no_checker_emails: flag,
});

export function readGlobalDefs(st: Statement, root: Obj, c: Ctx): void {
  noArgs(st, c);
  const body = needBlock(st, c);
  if (!body) return;
  const obj = (root.globalDefs as Obj | undefined) ?? {};
  root.globalDefs = obj;
  c.sources.set(["globalDefs"], { pos: st.keyword.pos, keyword: "global_defs" });
  runBlock(body, GLOBAL, frame(obj, ["globalDefs"], "global_defs"), c, GLOBAL_IGNORED);
}

function noArgs(st: Statement, c: Ctx): void {
  if (st.args.length) args(st, c, 0, 0, "");
}

/** `KEYWORD NAME {` → the name word, or an error. */
export function blockName(st: Statement, c: Ctx, example: string): Word | undefined {
  const a = args(st, c, 1, 1, `${example} {`);
  return a?.[0];
}

// ───────────────────────────── vrrp_script ─────────────────────────────

const VRRP_SCRIPT: Table = registerTable("vrrp_script", {
  script: (st, f, c) => {
    noBlock(st, c);
    const v = scriptValue(st, c, false);
    if (v) put(f, c, "script", v.argv, st, st.args[0]);
  },
  // Seconds with decimals: keepalived 2.3.2 reads both to the millisecond (2.2.7: whole seconds).
  interval: secs("2"),
  timeout: secs("2"),
  weight: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 1, 2, "-2");
    if (!a) return;
    put(f, c, "weight", toInt(a[0]!), st, a[0]);
    if (a[1]) {
      if (a[1].text === "reverse") put(f, c, "weightReverse", true, st, a[1]);
      else
        c.sink.error(
          "CONFIG_INVALID_VALUE",
          a[1].pos,
          `unknown weight option \`${a[1].text}\`; write \`weight ${a[0]!.text} reverse\` or \`weight ${a[0]!.text}\``,
          "weight",
        );
    }
  },
  rise: int("1"),
  fall: int("2"),
  user: scriptUser,
  init_fail: flag,
});

export function readVrrpScript(st: Statement, root: Obj, c: Ctx): void {
  const name = blockName(st, c, "chk_haproxy");
  const body = needBlock(st, c);
  if (!name || !body) return;
  const list = root.vrrpScripts as Obj[];
  const path = ["vrrpScripts", list.length];
  const obj: Obj = { name: name.text };
  list.push(obj);
  c.sources.set(path, { pos: st.keyword.pos, keyword: "vrrp_script" });
  c.sources.set([...path, "name"], { pos: name.pos, keyword: "vrrp_script" });
  runBlock(body, VRRP_SCRIPT, frame(obj, path, `vrrp_script ${name.text}`), c);
  if (!("script" in obj)) {
    // keepalived warns, removes the script and every track_script naming it, and runs the file
    // (e.g. a `script` line behind an @ID that does not match this host).
    list.pop();
    c.removedScripts?.add(name.text);
    c.sink.warn(
      "CONFIG_MISSING_REQUIRED",
      st.keyword.pos,
      `vrrp_script ${name.text} has no \`script\`; it is removed with its track_script entries, as keepalived does (write \`script "/usr/bin/pgrep haproxy"\` inside it)`,
      "script",
    );
  }
}

// ───────────────────────────── tracking blocks ─────────────────────────────

/** `track_interface { IF [weight N [reverse]] … }` and `track_script { NAME [weight N [reverse|noreverse]] … }`. */
function trackList(field: "trackInterface" | "trackScript"): Handler {
  return (st, f, c) => {
    const body = needBlock(st, c);
    if (!body) return;
    if (st.args.length) args(st, c, 0, 0, "");
    const list = (f.obj[field] as Obj[] | undefined) ?? [];
    f.obj[field] = list;
    if (!f.seen.has(field)) {
      f.seen.set(field, st.keyword.pos);
      c.sources.set([...f.path, field], { pos: st.keyword.pos, keyword: st.keyword.text });
    }
    for (const line of body) {
      noBlock(line, c);
      const path = [...f.path, field, list.length];
      const item: Obj = { name: line.keyword.text };
      c.sources.set(path, { pos: line.keyword.pos, keyword: st.keyword.text });
      c.sources.set([...path, "name"], { pos: line.keyword.pos, keyword: st.keyword.text });
      const a = line.args;
      if (a.length) {
        if (a[0]!.text !== "weight" || !a[1]) {
          c.sink.error(
            "CONFIG_INVALID_VALUE",
            a[0]!.pos,
            `${st.keyword.text}: expected \`weight N\` after \`${line.keyword.text}\`; write \`${line.keyword.text} weight -10\``,
            st.keyword.text,
          );
          continue;
        }
        item.weight = toInt(a[1]);
        c.sources.set([...path, "weight"], { pos: a[0]!.pos, keyword: "weight", valuePos: a[1].pos });
        const opt = a[2];
        if (opt) {
          if (
            opt.text === "reverse" ||
            (field === "trackScript" && (opt.text === "noreverse" || opt.text === "no_reverse"))
          )
            item.reverse = opt.text === "reverse";
          else {
            c.sink.error(
              "CONFIG_INVALID_VALUE",
              opt.pos,
              `${st.keyword.text}: unknown weight option \`${opt.text}\`; write \`${line.keyword.text} weight ${a[1].text} reverse\``,
              st.keyword.text,
            );
          }
          if (a.length > 3) args(line, c, 0, 3, "");
        }
      }
      list.push(item);
    }
  };
}

// ───────────────────────────── vrrp_sync_group ─────────────────────────────

export const IGNORED_TRACKS = new Set(["track_file", "track_process", "track_bfd", "notify_deleted"]);

const SYNC_GROUP: Table = registerTable("vrrp_sync_group", {
  group: (st, f, c) => {
    const words = blockWords(st, c);
    if (!words) return;
    const list = (f.obj.group as string[] | undefined) ?? [];
    for (const w of words) {
      c.sources.set([...f.path, "group", list.length], { pos: w.pos, keyword: "group" });
      list.push(w.text);
    }
    put(f, c, "group", list, st);
  },
  track_interface: trackList("trackInterface"),
  track_script: trackList("trackScript"),
  notify_master: script(),
  notify_backup: script(),
  notify_fault: script(),
  notify_stop: script(),
  notify: script(),
  smtp_alert: bool,
  notify_priority_changes: bool,
  global_tracking: deprecated("track_interface/track_script on the sync group", flag),
  sync_group_tracking_weight: flag,
});

export function readSyncGroup(st: Statement, root: Obj, c: Ctx): void {
  const name = blockName(st, c, "VG_1");
  const body = needBlock(st, c);
  if (!name || !body) return;
  const list = root.vrrpSyncGroups as Obj[];
  const path = ["vrrpSyncGroups", list.length];
  const obj: Obj = { name: name.text };
  list.push(obj);
  c.sources.set(path, { pos: st.keyword.pos, keyword: "vrrp_sync_group" });
  c.sources.set([...path, "name"], { pos: name.pos, keyword: "vrrp_sync_group" });
  runBlock(body, SYNC_GROUP, frame(obj, path, `vrrp_sync_group ${name.text}`), c, IGNORED_TRACKS);
  if (!("group" in obj) || (obj.group as unknown[]).length === 0) {
    // keepalived 2.2.7: "Sync group VG_1 has no virtual router(s). removing" — and runs the file.
    list.pop();
    c.sink.warn(
      "CONFIG_MISSING_REQUIRED",
      st.keyword.pos,
      `vrrp_sync_group ${name.text} has no members, so it is removed (keepalived does the same); write \`group { VI_1 VI_2 }\` inside it`,
      "group",
    );
  }
}

// ───────────────────────────── vrrp_instance ─────────────────────────────

const SCOPES = new Set(["site", "link", "host", "nowhere", "global"]);

/** One `virtual_ipaddress` line → VirtualIpAddress (positions recorded under `path`). */
function vip(line: Statement, c: Ctx, path: (string | number)[], kw: string): Obj | undefined {
  const first = line.keyword;
  const [addr, mask, extra] = first.text.split("/");
  if (extra !== undefined) {
    c.sink.error(
      "CONFIG_INVALID_VALUE",
      first.pos,
      `${kw}: \`${first.text}\` is not IP[/MASK]; write \`10.0.0.100/24\``,
      kw,
    );
    return undefined;
  }
  const fam = isIP(addr ?? "");
  const v: Obj = {
    address: addr,
    prefix: mask === undefined ? (fam === 6 ? 128 : 32) : /^\d+$/.test(mask) ? Number(mask) : mask,
  };
  c.sources.set(path, { pos: first.pos, keyword: kw, hintKeyword: "" });
  c.sources.set([...path, "address"], { pos: first.pos, keyword: kw, hintKeyword: "" });
  c.sources.set([...path, "prefix"], { pos: first.pos, keyword: kw, hintKeyword: "" });
  const a = line.args;
  for (let i = 0; i < a.length; i++) {
    const w = a[i]!;
    const valued = ["brd", "dev", "scope", "label", "peer", "preferred_lft", "track_group"];
    const flags: Record<string, string> = {
      home: "home",
      "-nodad": "nodad",
      nodad: "nodad",
      noprefixroute: "noprefixroute",
      no_track: "noTrack",
    };
    if (valued.includes(w.text)) {
      const val = a[i + 1];
      if (!val) {
        c.sink.error(
          "CONFIG_MISSING_PARAMETER",
          w.pos,
          `${kw}: \`${w.text}\` needs a value; write \`${w.text} ${w.text === "dev" ? "eth0" : w.text === "scope" ? "global" : "…"}\``,
          kw,
        );
        return undefined;
      }
      i++;
      if (w.text === "track_group") {
        c.sink.warn(
          "CONFIG_IGNORED_KEYWORD",
          w.pos,
          `${kw}: \`track_group\` only applies to static addresses; ignored`,
          kw,
        );
        continue;
      }
      const field = w.text === "preferred_lft" ? "preferredLft" : w.text;
      v[field] = field === "preferredLft" ? (val.text === "forever" ? "forever" : toInt(val)) : val.text;
      if (field === "scope" && !SCOPES.has(val.text)) v[field] = val.text; // schema reports it
      c.sources.set([...path, field], { pos: w.pos, keyword: w.text, valuePos: val.pos });
    } else if (Object.hasOwn(flags, w.text)) {
      v[flags[w.text]!] = true;
    } else if (["use_vmac", "mngtmpaddr", "autojoin"].includes(w.text)) {
      c.sink.warn(
        "CONFIG_IGNORED_KEYWORD",
        w.pos,
        `${kw}: address option \`${w.text}\` is not supported by lvs; ignored`,
        kw,
      );
    } else {
      c.sink.warn(
        "CONFIG_UNKNOWN_KEYWORD",
        w.pos,
        `${kw}: unknown address option \`${w.text}\`; options are brd, dev, scope, label, peer, home, -nodad, noprefixroute, no_track, preferred_lft`,
        kw,
      );
    }
  }
  return v;
}

function vipList(field: "virtualIpaddress" | "virtualIpaddressExcluded"): Handler {
  return (st, f, c) => {
    const body = needBlock(st, c);
    if (!body) return;
    if (st.args.length) args(st, c, 0, 0, "");
    const list = (f.obj[field] as Obj[] | undefined) ?? [];
    f.obj[field] = list;
    c.sources.set([...f.path, field], { pos: st.keyword.pos, keyword: st.keyword.text });
    for (const line of body) {
      noBlock(line, c);
      const v = vip(line, c, [...f.path, field, list.length], st.keyword.text);
      if (v) list.push(v);
    }
  };
}

function wordLines(field: "virtualRoutes" | "virtualRules"): Handler {
  return (st, f, c) => {
    const body = needBlock(st, c);
    if (!body) return;
    const list = (f.obj[field] as string[][] | undefined) ?? [];
    f.obj[field] = list;
    c.sources.set([...f.path, field], { pos: st.keyword.pos, keyword: st.keyword.text });
    for (const line of body) list.push([line.keyword.text, ...line.args.map((w) => w.text)]);
    if (body.length) {
      c.sink.warn(
        "CONFIG_UNSUPPORTED",
        st.keyword.pos,
        `\`${st.keyword.text}\` is kept in the model but lvs does not install routes/rules yet; add them with your network configuration`,
        st.keyword.text,
      );
    }
  };
}

const AUTH: Table = registerTable("authentication", {
  auth_type: scalar("string", "authType", "PASS"),
  auth_pass: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 1, 1, "1111");
    if (!a) return;
    let pass = a[0]!.text;
    if (pass.length > 8) {
      c.sink.warn(
        "CONFIG_INVALID_VALUE",
        a[0]!.pos,
        `auth_pass is longer than 8 characters; only "${pass.slice(0, 8)}" is used (RFC 2338 §5.3.10)`,
        "auth_pass",
      );
      pass = pass.slice(0, 8);
    }
    put(f, c, "authPass", pass, st, a[0]);
  },
});

export const INSTANCE_IGNORED = new Set([
  "track_file",
  "track_process",
  "track_bfd",
  "use_vmac_addr",
  "use_ipvlan",
  "vrf",
  "old_unicast_checksum",
  "linkbeat_use_polling",
  "kernel_rx_buf_size",
  "garp_extra_if",
  "vmac_garp_intvl",
  "debug",
  "notify_deleted",
]);

const INSTANCE: Table = registerTable("vrrp_instance", {
  state: str("BACKUP"),
  interface: str("eth0"),
  virtual_router_id: int("51"),
  priority: int("100"),
  advert_int: secs("1"),
  version: int("3"),
  nopreempt: flag,
  preempt: (st, f, c) => {
    noBlock(st, c);
    // keepalived: "for backwards compatibility"; preempting is the default.
    if (f.obj.nopreempt === true) put(f, c, "nopreempt", false, st);
  },
  preempt_delay: secs("300"),
  accept: (st, f, c) => {
    noBlock(st, c);
    put(f, c, "accept", true, st);
  },
  no_accept: (st, f, c) => {
    noBlock(st, c);
    put(f, c, "accept", false, st);
  },
  authentication: (st, f, c) => {
    const body = needBlock(st, c);
    if (!body) return;
    const obj: Obj = {};
    put(f, c, "authentication", obj, st);
    runBlock(body, AUTH, frame(obj, [...f.path, "authentication"], `${f.label} authentication`), c);
  },
  virtual_ipaddress: vipList("virtualIpaddress"),
  virtual_ipaddress_excluded: vipList("virtualIpaddressExcluded"),
  virtual_routes: wordLines("virtualRoutes"),
  virtual_rules: wordLines("virtualRules"),
  unicast_src_ip: str("192.168.1.1"),
  unicast_peer: (st, f, c) => {
    const body = needBlock(st, c);
    if (!body) return;
    const list = (f.obj.unicastPeer as Obj[] | undefined) ?? [];
    f.obj.unicastPeer = list;
    c.sources.set([...f.path, "unicastPeer"], { pos: st.keyword.pos, keyword: "unicast_peer" });
    for (const line of body) {
      noBlock(line, c);
      const path = [...f.path, "unicastPeer", list.length];
      const peer: Obj = { address: line.keyword.text };
      c.sources.set(path, { pos: line.keyword.pos, keyword: "unicast_peer", hintKeyword: "" });
      c.sources.set([...path, "address"], {
        pos: line.keyword.pos,
        keyword: "unicast_peer",
        hintKeyword: "",
      });
      const a = line.args;
      for (let i = 0; i < a.length; i += 2) {
        const w = a[i]!;
        const val = a[i + 1];
        if ((w.text !== "min_ttl" && w.text !== "max_ttl") || !val) {
          c.sink.error(
            "CONFIG_INVALID_VALUE",
            w.pos,
            `unicast_peer: unexpected \`${w.text}\`; write \`${line.keyword.text} [min_ttl N] [max_ttl N]\``,
            "unicast_peer",
          );
          break;
        }
        const field = camel(w.text);
        peer[field] = toInt(val);
        c.sources.set([...path, field], { pos: w.pos, keyword: w.text, valuePos: val.pos });
      }
      list.push(peer);
    }
  },
  unicast_ttl: int("255"),
  mcast_src_ip: str("192.168.1.1"),
  mcast_dst_ip: str("224.0.0.18"),
  check_unicast_src: flag,
  track_interface: trackList("trackInterface"),
  track_script: trackList("trackScript"),
  dont_track_primary: flag,
  track_src_ip: flag,
  notify_master: script(),
  notify_backup: script(),
  notify_fault: script(),
  notify_stop: script(),
  notify: script(),
  notify_master_rx_lower_pri: script(),
  notify_priority_changes: bool,
  smtp_alert: bool,
  garp_master_delay: int("5"),
  garp_master_repeat: int("5"),
  garp_master_refresh: int("60"),
  garp_master_refresh_repeat: int("1"),
  garp_lower_prio_delay: int("5"),
  garp_lower_prio_repeat: int("5"),
  down_timer_adverts: int("3"),
  lower_prio_no_advert: bool,
  higher_prio_send_advert: bool,
  strict_mode: bool,
  skip_check_adv_addr: bool,
  promote_secondaries: flag,
  native_ipv6: flag,
  use_vmac: (st, f, c) => {
    noBlock(st, c);
    const a = args(st, c, 0, 2, "vrrp.51");
    if (!a) return;
    const v: Obj = {};
    for (const w of a) {
      if (/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){4,5}$/.test(w.text)) v.mac = w.text;
      else v.name = w.text;
    }
    put(f, c, "useVmac", v, st);
  },
  vmac_xmit_base: flag,
  unicast_fault_no_peer: flag,
  lvs_sync_daemon_interface: deprecated("lvs_sync_daemon IF inst NAME in global_defs", str("eth0")),
});

export function readVrrpInstance(st: Statement, root: Obj, c: Ctx): void {
  const name = blockName(st, c, "VI_1");
  const body = needBlock(st, c);
  if (!name || !body) return;
  const list = root.vrrpInstances as Obj[];
  const path = ["vrrpInstances", list.length];
  const obj: Obj = { name: name.text };
  list.push(obj);
  c.sources.set(path, { pos: st.keyword.pos, keyword: "vrrp_instance" });
  c.sources.set([...path, "name"], { pos: name.pos, keyword: "vrrp_instance" });
  runBlock(body, INSTANCE, frame(obj, path, `vrrp_instance ${name.text}`), c, INSTANCE_IGNORED);
}

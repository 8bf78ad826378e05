// What lvs does with each keepalived.conf keyword: the one table behind the load-time
// accounting ("N keywords applied, M ignored") and `--strict`. Every keyword the parser reads
// and every keyword of keepalived 2.2.7's keepalived.conf(5) has a row, in the block it belongs
// to; a test holds the parser's tables and the man page's list against it.
//
// `applied`: lvs does what keepalived does with it. `ignored`: read, warned at load with its
// file:line:column and `instead` (what lvs does in its place), and otherwise without effect.
// `refused`: the file does not load (the reason says what to write instead).

export type KeywordStatus = "applied" | "ignored" | "refused";

export interface KeywordDisposition {
  status: KeywordStatus;
  /** For `ignored` / `refused`: what lvs does instead, or what to write. */
  instead?: string;
}

/** The keyword tables' block names (as in registerTable), plus the top level `(top)`. */
export type KeywordBlock =
  | "(top)"
  | "global_defs"
  | "vrrp_script"
  | "vrrp_sync_group"
  | "vrrp_instance"
  | "authentication"
  | "virtual_server_group"
  | "virtual_server"
  | "real_server"
  | "checker"
  | "url";

const A: KeywordDisposition = { status: "applied" };
const I = (instead: string): KeywordDisposition => ({ status: "ignored", instead });

const TUNING = I("process tuning of keepalived's own daemons; lvs runs with the service manager's settings");
const SNMP = I("lvs has no SNMP agent; use the Prometheus metrics of the runtime API");
const DBUS = I("lvs has no D-Bus interface; use the runtime API");
const NETLINK_BUFS = I("lvs sizes its netlink buffers itself");
const FIREWALL = I("lvs installs no firewall rules; no_accept is enforced in the VRRP router");
const BFD = I("BFD is not implemented; track interfaces or scripts instead");
const PROCESS = I("process tracking is not implemented; use a vrrp_script (`pgrep NAME`)");
const FILE_TRACK = I("file tracking is not implemented; use a vrrp_script that reads the file");
const STATIC = I("lvs does not install static addresses/routes/rules; use the host's network configuration");
const RELOAD = I("lvs reloads on SIGHUP and checks the new file before using it; no extra files");
const NAMESPACE = I("run lvs inside the namespace (`ip netns exec NS lvsctl up …` or `--netns`)");
const VMAC = I("VMAC/ipvlan interfaces are not implemented; the VIPs go on the instance's interface");

/** block → keyword → disposition. */
export const KEYWORDS: Record<KeywordBlock, Record<string, KeywordDisposition>> = {
  "(top)": {
    global_defs: A,
    vrrp_script: A,
    vrrp_sync_group: A,
    vrrp_instance: A,
    virtual_server_group: A,
    virtual_server: A,
    include: A,
    includea: A,
    includeb: A,
    includem: A,
    includer: A,
    includew: A,
    static_ipaddress: STATIC,
    static_routes: STATIC,
    static_rules: STATIC,
    track_group: I("track groups apply to static addresses, which lvs does not install"),
    garp_group: I("garp groups are not implemented; the global vrrp_garp_* settings apply"),
    linkbeat_interfaces: I("lvs watches links through netlink, never by polling"),
    linkbeat_use_polling: I("lvs watches links through netlink, never by polling"),
    vrrp_track_process: PROCESS,
    track_process: PROCESS,
    track_file: FILE_TRACK,
    vrrp_track_file: FILE_TRACK,
    interface_up_down_delays: I("interface changes act at once"),
    bfd_instance: BFD,
    SSL: I("SSL_GET presents no client certificate; it verifies the server with the system CAs or `ca`"),
    net_namespace: NAMESPACE,
    net_namespace_ipvs: NAMESPACE,
    namespace_with_ipsets: NAMESPACE,
    use_pid_dir: I("lvs writes no pid files; the service manager tracks the process"),
    instance: I("lvs keeps no per-instance pid files; @ID lines use `--config-id`"),
    child_wait_time: I("lvs's children are stopped by process group at exit"),
  },
  global_defs: {
    router_id: A,
    notification_email: A,
    notification_email_from: A,
    smtp_server: A,
    smtp_helo_name: A,
    smtp_connect_timeout: A,
    smtp_alert: A,
    smtp_alert_vrrp: A,
    smtp_alert_checker: A,
    no_email_faults: A,
    checker_log_all_failures: A,
    enable_script_security: A,
    script_user: A,
    startup_script: A,
    startup_script_timeout: A,
    shutdown_script: A,
    shutdown_script_timeout: A,
    default_interface: A,
    dynamic_interfaces: I("interfaces must exist when lvs starts; one that appears later is tracked by name"),
    vrrp_mcast_group4: I("lvs sends to the standard group 224.0.0.18"),
    vrrp_mcast_group6: I("lvs sends to the standard group ff02::12"),
    vrrp_garp_master_delay: A,
    vrrp_garp_master_repeat: A,
    vrrp_garp_master_refresh: A,
    vrrp_garp_master_refresh_repeat: A,
    vrrp_garp_lower_prio_delay: A,
    vrrp_garp_lower_prio_repeat: A,
    vrrp_garp_interval: A,
    vrrp_gna_interval: A,
    vrrp_min_garp: A,
    vrrp_lower_prio_no_advert: A,
    vrrp_higher_prio_send_advert: A,
    vrrp_version: A,
    vrrp_strict: I("strict-mode checks are not enforced; adverts are checked as RFC 5798 says"),
    vrrp_check_unicast_src: A,
    vrrp_skip_check_adv_addr: A,
    vrrp_startup_delay: A,
    vrrp_notify_priority_changes: A,
    vrrp_down_timer_adverts: A,
    notify_fifo: A,
    notify_fifo_script: I("no FIFO reader is started; read the FIFO with your own service"),
    vrrp_notify_fifo: A,
    vrrp_notify_fifo_script: I("no FIFO reader is started; read the FIFO with your own service"),
    lvs_notify_fifo: A,
    lvs_notify_fifo_script: I("no FIFO reader is started; use the runtime API's event stream"),
    fifo_write_vrrp_states_on_reload: A,
    lvs_sync_daemon: A,
    lvs_timeouts: A,
    lvs_flush: A,
    lvs_flush_on_stop: A,
    lvs_flush_onstop: A,
    rs_init_notifies: A,
    no_checker_emails: A,
    tmp_config_directory: RELOAD,
    config_save_dir: RELOAD,
    reload_check_config: RELOAD,
    reload_time_file: RELOAD,
    reload_repeat: RELOAD,
    reload_file: RELOAD,
    include_check: I("included files are read as they are; no check options"),
    process_names: TUNING,
    process_name: TUNING,
    vrrp_process_name: TUNING,
    checker_process_name: TUNING,
    bfd_process_name: TUNING,
    lvs_process_name: TUNING,
    max_auto_priority: TUNING,
    min_auto_priority_delay: TUNING,
    vrrp_priority: A,
    vrrp_no_swap: TUNING,
    vrrp_rt_priority: A,
    vrrp_cpu_affinity: TUNING,
    vrrp_rlimit_rttime: TUNING,
    vrrp_rlimit_rtime: TUNING,
    checker_priority: TUNING,
    checker_no_swap: TUNING,
    checker_rt_priority: TUNING,
    checker_cpu_affinity: TUNING,
    checker_rlimit_rttime: TUNING,
    checker_rlimit_rtime: TUNING,
    bfd_priority: TUNING,
    bfd_no_swap: TUNING,
    bfd_rt_priority: TUNING,
    bfd_cpu_affinity: TUNING,
    bfd_rlimit_rttime: TUNING,
    bfd_rlimit_rtime: TUNING,
    umask: TUNING,
    random_seed: I("_RANDOM uses lvs's own fixed seed so loads are repeatable"),
    disable_local_igmp: I(
      "lvs joins the VRRP group on the instance's interface only; no IGMP setting is changed",
    ),
    vrrp_garp_extra_if: I("gratuitous ARPs go on the instance's interface only"),
    vrrp_vmac_garp_intvl: VMAC,
    vrrp_iptables: FIREWALL,
    vrrp_ipsets: FIREWALL,
    nftables: FIREWALL,
    nftables_priority: FIREWALL,
    nftables_ifindex: FIREWALL,
    nftables_counters: FIREWALL,
    nftables_ipvs: FIREWALL,
    nftables_ipvs_priority: FIREWALL,
    nftables_ipvs_start_fwmark: FIREWALL,
    snmp_socket: SNMP,
    enable_traps: SNMP,
    enable_snmp_vrrp: SNMP,
    // keepalived 2.3 (not in 2.2.7's man page; parsed so a 2.3 file loads unchanged)
    snmp_vs_stats_update_interval: SNMP,
    snmp_rs_stats_update_interval: SNMP,
    use_symlink_paths: I(
      "scripts always run by the path as written, a symlink followed at each run (what use_symlink_paths asks for); without it keepalived runs the path resolved at load",
    ),
    enable_snmp_keepalived: SNMP,
    enable_snmp_rfc: SNMP,
    enable_snmp_rfcv2: SNMP,
    enable_snmp_rfcv3: SNMP,
    enable_snmp_checker: SNMP,
    enable_dbus: DBUS,
    dbus_service_name: DBUS,
    vrrp_netlink_cmd_rcv_bufs: NETLINK_BUFS,
    vrrp_netlink_cmd_rcv_bufs_force: NETLINK_BUFS,
    vrrp_netlink_monitor_rcv_bufs: NETLINK_BUFS,
    vrrp_netlink_monitor_rcv_bufs_force: NETLINK_BUFS,
    process_monitor_rcv_bufs: NETLINK_BUFS,
    process_monitor_rcv_bufs_force: NETLINK_BUFS,
    lvs_netlink_cmd_rcv_bufs: NETLINK_BUFS,
    lvs_netlink_cmd_rcv_bufs_force: NETLINK_BUFS,
    lvs_netlink_monitor_rcv_bufs: NETLINK_BUFS,
    lvs_netlink_monitor_rcv_bufs_force: NETLINK_BUFS,
    vrrp_rx_bufs_policy: NETLINK_BUFS,
    vrrp_rx_bufs_multiplier: NETLINK_BUFS,
    log_unknown_vrids: I("adverts for VRIDs lvs does not run are counted in the metrics, not logged"),
    vmac_prefix: VMAC,
    vmac_addr_prefix: VMAC,
    data_use_instance: I("lvs keeps no per-instance data files"),
    linkbeat_use_polling: I("lvs watches links through netlink, never by polling"),
    net_namespace: NAMESPACE,
    net_namespace_ipvs: NAMESPACE,
    namespace_with_ipsets: NAMESPACE,
    use_pid_dir: I("lvs writes no pid files; the service manager tracks the process"),
    instance: I("lvs keeps no per-instance pid files; @ID lines use `--config-id`"),
    child_wait_time: I("lvs's children are stopped by process group at exit"),
  },
  vrrp_script: {
    script: A,
    interval: A,
    timeout: A,
    weight: A,
    rise: A,
    fall: A,
    user: A,
    init_fail: A,
  },
  vrrp_sync_group: {
    group: A,
    track_interface: A,
    track_script: A,
    notify_master: A,
    notify_backup: A,
    notify_fault: A,
    notify_stop: A,
    notify: A,
    smtp_alert: A,
    notify_priority_changes: I(
      "the sync group's priority is not reported; instances' notify_priority_changes apply",
    ),
    global_tracking: I("deprecated in keepalived; the group's own track_interface/track_script apply"),
    sync_group_tracking_weight: I(
      "tracking on a sync group's members with a weight still puts the group in FAULT",
    ),
    track_file: FILE_TRACK,
    track_process: PROCESS,
    track_bfd: BFD,
    notify_deleted: I("instances removed by a reload run notify_stop"),
  },
  vrrp_instance: {
    state: A,
    interface: A,
    virtual_router_id: A,
    priority: A,
    advert_int: A,
    version: A,
    nopreempt: A,
    preempt: A,
    preempt_delay: A,
    accept: A,
    no_accept: A,
    authentication: A,
    virtual_ipaddress: A,
    virtual_ipaddress_excluded: A,
    virtual_routes: I("routes are not installed; add them with the host's network configuration"),
    virtual_rules: I("rules are not installed; add them with the host's network configuration"),
    unicast_src_ip: A,
    unicast_peer: A,
    unicast_ttl: A,
    mcast_src_ip: A,
    mcast_dst_ip: I("adverts go to the standard group"),
    check_unicast_src: A,
    track_interface: A,
    track_script: A,
    dont_track_primary: A,
    track_src_ip: A,
    notify_master: A,
    notify_backup: A,
    notify_fault: A,
    notify_stop: A,
    notify: A,
    notify_master_rx_lower_pri: A,
    notify_priority_changes: A,
    smtp_alert: A,
    garp_master_delay: A,
    garp_master_repeat: A,
    garp_master_refresh: A,
    garp_master_refresh_repeat: A,
    garp_lower_prio_delay: A,
    garp_lower_prio_repeat: A,
    down_timer_adverts: A,
    lower_prio_no_advert: A,
    higher_prio_send_advert: A,
    strict_mode: I("strict-mode checks are not enforced; adverts are checked as RFC 5798 says"),
    skip_check_adv_addr: A,
    promote_secondaries: A,
    native_ipv6: I("IPv6 instances already use VRRPv3 and native addresses"),
    use_vmac: VMAC,
    vmac_xmit_base: VMAC,
    use_vmac_addr: VMAC,
    use_ipvlan: VMAC,
    unicast_fault_no_peer: A,
    lvs_sync_daemon_interface: I("deprecated; write `lvs_sync_daemon IF inst NAME` in global_defs"),
    track_file: FILE_TRACK,
    track_process: PROCESS,
    track_bfd: BFD,
    vrf: I("VRFs are not supported; run lvs in a namespace per VRF"),
    old_unicast_checksum: I("the RFC checksum is used"),
    linkbeat_use_polling: I("lvs watches links through netlink, never by polling"),
    kernel_rx_buf_size: NETLINK_BUFS,
    garp_extra_if: I("gratuitous ARPs go on the instance's interface only"),
    vmac_garp_intvl: VMAC,
    debug: I("use `lvsctl up --log-detail`"),
    notify_deleted: I("instances removed by a reload run notify_stop"),
  },
  authentication: {
    auth_type: A,
    auth_pass: A,
  },
  virtual_server_group: {
    fwmark: A,
  },
  virtual_server: {
    ip_family: A,
    retry: A,
    delay_before_retry: A,
    warmup: A,
    connect_timeout: A,
    delay_loop: A,
    inhibit_on_failure: A,
    lb_algo: A,
    lvs_sched: A,
    ops: A,
    "flag-1": A,
    "flag-2": A,
    "flag-3": A,
    "sh-port": A,
    "sh-fallback": A,
    "mh-port": A,
    "mh-fallback": A,
    lb_kind: A,
    lvs_method: A,
    persistence_engine: A,
    persistence_timeout: A,
    persistence_granularity: A,
    protocol: A,
    ha_suspend: A,
    smtp_alert: A,
    virtualhost: A,
    alpha: A,
    omega: A,
    quorum_up: A,
    quorum_down: A,
    quorum: A,
    hysteresis: A,
    weight: A,
    sorry_server: A,
    sorry_server_inhibit: A,
    sorry_server_lvs_method: A,
    real_server: A,
    snmp_name: SNMP,
    hashed: I("kernel-only flag; not set"),
  },
  real_server: {
    weight: A,
    lvs_method: A,
    uthreshold: A,
    lthreshold: A,
    inhibit_on_failure: A,
    notify_up: A,
    notify_down: A,
    alpha: A,
    retry: A,
    delay_before_retry: A,
    warmup: A,
    connect_timeout: A,
    delay_loop: A,
    smtp_alert: A,
    virtualhost: A,
    TCP_CHECK: A,
    HTTP_GET: A,
    SSL_GET: A,
    MISC_CHECK: A,
    UDP_CHECK: A,
    PING_CHECK: A,
    DNS_CHECK: A,
    SMTP_CHECK: A,
    BFD_CHECK: BFD,
    FILE_CHECK: FILE_TRACK,
    track_file: FILE_TRACK,
    snmp_name: SNMP,
  },
  checker: {
    connect_ip: A,
    connect_port: A,
    bindto: A,
    bind_port: A,
    connect_timeout: A,
    bind_if: A,
    fwmark: I("check packets carry no mark"),
    retry: A,
    delay_before_retry: A,
    warmup: A,
    delay_loop: A,
    alpha: A,
    log_all_failures: A,
    nb_get_retry: A,
    virtualhost: A,
    http_protocol: A,
    enable_sni: A,
    // keepalived.conf(5): fast_recovery removes the delay_loop between urls at start and after a
    // failure. lvs checks every url of a probe in one pass, always: what fast_recovery asks for.
    fast_recovery: A,
    url: A,
    misc_path: A,
    misc_timeout: A,
    misc_dynamic: A,
    user: A,
    payload: A,
    require_reply: A,
    min_reply_length: A,
    max_reply_length: A,
    type: A,
    name: A,
    helo_name: A,
    host: I("SMTP_CHECK `host` sub-blocks are not read; write one SMTP_CHECK per address"),
  },
  url: {
    path: A,
    digest: A,
    status_code: A,
    virtualhost: A,
    regex: A,
    regex_no_match: A,
    regex_options: I("the regex is a JavaScript regular expression without options"),
    regex_min_offset: I("the whole body is searched"),
    regex_max_offset: I("the whole body is searched"),
    regex_stack: I("not needed by JavaScript regular expressions"),
  },
};

/**
 * Keywords that only occur inside a block lvs ignores as a whole (bfd_instance, vrrp_track_process,
 * track_file, SSL, garp_group, static_*, lvs_sync_daemon's words, ~SEQ/~LST syntax…): accounted for
 * by the block around them.
 */
export const KEYWORDS_INSIDE_IGNORED_BLOCKS: ReadonlySet<string> = new Set([
  // bfd_instance
  "neighbor_ip",
  "source_ip",
  "min_rx",
  "min_tx",
  "idle_tx",
  "multiplier",
  "passive",
  "ttl",
  "hoplimit",
  "max_hops",
  // vrrp_track_process
  "process",
  "param_match",
  "quorum_max",
  "fork_delay",
  "terminate_delay",
  "delay",
  "full_command",
  // track_file
  "file",
  "init_file",
  // SSL
  "password",
  "ca",
  "certificate",
  "key",
  // garp_group
  "garp_interval",
  "gna_interval",
  "interfaces",
  // linkbeat_interfaces / static_ipaddress
  "dynamic",
]);

/** How one keyword in one block fares (undefined: lvs does not know it). */
export function keywordDisposition(block: string, keyword: string): KeywordDisposition | undefined {
  const t = (KEYWORDS as Record<string, Record<string, KeywordDisposition>>)[block];
  return t && Object.hasOwn(t, keyword) ? t[keyword] : undefined;
}

/** Counts of one load: keyword occurrences applied, and ignored (ignored + unknown). */
export interface KeywordSummary {
  applied: number;
  ignored: number;
}

/** Warning codes that mean "something in the file has no effect" (what `--strict` refuses). */
export const IGNORED_CODES: ReadonlySet<string> = new Set([
  "CONFIG_IGNORED_KEYWORD",
  "CONFIG_UNKNOWN_KEYWORD",
  "CONFIG_UNSUPPORTED",
]);

/**
 * How many things a load would ignore: keyword statements (summary) and other ignored words or
 * values (an address option, a PING_CHECK port) among the warnings. `--strict` refuses when > 0.
 */
export function ignoredCount(r: {
  warnings: ReadonlyArray<{ code: string; keyword?: string | undefined }>;
  keywordSummary?: KeywordSummary | undefined;
}): number {
  const words = r.warnings.filter((w) => IGNORED_CODES.has(w.code)).length;
  return Math.max(r.keywordSummary?.ignored ?? 0, words);
}

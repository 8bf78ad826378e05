/**
 * `ipvsadm -h`: the usage lines and one line per option (our wording; ipvsadm(8) has the full
 * semantics), generated from the popt table so every option is listed.
 */
import { VERSION_TEXT } from "./exit.js";
import { POPT_TABLE } from "./options.js";

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
  for (const d of POPT_TABLE) {
    if (seen.has(d.tag)) continue;
    seen.add(d.tag);
    const names = POPT_TABLE.filter((x) => x.tag === d.tag);
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

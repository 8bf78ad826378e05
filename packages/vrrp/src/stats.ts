/**
 * Per-instance counters, named as keepalived names them (vrrp.h `vrrp_stats`) and as the widely
 * used keepalived exporter exports them, so dashboards carry over. `checksum_err`, `version_err`,
 * `vrid_err` are keepalived's SNMP counters (chk_err, vers_err, vrid_err); `unknown_peer` is ours.
 */
export interface VrrpStats {
  advert_rcvd: number;
  advert_sent: number;
  become_master: number;
  release_master: number;
  packet_len_err: number;
  advert_interval_err: number;
  ip_ttl_err: number;
  invalid_type_rcvd: number;
  addr_list_err: number;
  invalid_authtype: number;
  authtype_mismatch: number;
  auth_failure: number;
  pri_zero_rcvd: number;
  pri_zero_sent: number;
  checksum_err: number;
  version_err: number;
  /** Unicast advert from an address that is not a configured peer (with check_unicast_src). */
  unknown_peer: number;
}

export type VrrpCounter = keyof VrrpStats;

export function emptyStats(): VrrpStats {
  return {
    advert_rcvd: 0,
    advert_sent: 0,
    become_master: 0,
    release_master: 0,
    packet_len_err: 0,
    advert_interval_err: 0,
    ip_ttl_err: 0,
    invalid_type_rcvd: 0,
    addr_list_err: 0,
    invalid_authtype: 0,
    authtype_mismatch: 0,
    auth_failure: 0,
    pri_zero_rcvd: 0,
    pri_zero_sent: 0,
    checksum_err: 0,
    version_err: 0,
    unknown_peer: 0,
  };
}

/** Counters of one receive socket (interface + family) that belong to no instance. */
export interface InterfaceStats {
  /** Packets received. */
  received: number;
  /** Shorter than a VRRP header or an unparsable IP header. */
  malformed: number;
  /** A VRID no instance on this interface uses (keepalived's vrid_err). */
  vrid_err: number;
  /** For an instance in FAULT or INIT, which ignores adverts (as keepalived). */
  ignored: number;
}

export function emptyInterfaceStats(): InterfaceStats {
  return { received: 0, malformed: 0, vrid_err: 0, ignored: 0 };
}

// ha_suspend: keepalived runs a virtual server's checkers only while one of its addresses is on
// a local interface (check/check_api.c update_checker_activity, fed by netlink address events).
// Here the addresses of this network namespace are polled (os.networkInterfaces: getifaddrs),
// which needs no privilege and sees what `ip addr` sees.
import { networkInterfaces } from "node:os";
import { canonicalAddress } from "@lvs/ipvs";

export type LocalAddresses = () => Set<string>;

/** The addresses on this namespace's interfaces, canonical. */
export const systemLocalAddresses: LocalAddresses = () => {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(canonicalAddress(a.address.replace(/%.*$/, "")));
  }
  return out;
};

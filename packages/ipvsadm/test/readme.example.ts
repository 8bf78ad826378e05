// The README's example (kept here so a test runs it).
import type { DestinationEntry, ServiceEntry } from "@lvs/ipvs";
import { Fmt, formatListAll, isExit, parsedToOperation, parseIpvsadm } from "@lvs/ipvsadm";

export function example() {
  // An ipvsadm command line → the @lvs/ipvs operation it stands for (IpvsClient.batch() runs it).
  const parsed = parseIpvsadm("-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3".split(" "));
  if (isExit(parsed)) throw new Error(parsed.stderr);
  const operation = parsedToOperation(parsed);

  // A wrong one → ipvsadm's own message and exit status; nothing reaches the kernel.
  const refused = parseIpvsadm("-A -t 10.0.0.1:80 -s rr -s wlc".split(" "));

  // A table, as IpvsClient.table() returns it → `ipvsadm -Sn`, byte for byte.
  const service: ServiceEntry = {
    ...{ af: 2, protocol: 6, address: "10.0.0.1", port: 80, fwmark: 0, scheduler: "wlc" },
    ...{ flags: 0, timeout: 0, netmask: 32, peName: undefined, stats: undefined, stats64: undefined },
  };
  const dest: DestinationEntry = {
    ...{ af: 2, address: "10.0.0.2", port: 8080, forward: 0, weight: 3, upperThreshold: 0 },
    ...{ lowerThreshold: 0, activeConns: 0, inactiveConns: 0, persistConns: 0, tunnelType: 0 },
    ...{ tunnelPort: 0, tunnelFlags: 0, stats: undefined, stats64: undefined },
  };
  const info = { version: 0x010201, connTabSize: 4096 };
  const saved = formatListAll(info, [{ service, dests: [dest] }], Fmt.RULE | Fmt.NUMERIC);
  return { operation, refused, saved };
}

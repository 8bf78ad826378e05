import {
  canonicalAddress,
  FakeClock,
  FORWARD_METHOD_NAMES,
  FORWARD_METHODS,
  formatEndpoint,
  maskAddress,
  parseAddress,
  parseEndpoint,
  parseNetmask,
  prefixContains,
  TCP_STATES,
} from "@lvs/inet";

export function example(): string[] {
  const out: string[] = [];
  // RFC 5952 text: one spelling per address
  out.push(canonicalAddress("2001:DB8:0:0:1:0:0:1")); // 2001:db8::1:0:0:1

  // host:port, with brackets for IPv6
  const vip = parseEndpoint("[2001:db8::10]:443");
  out.push(`${vip.address.af} ${formatEndpoint(vip.address, vip.port)}`); // 10 [2001:db8::10]:443

  // ipvsadm -M 255.255.255.0: a persistence netmask, and the client's network
  const prefix = parseNetmask("255.255.255.0", 2);
  const client = parseAddress("192.0.2.77");
  const network = maskAddress(client, prefix);
  out.push(`${network.text}/${prefix} ${prefixContains(network, prefix, parseAddress("192.0.3.1"))}`);

  // the kernel's names: state 1 of a TCP connection, the /proc word for -m
  out.push(`${TCP_STATES[1]} ${FORWARD_METHOD_NAMES[FORWARD_METHODS.masq]}`); // ESTABLISHED Masq

  // time only moves when a test says so
  const clock = new FakeClock();
  clock.setTimeout(() => out.push(`fired at ${clock.now()} ms`), 3000);
  clock.advance(5000);
  return out;
}

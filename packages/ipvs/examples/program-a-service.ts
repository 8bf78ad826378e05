// README example: program a NAT service with two real servers, then read it back.
import { Forward, IpvsClient } from "@lvs/ipvs";

export async function programWebService(netns?: string): Promise<string[]> {
  const ipvs = await IpvsClient.open({ netns, timeoutMs: 5_000 }); // resolves "IPVS" via nlctrl
  const web = { protocol: 6, address: "10.0.0.1", port: 80 }; // TCP 10.0.0.1:80
  await ipvs.addService({ ...web, scheduler: "wlc" });
  await ipvs.addDest(web, { address: "10.0.0.2", port: 8080, forward: Forward.MASQ, weight: 2 });
  await ipvs.addDest(web, { address: "10.0.0.3", port: 8080, forward: Forward.MASQ });
  const dests = await ipvs.dests(web);
  ipvs.close();
  return dests.map((d) => `${d.address}:${d.port} weight ${d.weight}`);
}

import { connect, createServer, type Server } from "node:net";
import { createProxy } from "@lvs/proxy";

/** A virtual service on loopback, three real servers weighted 3:2:1, six clients; no root needed. */
export async function example(port: number): Promise<{ banners: string[]; conns: bigint[] }> {
  const servers: Server[] = [];
  for (const name of ["rs1", "rs2", "rs3"]) {
    const s = createServer((c) => c.end(`${name}\n`)); // a real server that names itself
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    servers.push(s);
  }
  const proxy = createProxy();
  const vip = { protocol: "tcp" as const, address: "127.0.0.1", port, scheduler: "wrr" };
  await proxy.addService(vip); // ipvsadm -A -t 127.0.0.1:PORT -s wrr
  for (const [i, s] of servers.entries()) {
    const rs = { address: "127.0.0.1", port: (s.address() as { port: number }).port, weight: 3 - i };
    await proxy.addDest(vip, rs); // ipvsadm -a -t 127.0.0.1:PORT -r 127.0.0.1:RS -w 3|2|1
  }
  const banners: string[] = [];
  for (let i = 0; i < 6; i++) {
    const c = connect({ host: "127.0.0.1", port });
    banners.push(await new Promise<string>((r) => c.once("data", (d) => r(String(d).trim()))));
    c.destroy();
  }
  // ipvsadm -Ln --stats: connections per real server (in the kernel's list order, newest first).
  const conns = proxy.getService(vip)!.dests.map((d) => d.stats64.conns);
  await proxy.close();
  for (const s of servers) s.close();
  return { banners, conns };
}

import { writeFileSync } from "node:fs";
import { Director, DirectorClient, formatStatus } from "@lvs/director";
import { MemoryIpvs } from "@lvs/ipvs";

export async function example(
  dir: string,
  ports: [number, number],
): Promise<{ table: string; status: string; drained: string[] }> {
  writeFileSync(
    `${dir}/keepalived.conf`,
    `virtual_server 10.0.0.1 80 {
  protocol TCP
  delay_loop 1
  lb_algo wlc
  lb_kind NAT
  real_server 127.0.0.1 ${ports[0]} {
    weight 2
    HTTP_GET {
      url {
        path /health
      }
      connect_timeout 1
    }
  }
  real_server 127.0.0.2 ${ports[1]} {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`,
  );

  // `client` omitted = the kernel's IPVS (root, ip_vs loaded); @lvs/ipvs's MemoryIpvs runs anywhere.
  const kernel = new MemoryIpvs();
  const director = new Director({
    configPath: `${dir}/keepalived.conf`, // state file: keepalived.conf.state.json next to it
    socketPath: `${dir}/director.sock`, // the runtime API (default /run/lvs/director.sock)
    client: kernel,
    mode: "check", // the LVS side only, like keepalived --check
  });
  await director.start(); // the table is in place when this resolves

  // What `lvsctl status` / `lvsctl drain` do, over the socket.
  const api = new DirectorClient({ socketPath: `${dir}/director.sock` });
  await api.drain("10.0.0.1:80", `127.0.0.2:${ports[1]}`, 30);
  const status = formatStatus(await api.status());
  const drained = (await api.status()).drains.map((d) => `${d.realServer} ${d.phase}`);

  await director.stop(); // leaves the table in place (lvs_flush_on_stop flushes it)
  return { table: kernel.lines().join("\n"), status, drained };
}

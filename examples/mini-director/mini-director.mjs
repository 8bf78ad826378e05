// A director in 40 lines: TCP-check each real server, keep the kernel's IPVS service in step.
//   node mini-director.mjs VIP:PORT RIP:PORT [RIP:PORT ...]      (root; the ip_vs module loaded)
import { HealthCheckRunner } from "@lvs/healthcheck";
import { Forward, IpvsClient } from "@lvs/ipvs";

const split = (s) => [s.slice(0, s.lastIndexOf(":")), Number(s.slice(s.lastIndexOf(":") + 1))];
const [vipArg, ...realServers] = process.argv.slice(2);
const [vip, vport] = split(vipArg);
const service = { protocol: 6, address: vip, port: vport }; // TCP VIP:PORT

const ipvs = await IpvsClient.open();
try {
  await ipvs.addService({ ...service, scheduler: "wlc" });
} catch (err) {
  if (err.code !== "IPVS_EEXIST_SERVICE") throw err; // already there: adopt it
}

const runner = new HealthCheckRunner({
  async onEvent({ id, kind, reason }) {
    const [address, port] = split(id);
    try {
      if (kind === "up") await ipvs.addDest(service, { address, port, forward: Forward.MASQ, weight: 1 });
      else await ipvs.delDest(service, { address, port });
      console.log(`${kind.toUpperCase()} ${id}: ${reason}`);
    } catch (err) {
      console.error(`${id}: ${err.message}`); // e.g. IPVS_EEXIST_DEST after a restart
    }
  },
});
runner.configure(
  realServers.map((id) => {
    const [address, port] = split(id);
    const check = { type: "tcp", connectIp: address, connectPort: port, connectTimeout: 1 };
    return { id, check, policy: { delayLoop: 1, retry: 0, alpha: true } }; // alpha: start down
  }),
);
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    runner.stop();
    ipvs.close();
    process.exit(0);
  });
}

// @lvs/vrrp alone: keep a VIP on whichever of two machines is alive, for a service that is not
// LVS (the seeds' haproxy + keepalived pairing). Run one on each machine, the same VRID.
//   node vrrp-vip.mjs --interface eth0 --vip 10.0.0.100/24 --priority 150 [--vrid 51] [--advert 1]
import { parseArgs } from "node:util";
import { VrrpRouter } from "@lvs/vrrp";

const { values: o } = parseArgs({
  options: {
    interface: { type: "string", default: "eth0" },
    vip: { type: "string" },
    priority: { type: "string", default: "100" },
    vrid: { type: "string", default: "51" },
    advert: { type: "string", default: "1" },
  },
});
if (!o.vip) throw new Error("--vip ADDRESS/PREFIX is required");

const router = new VrrpRouter({
  version: 3, // VRRPv3: sub-second adverts
  instances: [
    {
      name: "VI_WEB",
      interface: o.interface,
      vrid: Number(o.vrid),
      priority: Number(o.priority),
      advertInterval: Number(o.advert),
      virtualAddresses: [o.vip],
    },
  ],
});
router.on("state", (s) => console.log(`(${s.name}) Entering ${s.to.toUpperCase()} STATE`));
router.on("warning", (w) => console.error(`warning: ${w.message ?? w}`));
await router.start();
for (const signal of ["SIGTERM", "SIGINT"]) {
  // Clean stop: a priority-0 advert hands the VIP over at once; the VIP is removed here.
  process.on(signal, () => router.stop().then(() => process.exit(0)));
}

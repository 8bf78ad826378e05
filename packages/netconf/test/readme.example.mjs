import {
  addAddress,
  formatReport,
  readSysctl,
  realServerDown,
  realServerUp,
  removeAddress,
  sendGratuitousArp,
  watchNetlink,
} from "@lvs/netconf";

const netns = process.env.NETNS; // e.g. "rs1" (`ip netns add rs1`); unset: this host
const stateFile = process.env.STATE_FILE; // default /var/lib/lvs/netconf/realserver[-rs1].json

// A DR real server: the VIP on lo as /32, never answering ARP for it. Dry run first.
const rs = { mode: "dr", vips: ["192.0.2.10"] };
process.stdout.write(formatReport(await realServerUp(rs, { netns, stateFile, dryRun: true })));
await realServerUp(rs, { netns, stateFile });
console.log("arp_ignore:", await readSysctl("net.ipv4.conf.all.arp_ignore", { netns }));

// A VIP taken over on eth0: watch it appear, then announce it to the segment.
const watcher = await watchNetlink({ netns });
const seen = new Promise((resolve) =>
  watcher.on("address", (e) => {
    if (e.address.address === "198.51.100.7")
      resolve(`${e.type} ${e.address.address}/${e.address.prefixLength} on ${e.address.dev}`);
  }),
);
await addAddress({ dev: "eth0", address: "198.51.100.7" }, { netns });
console.log(await seen);
console.log(await sendGratuitousArp("198.51.100.7", { dev: "eth0", netns, count: 3, intervalMs: 100 }));
watcher.close();
await removeAddress({ dev: "eth0", address: "198.51.100.7" }, { netns });

// Undo the real-server profile: every value back to what it was.
await realServerDown({}, { netns, stateFile });
console.log("arp_ignore:", await readSysctl("net.ipv4.conf.all.arp_ignore", { netns }));

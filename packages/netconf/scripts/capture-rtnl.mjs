// Captures the kernel's rtnetlink messages (link and address replies, ACKs, errors and the
// notifications a watcher gets) with this package's own RtnlClient and watcher, in a network
// namespace, and writes them as hex datagrams to test/fixtures/rtnl-kernel.json: the seeds of the
// rtnetlink fuzz target and the golden bytes of test/rtnl-codec.test.ts.
// Root only. Usage: pnpm build && node scripts/capture-rtnl.mjs
import { writeFileSync } from "node:fs";
import { release } from "node:os";
import { Topology } from "@lvs/testkit";
import { RtnlClient, watchNetlink } from "../dist/index.js";

const out = {};
/** Taps the datagrams the socket under a client or watcher receives, under `label`. */
function tap(owner) {
  let label;
  owner.nl.socket.on("message", (buf) => {
    if (!label) return;
    out[label] ??= [];
    out[label].push(Buffer.from(buf).toString("hex"));
  });
  return async (name, fn) => {
    label = name;
    try {
      return await fn();
    } catch {
      // an expected refusal (EEXIST …): its NLMSG_ERROR is what we capture
    } finally {
      await new Promise((r) => setTimeout(r, 200));
      label = undefined;
    }
  };
}

const topo = await Topology.create("nc-capture");
try {
  const a = await topo.addNamespace("a");
  const b = await topo.addNamespace("b");
  await topo.link(a, b, { ifA: "veth-a", ifB: "veth-b", a: ["10.61.0.1/24", "fd61::1/64"] });
  await a.run("ip link add br0 type bridge && ip link set br0 up");
  await a.run("ip link add veth-c type veth peer name veth-d && ip link set veth-c master br0");

  const watcher = await watchNetlink({ netns: a.name });
  const watch = tap(watcher);
  const client = RtnlClient.open({ netns: a.name });
  const rtnl = tap(client);
  const vip4 = { dev: "lo", address: "10.61.9.1", label: "lo:vip" };
  const vip6 = { dev: "veth-a", address: "fd61::9" };

  await rtnl("links_dump", () => client.listLinks());
  await rtnl("link_get", () => client.getLink("br0"));
  await rtnl("link_get_missing", () => client.getLink("nope0"));
  await rtnl("address_add_ack", () => client.addAddress(vip4));
  await rtnl("address_add_exists", () => client.addAddress(vip4));
  await rtnl("address_add6_ack", () => client.addAddress(vip6));
  await rtnl("addresses_dump", () => client.listAddresses());
  await rtnl("address_remove_missing", () => client.removeAddress({ dev: "lo", address: "10.61.9.2" }));
  await watch("events_address", async () => {
    await client.addAddress({ dev: "veth-a", address: "10.61.9.3", prefixLength: 24, label: "veth-a:x" });
    await client.removeAddress({ dev: "veth-a", address: "10.61.9.3", prefixLength: 24 });
  });
  await watch("events_link", async () => {
    await client.setLinkUp("veth-a", false);
    await client.setLinkUp("veth-a", true);
    await a.run("ip link del veth-c");
  });
  client.close();
  watcher.close();
} finally {
  await topo.destroy();
}

const fixture = {
  comment:
    "rtnetlink datagrams as the kernel sent them to @lvs/netconf's RtnlClient and watcher in a network namespace (scripts/capture-rtnl.mjs)",
  kernel: release(),
  datagrams: out,
};
writeFileSync(
  new URL("../test/fixtures/rtnl-kernel.json", import.meta.url),
  `${JSON.stringify(fixture, null, 1)}\n`,
);
for (const [k, v] of Object.entries(out))
  console.log(`${k}: ${v.length} datagrams, ${v.join("").length / 2} bytes`);

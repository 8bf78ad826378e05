// Netns tier: a malformed notification reaching a live watcher is counted and dropped, and the
// next good one is still delivered (the fuzz driver found one that escaped the socket's listener
// as an uncaught exception: fixtures/fuzz-regressions.json). Root may unicast to another
// netlink socket's port, which is how the bytes get in.
import { readFileSync } from "node:fs";
import { withNetns } from "@lvs/sys";
import { canUseNetns, type Netns, Topology, waitFor } from "@lvs/testkit";
import { createNetlink, type NetlinkSocket } from "netlink";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AddressEvent, type NetlinkWatcher, watchNetlink } from "../src/index.js";

const regressions = JSON.parse(
  readFileSync(new URL("./fixtures/fuzz-regressions.json", import.meta.url), "utf8"),
) as { inputs: { hex: string }[] };
const kernel = JSON.parse(readFileSync(new URL("./fixtures/rtnl-kernel.json", import.meta.url), "utf8")) as {
  datagrams: Record<string, string[]>;
};

describe.skipIf(!canUseNetns())("a watcher fed malformed notifications", () => {
  let topo: Topology;
  let ns: Netns;
  let watcher: NetlinkWatcher;
  let sender: NetlinkSocket;
  beforeAll(async () => {
    topo = await Topology.create("nc-fuzz");
    ns = await topo.addNamespace("a");
    watcher = await watchNetlink({ netns: ns.name });
    sender = withNetns(ns.name, () => createNetlink(0));
  });
  afterAll(async () => {
    sender?.close();
    watcher?.close();
    await topo?.destroy();
  });

  it("counts them as invalid and still delivers the next good one", async () => {
    const port = (watcher as unknown as { nl: NetlinkSocket }).nl.socket.address().port;
    const events: AddressEvent[] = [];
    watcher.on("address", (e) => events.push(e));
    const send = (hex: string) =>
      new Promise<void>((resolve, reject) =>
        sender.socket.send(Buffer.from(hex, "hex"), { port }, (err) => (err ? reject(err) : resolve())),
      );
    for (const { hex } of regressions.inputs) await send(hex);
    await send(kernel.datagrams.events_address?.[0] ?? "");
    await waitFor(() => events.length > 0, { timeoutMs: 5000 });
    expect(events[0]).toMatchObject({ type: "new", address: { address: "10.61.9.3", label: "veth-a:x" } });
    // The 5-byte IFA_LOCAL is a dropped, counted message; the cut NLMSG_ERROR is no notification.
    expect(watcher.stats.invalid).toBe(1);
  });
});

// The README's listening example (examples/listen.mjs), run as written in one namespace while our
// sender multicasts from another; and the README shows the file verbatim.
import { fileURLToPath } from "node:url";
import { canUseNetns, readmeBlock, Topology, waitFor } from "@lvs/testkit";
import { afterAll, describe, expect, it } from "vitest";

const EXAMPLE = fileURLToPath(new URL("../examples/listen.mjs", import.meta.url));
const PEER = fileURLToPath(new URL("./peers/peer.mjs", import.meta.url));

it("the README shows examples/listen.mjs verbatim", () => {
  const { block, file } = readmeBlock(new URL("../README.md", import.meta.url), EXAMPLE);
  expect(block).toBe(file);
});

describe.skipIf(!canUseNetns())("examples/listen.mjs", () => {
  let topo: Topology | undefined;
  afterAll(async () => {
    await topo?.destroy();
  });

  it("prints each connection a master sends, then its inbox counters on SIGTERM", async () => {
    topo = await Topology.create("sync-example");
    const master = await topo.addNamespace("master");
    const backup = await topo.addNamespace("backup");
    await topo.link(master, backup, { ifA: "eth1", ifB: "eth1", a: "192.168.51.1/24", b: "192.168.51.2/24" });
    // Node lists an interface only once it is RUNNING (carrier), a moment after `ip link set up`.
    await waitFor(async () => (await backup.run("ip -o link show eth1")).includes("state UP"), {
      what: "eth1 running",
    });
    const rx = backup.spawn(["node", EXAMPLE, "eth1"]);
    const lines = [
      "TCP 10.1.0.5:40001 10.0.0.1:80 10.0.2.11:8080 ESTABLISHED",
      "UDP 10.1.0.6:53000 10.0.0.1:53 10.0.2.12:53 UDP",
    ];
    // The receiver joins the group asynchronously: send until it has heard.
    await waitFor(
      async () => {
        await master.exec(["node", PEER, "send", JSON.stringify({ interface: "eth1", syncId: 3, lines })]);
        return rx.output().includes(lines[1] as string);
      },
      { what: "the example printed the connections", timeoutMs: 15_000, intervalMs: 500 },
    );
    rx.child.kill("SIGTERM");
    expect(await rx.exited).toBe(0);
    expect(rx.output()).toContain(lines[0]);
    expect(rx.output()).toMatch(/accepted: [1-9]/);
  });
});

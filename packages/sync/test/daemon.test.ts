import { describe, expect, it } from "vitest";
import { type DaemonClient, formatSyncDaemon, startSyncDaemon, syncDaemonStatus } from "../src/index.js";

// Logic only (the kernel-tier proof is daemon.kernel.test.ts): option mapping and ipvsadm's line format.
describe("sync daemon control mapping", () => {
  it("maps options to IPVS daemon attributes and back; formats as ipvsadm 1.31", async () => {
    const started: unknown[] = [];
    const client: DaemonClient = {
      startDaemon: async (d) => {
        started.push(d);
      },
      stopDaemon: async () => {},
      daemons: async () => [
        {
          state: 1,
          mcastIfn: "eth1",
          syncId: 5,
          syncMaxLen: 1472,
          mcastGroup: "224.0.0.81",
          mcastPort: 8848,
          mcastTtl: 1,
        },
      ],
    };
    await startSyncDaemon(client, { role: "backup", interface: "eth1", syncId: 5, port: 8849 });
    expect(started).toEqual([{ state: 2, mcastIfn: "eth1", syncId: 5, mcastPort: 8849 }]);
    const [d] = await syncDaemonStatus(client);
    expect(d && formatSyncDaemon(d)).toBe(
      "master sync daemon (mcast=eth1, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)",
    );
  });
});

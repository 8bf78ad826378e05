// Listen on a link for a kernel master's sync datagrams: one line per connection, as `ipvsadm -Lcn`
// shows it without the expiry. Usage: node listen.mjs [interface] (default eth1).
import { formatConnection, SyncReceiver } from "@lvs/sync";

const rx = await SyncReceiver.open({ interface: process.argv[2] ?? "eth1", syncId: 0 }); // 0: every syncid
rx.on("connection", (c) => console.log(formatConnection(c)));
process.on("SIGTERM", async () => {
  console.log(rx.inbox.stats); // datagrams, accepted, otherSyncId, dropped, droppedByCode, connections
  await rx.close();
});

#!/usr/bin/env node
// One BGP speaker process for the netns tests (what `lvsctl bgp announce` does, without the CLI
// package): node speaker.mjs 'OPTIONS-JSON' (BgpSpeaker options; run it with `ip netns exec`).
// Logs one JSON line per state change / notification / warning; SIGTERM = withdraw, Cease, exit 0.
import { BgpSpeaker } from "@lvs/bgp";

const speaker = new BgpSpeaker(JSON.parse(process.argv[2] ?? "{}"));
const log = (o) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);
speaker.on((e) => {
  if (e.type === "state") log({ state: e.to, from: e.from, reason: e.reason });
  else if (e.type === "notification" || e.type === "warning") log(e);
});
process.on("SIGTERM", async () => {
  await speaker.stop("lvs speaker stopping");
  log({ stopped: true });
  process.exit(0);
});
speaker.start();

/**
 * @lvs/testkit — network-namespace topologies for lvs tests (private package).
 *
 *   const topo = await Topology.create("nat");        // names are unique per process
 *   const client = await topo.addNamespace("client");
 *   const director = await topo.addNamespace("director");
 *   await topo.link(client, director, { a: "10.1.0.2/24", b: "10.1.0.1/24" });
 *   await client.run("ip route add default via 10.1.0.1");
 *   const srv = client.spawn(["node", "server.js"]);   // killed by destroy()
 *   ...
 *   await topo.destroy();                              // also runs at process exit
 *
 * Everything runs with `ip` (iproute2) and needs root. Works on the host (netns tier) and inside
 * tools/vm (kernel tier). Traffic stays inside the namespaces created here.
 */

export {
  cleanupFrr,
  type Frr,
  type FrrPath,
  frrPaths,
  frrPeerState,
  haveFrr,
  kernelNextHops,
  startFrr,
} from "./frr.js";
export {
  CI_FUZZ_CASES,
  CI_FUZZ_SEED,
  checkCase,
  type ErrorClass,
  type FuzzFailure,
  type FuzzOptions,
  type FuzzReport,
  type FuzzTarget,
  fuzzInput,
  INTERESTING_8,
  INTERESTING_16,
  INTERESTING_32,
  type Mutator,
  mutateBytes,
  type NetlinkShape,
  netlinkMutator,
  Rng,
  replayInputs,
  runFuzz,
  streamOf,
  textMutator,
  weigh,
} from "./fuzz.js";
export { ipvsadm, ipvsadmRaw, ipvsNamespace, loadIpvsModules } from "./ipvs.js";
export { type KeepalivedRun, keepalivedArgv } from "./keepalived.js";
export { codeBlocks, readmeBlock } from "./readme.js";
export {
  Bridge,
  type ExecResult,
  type LinkOptions,
  Netns,
  type SpawnedProcess,
  Topology,
} from "./topology.js";
export {
  canUseNetns,
  processGroupMembers,
  processRunning,
  sh,
  sweepStaleNamespaces,
  waitFor,
} from "./util.js";

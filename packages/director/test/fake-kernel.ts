// The loop's unit tests run against @lvs/director's in-memory IPVS (kernel errno and all); the
// kernel tier runs the same scenarios against the real one.
export { MemoryKernel as FakeKernel } from "../src/index.js";

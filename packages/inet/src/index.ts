/**
 * @lvs/inet: the small pure pieces every @lvs package shares — addresses, the kernel's name
 * tables and one injectable Clock. No native code, no I/O.
 */
export { type Clock, FakeClock, systemClock } from "./clock.js";

/**
 * @lvs/sys — the Linux syscalls lvs needs and Node lacks:
 * - `withNetns(ns, fn)`: open sockets (netlink, raw, UDP, packet) inside a network namespace;
 * - `PacketSocket`: AF_PACKET frames for gratuitous ARP and unsolicited neighbour advertisements;
 * - `openDeviceSocket`: a TCP/UDP socket bound to a network device (SO_BINDTODEVICE), for Node to
 *   adopt — keepalived's checker `bind_if`;
 * - `NetlinkExchangeSocket`: netlink request/reply exchanges run on a libuv pool thread;
 * - `mallocTrim()`: give the C heap's free pages back to the kernel after a one-off peak;
 * - `heapMemoryPressure()`: ask V8 to compact its heap and give back the pages it keeps;
 * - `execProcess()`: execve(2), for a daemon restarting itself with command-line-only V8 flags.
 */

export { type DeviceSocketOptions, openDeviceSocket } from "./device-socket.js";
export { SysError, type SysErrorCode } from "./errors.js";
export { execProcess, type HeapPressureLevel, heapMemoryPressure, mallocTrim } from "./memory.js";
export {
  type NetlinkExchangeOptions,
  type NetlinkExchangeResult,
  NetlinkExchangeSocket,
} from "./netlink-exchange.js";
export { ifNameToIndex, netnsPath, withNetns } from "./netns.js";
export {
  ETH_P_ALL,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  type FrameMeta,
  PacketSocket,
  type PacketSocketOptions,
} from "./packet.js";

import { isIPv6 } from "node:net";
import { fromNative, SysError } from "./errors.js";
import { native } from "./native.js";

export interface DeviceSocketOptions {
  /** 4 or 6 (the family of the address it will connect to). */
  family: 4 | 6;
  type: "tcp" | "udp";
  /** The device every packet of the socket goes out of and comes in on (socket(7) SO_BINDTODEVICE). */
  ifname: string;
  /** Local address to bind (optional). */
  localAddress?: string;
  /** Local port to bind (optional; 0 = any). */
  localPort?: number;
}

/**
 * A non-blocking TCP or UDP socket bound to a network device, as a file descriptor for Node to
 * adopt: `new net.Socket({ fd }).connect(…)` or `dgram.createSocket(…).bind({ fd })`. Node has no
 * setsockopt; keepalived's checkers set SO_BINDTODEVICE for `bind_if`. The local address, when
 * given, is bound here too (Node cannot bind an adopted socket again). Needs CAP_NET_RAW for a
 * device other than the one a non-privileged socket may already use.
 */
export function openDeviceSocket(opts: DeviceSocketOptions): number {
  if (opts.localAddress !== undefined && isIPv6(opts.localAddress) !== (opts.family === 6)) {
    throw fromNative("SYS_DEVICE_SOCKET", `local address ${opts.localAddress}`, {
      message: `is not an IPv${opts.family} address`,
      code: "EINVAL",
    });
  }
  const binding = native();
  if (typeof binding.deviceSocket !== "function") {
    // An addon built before deviceSocket existed (node-gyp-build keeps an existing build).
    throw new SysError(
      "SYS_NATIVE_MISSING",
      "@lvs/sys native addon predates deviceSocket: run `npm rebuild @lvs/sys` (or `node-gyp rebuild` in packages/sys)",
      { object: "deviceSocket" },
    );
  }
  try {
    return binding.deviceSocket(opts.family, opts.type, opts.ifname, opts.localAddress, opts.localPort ?? 0);
  } catch (err) {
    throw fromNative("SYS_DEVICE_SOCKET", `${opts.type} socket on device ${opts.ifname}`, err);
  }
}

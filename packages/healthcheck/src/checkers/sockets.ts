import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { isIPv6, Socket, type TcpSocketConnectOpts } from "node:net";
import { openDeviceSocket, type SysError } from "@lvs/sys";
import type { CommonCheck } from "../types.js";
import type { Attempt } from "./util.js";

/** Why a `bind_if` socket could not be made: "bind_if eth9: ENODEV" (the errno name kept). */
function deviceReason(def: CommonCheck, err: unknown): string {
  const e = err as SysError;
  return `bind_if ${def.bindIf}: ${e.context?.errnoName ?? e.message}`;
}

/**
 * A TCP connection for a checker: to connectIp:port, from bindto/bindPort, and with `bind_if` out of
 * that device only (SO_BINDTODEVICE, as keepalived's layer4.c). Undefined when the socket could not
 * be made; the attempt is then already DOWN with the reason.
 */
export function connectTcp(def: CommonCheck, port: number, attempt: Attempt): Socket | undefined {
  if (def.bindIf === undefined) {
    // new Socket + connect skips net.connect's argument normalisation; with no bindto/bindPort
    // node makes no bind() call before connect() (the kernel picks the source).
    const options: TcpSocketConnectOpts = { host: def.connectIp, port };
    if (def.bindto !== undefined) options.localAddress = def.bindto;
    if (def.bindPort !== undefined) options.localPort = def.bindPort;
    return new Socket().connect(options);
  }
  const fd = deviceSocket(def, def.bindIf, "tcp", attempt);
  if (fd === undefined) return undefined;
  return new Socket({ fd, readable: true, writable: true }).connect({ host: def.connectIp, port });
}

/**
 * A UDP socket for a checker, bound (bindto/bindPort, `bind_if`) before `ready` runs — always
 * after this returns (an adopted fd's bind calls back at once). Undefined when it could not be
 * made (the attempt is DOWN); the caller closes it in the attempt's cleanup.
 */
export function bindUdp(def: CommonCheck, attempt: Attempt, onBound: () => void): UdpSocket | undefined {
  const v6 = isIPv6(def.connectIp);
  const ready = () => queueMicrotask(onBound);
  if (def.bindIf === undefined) {
    const sock = createSocket(v6 ? "udp6" : "udp4");
    if (def.bindto !== undefined || def.bindPort !== undefined) {
      sock.bind({ ...(def.bindto ? { address: def.bindto } : {}), port: def.bindPort ?? 0 }, ready);
    } else ready();
    return sock;
  }
  const fd = deviceSocket(def, def.bindIf, "udp", attempt);
  if (fd === undefined) return undefined;
  const sock = createSocket(v6 ? "udp6" : "udp4");
  sock.bind({ fd }, ready);
  return sock;
}

/** A socket bound to `bind_if` (and bindto/bindPort), or undefined with the attempt DOWN. */
function deviceSocket(
  def: CommonCheck,
  ifname: string,
  type: "tcp" | "udp",
  attempt: Attempt,
): number | undefined {
  try {
    return openDeviceSocket({
      family: isIPv6(def.connectIp) ? 6 : 4,
      type,
      ifname,
      ...(def.bindto !== undefined ? { localAddress: def.bindto } : {}),
      ...(def.bindPort !== undefined ? { localPort: def.bindPort } : {}),
    });
  } catch (err) {
    attempt.down(deviceReason(def, err));
    return undefined;
  }
}

import { describe, expect, it } from "vitest";
import {
  FORWARD_METHOD_NAMES,
  FORWARD_METHODS,
  forwardFlagOfName,
  forwardMethodOf,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  PROTOCOL_NAMES,
  SCTP_STATES,
  SERVICE_PROTOCOL_NAMES,
  TCP_STATES,
  TEMPLATE_STATES,
  UDP_STATES,
} from "../src/index.js";

describe("kernel name tables", () => {
  it("TCP states sit at their IP_VS_TCP_S_* numbers (include/net/ip_vs.h)", () => {
    expect(TCP_STATES.length).toBe(11); // IP_VS_TCP_S_LAST
    expect(TCP_STATES[0]).toBe("NONE");
    expect(TCP_STATES[1]).toBe("ESTABLISHED");
    expect(TCP_STATES[5]).toBe("TIME_WAIT");
    expect(TCP_STATES[9]).toBe("LISTEN");
    expect(TCP_STATES[10]).toBe("SYNACK");
  });

  it("UDP, SCTP and template states", () => {
    expect(UDP_STATES).toEqual(["UDP"]);
    expect(SCTP_STATES.length).toBe(14); // IP_VS_SCTP_S_LAST
    expect(SCTP_STATES[8]).toBe("ESTABLISHED");
    expect(SCTP_STATES[13]).toBe("CLOSED");
    expect(TEMPLATE_STATES).toEqual(["NONE", "ASSURED"]);
  });

  it("protocol words", () => {
    expect(PROTOCOL_NAMES[0]).toBe("IP");
    expect(PROTOCOL_NAMES[58]).toBe("ICMPv6");
    expect(SERVICE_PROTOCOL_NAMES).toEqual({
      [IPPROTO_TCP]: "TCP",
      [IPPROTO_UDP]: "UDP",
      [IPPROTO_SCTP]: "SCTP",
    });
    for (const [n, name] of Object.entries(SERVICE_PROTOCOL_NAMES))
      expect(PROTOCOL_NAMES[Number(n)]).toBe(name);
  });

  it("forwarding methods: config name ↔ flag ↔ /proc word", () => {
    expect(FORWARD_METHODS.masq).toBe(IP_VS_CONN_F_MASQ);
    expect(FORWARD_METHODS.route).toBe(IP_VS_CONN_F_DROUTE);
    expect(FORWARD_METHOD_NAMES[IP_VS_CONN_F_TUNNEL]).toBe("Tunnel");
    for (const [method, flag] of Object.entries(FORWARD_METHODS)) {
      expect(forwardMethodOf(flag)).toBe(method);
      // the other flag bits (IP_VS_CONN_F_INACTIVE, TEMPLATE…) do not change the method
      expect(forwardMethodOf(flag | 0x1100)).toBe(method);
      expect(forwardFlagOfName(FORWARD_METHOD_NAMES[flag] as string)).toBe(flag);
    }
    expect(forwardMethodOf(7)).toBeUndefined();
    expect(forwardFlagOfName("masq")).toBeUndefined();
  });
});

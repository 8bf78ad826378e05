import { BgpSession, buildOpen, encodeMessage, parseRoute } from "@lvs/bgp";
import { FakeClock } from "@lvs/inet";

export function example(): { states: string[]; sent: string[]; holdTime: number | undefined } {
  // The engine alone on a fake clock: what BgpSpeaker drives over TCP.
  const clock = new FakeClock();
  const states: string[] = [];
  const sent: string[] = [];
  const session = new BgpSession(
    { localAs: 65001, peerAs: 65000, routerId: "192.0.2.2", holdTime: 9 },
    clock,
    (e) => {
      if (e.type === "state") states.push(e.to);
      if (e.type === "send") sent.push(e.message.type); // e.bytes is what goes on the wire
    },
  );
  session.setRoutes([parseRoute({ prefix: "198.51.100.10/32", communities: ["65001:100"] })]);

  session.start(); // Connect: the io opens TCP to the router's port 179
  session.tcpConnected("192.0.2.2"); // OpenSent: our OPEN is out; the next hop will be this address
  // The router's OPEN (hold time 3 s) and KEEPALIVE, as bytes off the wire
  session.receive(
    encodeMessage(buildOpen({ localAs: 65000, holdTime: 3, routerId: "192.0.2.1", families: ["ipv4"] })),
  );
  session.receive(encodeMessage({ type: "KEEPALIVE" })); // Established: our UPDATE goes out
  const holdTime = session.negotiated?.holdTime; // min(9, 3)
  clock.advance(1000); // a KEEPALIVE every hold time / 3
  session.stop("maintenance"); // withdraw, Cease/Administrative Shutdown "maintenance", Idle
  return { states, sent, holdTime };
}

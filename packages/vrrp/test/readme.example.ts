import {
  decodeAdvert,
  encodeAdvert,
  FakeClock,
  type InstanceEffect,
  VrrpInstanceEngine,
  verifyChecksum,
} from "@lvs/vrrp";

export function example(): {
  priority: number;
  checksum: string | undefined;
  effects: string[];
  state: string;
} {
  // The codec: a VRRPv3 advert as keepalived sends it (IPv4 pseudo-header checksum), and back.
  const ctx = { family: 4 as const, source: "10.0.0.1", destination: "224.0.0.18" };
  const wire = encodeAdvert(
    { version: 3, vrid: 51, priority: 150, addresses: ["10.0.0.100"], intervalCs: 5 },
    ctx,
  );
  const advert = decodeAdvert(wire, 4);

  // The state machine on an injected clock: advert_int 0.05 s, priority 100.
  const clock = new FakeClock();
  const effects: InstanceEffect[] = [];
  const engine = new VrrpInstanceEngine(
    { name: "VI_1", vrid: 51, version: 3, priority: 100, intervalCs: 5 },
    { clock, primaryAddress: () => "10.0.0.2", onEffect: (e) => effects.push(e) },
  );
  engine.start(); // BACKUP
  engine.receive({ priority: advert.priority, intervalCs: advert.intervalCs, source: "10.0.0.1" });
  clock.advance(100); // the master's adverts keep coming…
  engine.receive({ priority: advert.priority, intervalCs: advert.intervalCs, source: "10.0.0.1" });
  clock.advance(181); // …then stop: Master_Down_Interval = 3 × 50 + (256 − 100) × 50 / 256 ≈ 180.5 ms
  return {
    priority: advert.priority,
    checksum: verifyChecksum(wire, ctx),
    effects: effects.map((e) => (e.type === "state" ? `${e.type} ${e.to}` : e.type)),
    state: engine.state,
  };
}

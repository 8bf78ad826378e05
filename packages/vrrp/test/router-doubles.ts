// Test doubles for VrrpRouter (unit tier): a simulated LAN where every transport hears the
// others, a fake netconf that records what it was asked to do, and a router node wired to them
// with a recording notifier and fake scripts, all on a FakeClock.
import {
  type AddressState,
  type FakeClock,
  type IpPacket,
  type LinkState,
  type NetOps,
  Notifier,
  type NotifyFifo,
  type OutgoingPacket,
  type RouterDeps,
  type ScriptCommand,
  type StateChange,
  type VipSpec,
  VrrpRouter,
  type VrrpRouterOptions,
  type VrrpTransport,
} from "../src/index.js";

export const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** Every transport on it hears every other one's packets (next microtask). */
export class MemoryLan {
  readonly ports: Array<{ handler: (ifname: string, pkt: IpPacket) => void; sent: OutgoingPacket[] }> = [];
  cut = false;
  transport(): VrrpTransport & { sent: OutgoingPacket[]; closed: string[] } {
    const port = { handler: (_i: string, _p: IpPacket) => {}, sent: [] as OutgoingPacket[] };
    this.ports.push(port);
    const closed: string[] = [];
    return {
      sent: port.sent,
      closed,
      open: () => {},
      close: (ifname, family) => {
        closed.push(`${family}/${ifname}`);
      },
      onError: () => {},
      shutdown: () => {},
      onPacket: (h) => {
        port.handler = h;
      },
      send: (_ifname, family, pkt, done) => {
        port.sent.push(pkt);
        if (!this.cut) {
          for (const other of this.ports) {
            if (other === port) continue;
            queueMicrotask(() =>
              other.handler("eth0", {
                family,
                source: pkt.source,
                destination: pkt.destination,
                ttl: 255,
                protocol: 112,
                payload: pkt.payload,
                ...(family === 4 ? { totalLength: 20 + pkt.payload.length, headerLength: 20 } : {}),
              }),
            );
          }
        }
        done?.();
      },
    };
  }
}

export class FakeNet implements NetOps {
  linkList: LinkState[] = [{ name: "eth0", index: 2, up: true, mac: "02:00:00:00:00:01" }];
  addrs: AddressState[];
  announced: Array<{ dev: string; addresses: string[]; count: number }> = [];
  /** Every address request, in order: "add 10.0.0.100", "remove 10.0.0.100". */
  ops: string[] = [];
  private onChange: (w: "link" | "address") => void = () => {};
  constructor(primary: string) {
    this.addrs = [{ dev: "eth0", family: 4, address: primary, prefixLength: 24, scope: 0, flags: 0 }];
  }
  has(addr: string) {
    return this.addrs.some((a) => a.address === addr);
  }
  async addAddress(v: VipSpec) {
    this.ops.push(`add ${v.address}`);
    const changed = !this.has(v.address);
    if (changed)
      this.addrs.push({
        dev: v.dev,
        family: v.family,
        address: v.address,
        prefixLength: v.prefixLength,
        scope: 0,
        flags: 0,
      });
    return { changed };
  }
  async removeAddress(v: VipSpec) {
    this.ops.push(`remove ${v.address}`);
    const changed = this.has(v.address);
    this.addrs = this.addrs.filter((a) => a.address !== v.address);
    return { changed };
  }
  async announce(dev: string, addresses: string[], req: { count: number }) {
    this.announced.push({ dev, addresses, count: req.count });
  }
  async links() {
    return this.linkList.map((l) => ({ ...l }));
  }
  async addresses() {
    return this.addrs.map((a) => ({ ...a }));
  }
  async watch(onChange: (w: "link" | "address") => void) {
    this.onChange = onChange;
    return () => {};
  }
  setLink(up: boolean) {
    this.linkList = this.linkList.map((l) => ({ ...l, up }));
    this.onChange("link");
  }
  close() {}
}

export const conf = (
  priority: number,
  extra: Partial<VrrpRouterOptions["instances"][number]> = {},
): VrrpRouterOptions => ({
  instances: [
    {
      name: "VI_1",
      interface: "eth0",
      vrid: 51,
      priority,
      advertInterval: 1,
      virtualAddresses: ["10.0.0.100/24"],
      notify: { master: { argv: ["/bin/notify-master"] }, any: { argv: ["/bin/notify", "arg"] } },
      ...extra,
    },
  ],
});

export function node(
  lan: MemoryLan,
  clock: FakeClock,
  options: VrrpRouterOptions,
  primary: string,
  scripts: Record<string, boolean> = {},
  deps: Pick<RouterDeps, "acceptFilter"> & { fifo?: { write(line: string): void } } = {},
) {
  const net = new FakeNet(primary);
  /** argv[0] of each tracking script run, with the clock time. */
  const scriptRuns: Array<{ at: number; script: string }> = [];
  const transport = lan.transport();
  const ran: string[][] = [];
  const notifier = new Notifier({
    ...(deps.fifo ? { fifos: [deps.fifo as unknown as NotifyFifo] } : {}),
    run: async (cmd: ScriptCommand) => {
      ran.push([...cmd.argv]);
      return { ok: true, code: 0, signal: null, timedOut: false };
    },
  });
  const states: StateChange[] = [];
  const router = new VrrpRouter(options, {
    clock,
    transport,
    net,
    notifier,
    ...(deps.acceptFilter ? { acceptFilter: deps.acceptFilter } : {}),
    runScript: async (cmd) => {
      scriptRuns.push({ at: clock.now(), script: cmd.argv[0] as string });
      return { ok: scripts[cmd.argv[0] as string] ?? true, code: 0, signal: null, timedOut: false };
    },
  });
  router.on("state", (s: StateChange) => states.push(s));
  return { router, net, transport, ran, states, scripts, scriptRuns };
}

export async function run(clock: FakeClock, ms: number, step = 10) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

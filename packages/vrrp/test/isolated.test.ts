// IsolatedRouter without a network: errors across the IPC channel, a configuration refused
// before any fork, a child whose router cannot start (the real child process, from dist), the
// lifecycle before start. The netns tier (isolation.netns.test.ts) runs it against keepalived.
import { parseKeepalivedConf } from "@lvs/config";
import { describe, expect, it } from "vitest";
import {
  type ChildEvent,
  IsolatedRouter,
  routerOptionsFromConfig,
  spawnIsolatedRouter,
  VrrpError,
  type VrrpRouterOptions,
} from "../src/index.js";
import { fromWire, toWire } from "../src/isolation-protocol.js";

const options = (extra: Partial<VrrpRouterOptions> = {}): VrrpRouterOptions => ({
  instances: [
    { name: "VI_1", interface: "eth0", vrid: 51, priority: 100, virtualAddresses: ["10.0.0.100/24"] },
  ],
  ...extra,
});

describe("errors across the channel", () => {
  it("a VrrpError keeps its code, message and context", () => {
    const e = new VrrpError("VRRP_NETCONF", "cannot open", { netns: "x", errno: 2, errnoName: "ENOENT" });
    const back = fromWire(structuredClone(toWire(e)));
    expect(back).toBeInstanceOf(VrrpError);
    expect(back).toMatchObject({ code: "VRRP_NETCONF", message: "cannot open", context: e.context });
  });

  it("anything else becomes VRRP_CHILD naming what it was", () => {
    const back = fromWire(structuredClone(toWire(new TypeError("x is not a function"))));
    expect(back).toMatchObject({
      code: "VRRP_CHILD",
      message: "VRRP child process: TypeError: x is not a function",
    });
  });
});

describe("IsolatedRouter", () => {
  it("refuses a bad configuration at construction, as VrrpRouter does, before any fork", () => {
    const bad = options();
    (bad.instances[0] as { vrid: number }).vrid = 0;
    expect(() => spawnIsolatedRouter(bad)).toThrow(expect.objectContaining({ code: "VRRP_BAD_CONFIG" }));
  });

  it("a router that cannot start in the child: start() rejects with its error; the child exits, no restart", async () => {
    const router = spawnIsolatedRouter(options({ netns: "/nonexistent/netns" }));
    const children: ChildEvent[] = [];
    router.on("child", (c: ChildEvent) => children.push(c));
    const err = await router.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VrrpError);
    expect(err).toMatchObject({
      code: "VRRP_NETCONF",
      context: { netns: "/nonexistent/netns", errnoName: "ENOENT" },
    });
    await expect.poll(() => children.map((c) => c.type)).toEqual(["spawned", "exited"]);
    expect(children[1]).toMatchObject({ type: "exited", code: 1, expected: true });
    expect(router.pid).toBeUndefined();
    await expect(router.reload(options())).rejects.toMatchObject({ code: "VRRP_CHILD_EXIT" });
    await router.stop();
  }, 20_000);

  it("before start: reload replaces the configuration; stop needs no child; start after stop is refused", async () => {
    const router = new IsolatedRouter(options());
    const next = options();
    next.instances.push({ name: "VI_2", interface: "eth0", vrid: 52, virtualAddresses: ["10.0.0.101/24"] });
    const summary = await router.reload(next);
    expect(summary.instances).toEqual({
      unchanged: [],
      updated: [],
      added: ["VI_1", "VI_2"],
      removed: ["VI_1"],
    });
    expect(router.options).toBe(next);
    expect(router.status().instances).toEqual([]);
    await router.stop();
    await expect(router.start()).rejects.toMatchObject({ code: "VRRP_STOPPED" });
    await expect(router.reload(options())).rejects.toMatchObject({ code: "VRRP_STOPPED" });
  });
});

describe("what crosses to the child", () => {
  // The parent parses the file (a reload's parse never runs on the child's loop) and sends the
  // VRRP part only: a file's virtual servers and their checks never reach the child.
  it("the options sent on start/reload are the same with or without 2,000 virtual servers", () => {
    const vrrp = `global_defs {\n  vrrp_version 3\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  advert_int 0.1\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n`;
    const vs: string[] = [];
    for (let i = 0; i < 2000; i++) {
      vs.push(
        `virtual_server 10.1.${i >> 8}.${i & 255} 80 {\n  lb_kind DR\n  protocol TCP\n  real_server 172.16.${i >> 8}.${i & 255} 80 {\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n`,
      );
    }
    const small = routerOptionsFromConfig(parseKeepalivedConf(vrrp).config).options;
    const big = routerOptionsFromConfig(parseKeepalivedConf(vrrp + vs.join("")).config).options;
    expect(big).toEqual(small);
    expect(big.instances.map((i) => i.name)).toEqual(["VI_1"]);
    expect(JSON.stringify(big).length).toBeLessThan(2000);
  });
});

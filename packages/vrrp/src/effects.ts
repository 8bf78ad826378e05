/**
 * Carries out what the engines decide (InstanceEffect, GroupEffect): adverts through the wire,
 * addresses, no_accept rules and GARP/NA through NetOps, state events, notify scripts and the
 * FIFO. Address, announce and notify work of one instance runs in order on its queue; nothing
 * here decides a state.
 */
import type { InstanceEffect } from "./engine.js";
import { VrrpError } from "./errors.js";
import type { ResolvedInstance, ResolvedVip } from "./options.js";
import type { InstanceRuntime, RouterCore } from "./router-core.js";
import { allVips } from "./router-plan.js";
import type { GroupEffect } from "./sync-group.js";
import type { Wire } from "./wire.js";

/**
 * keepalived clear_diff_vrrp(): an instance deleted by a reload is notified as FAULT (DELETED with
 * `notify_deleted`, which lvs does not take), and not at all if it was in FAULT.
 */
export function notifyWordOf(rt: InstanceRuntime, e: Extract<InstanceEffect, { type: "state" }>) {
  if (!rt.removed) return e.to;
  return e.from === "fault" ? undefined : "fault";
}

export class EffectRunner {
  constructor(
    private readonly core: RouterCore,
    private readonly wire: Wire,
  ) {}

  /** Appends work to the instance's queue; a failure is reported, the queue goes on. */
  enqueue(rt: InstanceRuntime, what: string, fn: () => Promise<unknown>): void {
    rt.queue = rt.queue.then(fn).then(
      () => {},
      (err) =>
        this.core.fail(
          new VrrpError(
            "VRRP_NETCONF",
            `${rt.r.name}: ${what}: ${(err as Error).message}`,
            { object: rt.r.name },
            { cause: err },
          ),
        ),
    );
  }

  onEffect(rt: InstanceRuntime, e: InstanceEffect): void {
    const { r } = rt;
    const { notifier } = this.core.io;
    switch (e.type) {
      case "send":
        this.wire.sendAdvert(rt, e.priority);
        return;
      case "add-addresses":
        this.enqueue(rt, "add addresses", () => this.addAddresses(rt, r));
        return;
      case "remove-addresses":
        this.enqueue(rt, "remove addresses", () => this.removeAddresses(rt, r));
        return;
      case "announce":
        this.announce(rt, allVips(r), e.repeat);
        return;
      case "state":
        this.onState(rt, e);
        return;
      case "priority":
        if (e.notify)
          notifier.event(r.name, e.state === "master" ? "MASTER_PRIORITY" : "BACKUP_PRIORITY", e.to);
        return;
      case "master-rx-lower-priority":
        notifier.event(
          r.name,
          "MASTER_RX_LOWER_PRI",
          rt.engine.effectivePriority,
          r.notify?.masterRxLowerPri,
        );
        return;
    }
  }

  onGroupEffect(e: GroupEffect): void {
    const core = this.core;
    core.emitState({
      kind: "GROUP",
      name: e.group,
      from: e.from,
      to: e.to,
      priority: 0,
      reason: "sync group",
      at: core.clock.now(),
    });
    core.io.notifier.state("GROUP", e.group, e.to, 0, core.groupPlans.get(e.group)?.notify);
  }

  private onState(rt: InstanceRuntime, e: Extract<InstanceEffect, { type: "state" }>): void {
    const { r } = rt;
    this.core.emitState({
      kind: "INSTANCE",
      name: r.name,
      from: e.from,
      to: e.to,
      priority: e.priority,
      reason: rt.removed ? "removed by reload" : e.reason,
      at: this.core.clock.now(),
    });
    const word = notifyWordOf(rt, e);
    if (e.notify && word)
      this.enqueue(rt, "notify", async () =>
        this.core.io.notifier.state("INSTANCE", r.name, word, e.priority, r.notify),
      );
  }

  /** `asked`: the instance's settings when the engine asked (a reload may move them since). */
  private async addAddresses(rt: InstanceRuntime, asked: ResolvedInstance): Promise<void> {
    const { acceptFilter, io } = this.core;
    // no_accept: the drop rules go in before the addresses, so nothing is accepted in between
    if (acceptFilter && !rt.engine.params.accept)
      await acceptFilter.set(
        asked.name,
        allVips(asked).map((v) => v.address),
      );
    await Promise.all(allVips(rt.r).map((v) => io.net.addAddress(v)));
  }

  private async removeAddresses(rt: InstanceRuntime, asked: ResolvedInstance): Promise<void> {
    const { acceptFilter, io } = this.core;
    await Promise.all(allVips(rt.r).map((v) => io.net.removeAddress(v)));
    if (acceptFilter && !rt.engine.params.accept) await acceptFilter.set(asked.name, undefined);
  }

  /** GARP / unsolicited NA for `vips`, per interface, while the instance is MASTER. */
  announce(rt: InstanceRuntime, vips: readonly ResolvedVip[], repeat: number): void {
    const byDev = new Map<string, string[]>();
    for (const v of vips) byDev.set(v.dev, [...(byDev.get(v.dev) ?? []), v.address]);
    this.enqueue(rt, "announce", async () => {
      if (rt.engine.state !== "master") return;
      await Promise.all(
        [...byDev].map(([dev, addresses]) => {
          const mac = this.core.links.get(dev)?.mac;
          return this.core.io.net.announce(dev, addresses, {
            count: repeat,
            ...(rt.r.garpIntervalMs ? { intervalMs: rt.r.garpIntervalMs } : {}),
            ...(mac ? { mac } : {}),
          });
        }),
      );
    });
  }
}

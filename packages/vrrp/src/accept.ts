/**
 * I/O: Accept_Mode (RFC 9568 §6.1, §6.4.3: a Master that is not the address owner "MUST NOT
 * accept packets addressed to the IPvX address(es) associated with the virtual router" unless
 * Accept_Mode is True). Like keepalived's `no_accept`, a master drops traffic to its VIPs with
 * an nftables rule set while it holds them; the table is rewritten atomically (`nft -f -`) on
 * each change and deleted at stop.
 */
import { spawn } from "node:child_process";
import { withNetns } from "@lvs/sys";
import { fromSystemError, VrrpError } from "./errors.js";

/** nft ruleset text for a table dropping input to `addresses` (pure). */
export function acceptRuleset(table: string, addresses: readonly string[]): string {
  const v4 = addresses.filter((a) => !a.includes(":"));
  const v6 = addresses.filter((a) => a.includes(":"));
  const lines = [
    `table inet ${table} {`,
    "  chain input {",
    "    type filter hook input priority -10; policy accept;",
    ...(v4.length ? [`    ip daddr { ${v4.join(", ")} } drop`] : []),
    ...(v6.length ? [`    ip6 daddr { ${v6.join(", ")} } drop`] : []),
    "  }",
    "}",
  ];
  return `${lines.join("\n")}\n`;
}

function nft(script: string, netns: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      // fork() happens inside spawn(), in this thread: the child starts in the namespace
      child = withNetns(netns, () => spawn("nft", ["-f", "-"], { stdio: ["pipe", "ignore", "pipe"] }));
    } catch (err) {
      reject(fromSystemError("VRRP_NETCONF", "cannot run nft", err));
      return;
    }
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += d;
    });
    child.once("error", (err) =>
      reject(fromSystemError("VRRP_NETCONF", "cannot run nft (no_accept needs nftables)", err)),
    );
    child.once("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new VrrpError("VRRP_NETCONF", `nft failed (${code}): ${stderr.trim()}`, { object: "nft" })),
    );
    child.stdin?.end(script);
  });
}

/** The drop rules of every non-accepting master in one router. */
export class AcceptFilter {
  private readonly dropped = new Map<string, string[]>();
  private queue: Promise<void> = Promise.resolve();
  private installed = false;

  constructor(
    readonly netns: string | undefined,
    readonly table = `lvs_vrrp_${process.pid}`,
  ) {}

  /** Drops (or stops dropping) traffic to an instance's addresses. */
  set(instance: string, addresses: readonly string[] | undefined): Promise<void> {
    if (addresses?.length) this.dropped.set(instance, [...addresses]);
    else this.dropped.delete(instance);
    return this.apply();
  }

  private apply(): Promise<void> {
    const all = [...new Set([...this.dropped.values()].flat())];
    const run = async () => {
      if (all.length === 0) {
        if (this.installed) await nft(`delete table inet ${this.table}\n`, this.netns);
        this.installed = false;
        return;
      }
      const prefix = this.installed ? `delete table inet ${this.table}\n` : "";
      await nft(prefix + acceptRuleset(this.table, all), this.netns);
      this.installed = true;
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  /** Removes the table. */
  async close(): Promise<void> {
    this.dropped.clear();
    await this.apply().catch(() => {});
  }
}

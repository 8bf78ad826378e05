/**
 * sysctl read/write inside a network namespace, through /proc/sys.
 *
 * /proc/sys/net/* shows the network namespace of the *thread that opens the file* (the sysctl
 * tables are looked up in current->nsproxy->net_ns: fs/proc/proc_sysctl.c, net/sysctl_net.c), and
 * a file keeps pointing at that namespace's value once open. So a synchronous open + read/write
 * inside @lvs/sys withNetns() reaches the chosen namespace without spawning `ip netns exec`;
 * test/sysctl.netns.test.ts checks every value against `ip netns exec NS sysctl -n` to prove it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { NetconfError, wrapError } from "./errors.js";
import { inNs, withNetnsOrThrow } from "./rtnl.js";

/**
 * "net.ipv4.conf.all.arp_ignore" → "/proc/sys/net/ipv4/conf/all/arp_ignore". As sysctl(8): a "/"
 * inside a dotted key stands for a literal dot ("net.ipv4.conf.eth0/100.rp_filter" is the VLAN
 * interface eth0.100). A key already written with slashes ("net/ipv4/ip_forward") is taken as a path.
 */
export function sysctlPath(key: string): string {
  if (typeof key !== "string" || !/^[A-Za-z0-9_.:@/+-]+$/.test(key)) {
    throw new NetconfError(
      "NETCONF_BAD_SYSCTL_KEY",
      `${JSON.stringify(key)} is not a sysctl key (write e.g. net.ipv4.conf.all.arp_ignore)`,
      { object: String(key) },
    );
  }
  const slashForm = key.includes("/") && !key.includes(".") ? true : key.startsWith("net/");
  const parts = slashForm ? key.split("/") : key.split(".").map((p) => p.replaceAll("/", "."));
  if (parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new NetconfError(
      "NETCONF_BAD_SYSCTL_KEY",
      `${JSON.stringify(key)} has an empty or relative component`,
      {
        object: key,
      },
    );
  }
  return `/proc/sys/${parts.join("/")}`;
}

/** The dotted key for an interface's conf entry: ("ipv4", "eth0.100", "rp_filter") → net.ipv4.conf.eth0/100.rp_filter */
export function confKey(family: "ipv4" | "ipv6", dev: string, name: string): string {
  return `net.${family}.conf.${dev.replaceAll(".", "/")}.${name}`;
}

/** The value as the kernel prints it, without the trailing newline; undefined when the key does not exist. */
export function readSysctlSync(key: string, opts: { netns?: string } = {}): string | undefined {
  const path = sysctlPath(key);
  return withNetnsOrThrow(opts.netns, () => {
    try {
      return readFileSync(path, "utf8").replace(/\n$/, "");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      throw wrapError("NETCONF_SYSCTL_READ", `cannot read ${key}${inNs(opts.netns)}`, err, {
        object: key,
        file: path,
        ...(opts.netns === undefined ? {} : { netns: opts.netns }),
      });
    }
  });
}

export function writeSysctlSync(key: string, value: string | number, opts: { netns?: string } = {}): void {
  const path = sysctlPath(key);
  const text = String(value);
  if (text.includes("\n")) {
    throw new NetconfError("NETCONF_SYSCTL_WRITE", `value for ${key} holds a newline`, { object: key });
  }
  withNetnsOrThrow(opts.netns, () => {
    try {
      writeFileSync(path, text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw wrapError(
        code === "ENOENT" ? "NETCONF_SYSCTL_MISSING" : "NETCONF_SYSCTL_WRITE",
        code === "ENOENT"
          ? `no sysctl ${key}${inNs(opts.netns)} (interface or module missing?)`
          : `cannot write ${JSON.stringify(text)} to ${key}${inNs(opts.netns)}`,
        err,
        { object: key, file: path, ...(opts.netns === undefined ? {} : { netns: opts.netns }) },
      );
    }
  });
}

/** readSysctlSync as a promise (the contract's shape; the work is one synchronous read). */
export async function readSysctl(key: string, opts: { netns?: string } = {}): Promise<string | undefined> {
  return readSysctlSync(key, opts);
}

export async function writeSysctl(
  key: string,
  value: string | number,
  opts: { netns?: string } = {},
): Promise<void> {
  writeSysctlSync(key, value, opts);
}

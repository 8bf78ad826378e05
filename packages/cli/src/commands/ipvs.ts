// lvsctl ipvs <ipvsadm arguments>: ipvsadm 1.31's command line and output (@lvs/ipvsadm).
// Every argument after `ipvs` is passed through untouched (ipvsadm's own getopt rules apply).
// LVSCTL_NETNS=<name|path> runs it against the IPVS table of that network namespace.
// `--set tcp tcpfin udp` and `-L --timeout` go to a running director on the userspace proxy when
// one answers on its API socket (default, or $LVSCTL_SOCKET): its idle timeouts are the proxy's,
// not the kernel's.
import { readFileSync } from "node:fs";
import { DirectorClient, DirectorError, defaultSocketPath } from "@lvs/director";
import { IpvsClient, IpvsError, readConnectionsFile } from "@lvs/ipvs";
import {
  formatTimeouts,
  hasOption,
  isExit,
  parseIpvsadm,
  runIpvsadm,
  systemNames,
  systemServiceByName,
} from "@lvs/ipvsadm";
import type { Command } from "commander";
import { missingNativeAddon } from "../native-addon.js";

/**
 * The timeouts of a director running on the proxy dataplane: set them (`set`) and/or answer
 * ipvsadm's output for them; undefined when no director answers or it runs on the kernel's IPVS
 * (then the kernel is asked, as ipvsadm would).
 */
async function proxyTimeouts(set: { tcp: number; tcpFin: number; udp: number } | undefined) {
  const api = new DirectorClient({
    socketPath: process.env.LVSCTL_SOCKET || defaultSocketPath(),
    timeoutMs: 5_000,
  });
  let now: Awaited<ReturnType<DirectorClient["timeouts"]>>;
  try {
    now = await api.timeouts();
  } catch (err) {
    if (err instanceof DirectorError) return undefined; // no director here, or an older one
    throw err;
  }
  if (now.dataplane !== "proxy") return undefined;
  if (set) {
    await api.setTimeouts(set);
    return "";
  }
  return formatTimeouts(now);
}

export function register(program: Command): void {
  program
    .command("ipvs")
    .description("ipvsadm-compatible: same options, same output (lvsctl ipvs -Ln, -Sn, -R < rules ...)")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[args...]", "ipvsadm arguments")
    .action(async (args: string[]) => {
      const netns = process.env.LVSCTL_NETNS || undefined;
      // Wrong arguments are reported without touching the kernel.
      const pre = args.length
        ? parseIpvsadm(args, { program: "lvsctl ipvs", serviceByName: systemServiceByName })
        : undefined;
      if (pre && isExit(pre)) {
        process.stdout.write(pre.stdout);
        process.stderr.write(pre.stderr);
        process.exitCode = pre.exit;
        return;
      }
      if (
        pre &&
        !netns &&
        (pre.command === "TIMEOUT" || (pre.command === "LIST" && hasOption(pre, "timeout")))
      ) {
        const answered = await proxyTimeouts(pre.command === "TIMEOUT" ? pre.timeouts : undefined);
        if (answered !== undefined) {
          process.stdout.write(answered);
          return;
        }
      }
      let client: IpvsClient;
      try {
        client = await IpvsClient.open({ ...(netns ? { netns } : {}) });
      } catch (err) {
        const native = missingNativeAddon(err);
        if (native) {
          process.stderr.write(`lvsctl: ${native.message}\n`);
          process.exitCode = 1;
          return;
        }
        const why = err instanceof IpvsError ? err.message : String(err);
        process.stderr.write(
          `Can't initialize ipvs: ${why}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n`,
        );
        process.exitCode = 2;
        return;
      }
      try {
        const r = await runIpvsadm(args, {
          client,
          program: "lvsctl ipvs",
          names: systemNames(),
          serviceByName: systemServiceByName,
          stdin: () => readFileSync(0, "utf8"),
          readConnections: () => readConnectionsFile(netns),
        });
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.exit;
      } finally {
        client.close();
      }
    });
}

// lvsctl ipvs <ipvsadm arguments>: ipvsadm 1.31's command line and output (@lvs/ipvsadm).
// Every argument after `ipvs` is passed through untouched (ipvsadm's own getopt rules apply).
// LVSCTL_NETNS=<name|path> runs it against the IPVS table of that network namespace.
import { readFileSync } from "node:fs";
import { IpvsClient, IpvsError, readConnectionsFile } from "@lvs/ipvs";
import { isExit, parseIpvsadm, runIpvsadm, systemNames, systemServiceByName } from "@lvs/ipvsadm";
import type { Command } from "commander";
import { missingNativeAddon } from "../native-addon.js";

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

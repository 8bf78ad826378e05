// keepalived.conf parsing under the fuzz driver (tools/fuzz.mjs; the unit tier runs
// fuzz.test.ts): the golden configurations mutated as text (keywords, braces, quotes, $PARAM,
// includes, lines duplicated or cut). Includes read an in-memory file system only.
import { readdirSync, readFileSync } from "node:fs";
import { type FuzzTarget, textMutator } from "@lvs/testkit";
import { ConfigError, lookupFromFiles, memoryFs, parseKeepalivedConf } from "../src/index.js";

const golden = new URL("./fixtures/golden/", import.meta.url);
export const configSeeds: Uint8Array[] = readdirSync(golden)
  .filter((f) => f.endsWith(".conf"))
  .sort()
  .map((f) => new Uint8Array(readFileSync(new URL(f, golden))));

const users = lookupFromFiles("root:x:0:0:root:/root:/bin/bash\n", "root:x:0:\n");
const fs = memoryFs({ "/etc/keepalived/inc.conf": "vrrp_script chk { script /bin/true }\n" });

const TOKENS = [
  "{",
  "}",
  "{\n",
  "}\n",
  '"',
  "'",
  "#",
  "!",
  "\\",
  "\n",
  " ",
  "$X=1\n",
  "$X",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
  "${X}",
  "@lb1 ",
  "~SEQ(a,1,3)",
  "include /etc/keepalived/inc.conf\n",
  "include /etc/keepalived/*.conf\n",
  "vrrp_instance VI {\n",
  "virtual_server 10.0.0.1 80 {\n",
  "real_server 10.0.0.2 80 {\n",
  "TCP_CHECK {\n",
  "HTTP_GET {\n",
  "url {\n",
  "virtual_ipaddress {\n",
  "track_script {\n",
  "priority ",
  "weight ",
  "-1",
  "0",
  "255",
  "65536",
  "300",
  "10.0.0.1",
  "fd00::1",
  "10.0.0.1/33",
  "lb_kind ",
  "TUN",
  "NAT",
  "DR",
  "fwmark ",
  "group ",
  "unicast_peer {\n",
  "authentication {\n",
  "lvs_sync_daemon ",
  "sorry_server ",
  "misc_path ",
  "status_code ",
  "delay_loop ",
];

export const fuzzTargets: FuzzTarget[] = [
  {
    name: "config/keepalived",
    seeds: configSeeds,
    mutate: textMutator(TOKENS),
    decode: (b) =>
      parseKeepalivedConf(Buffer.from(b).toString("latin1"), {
        file: "/etc/keepalived/keepalived.conf",
        fs,
        lookupUser: users,
        configId: "lb1",
      }),
    errorClass: ConfigError,
    // A parsed configuration fills in keepalived's defaults for each block it meets.
    weight: { perByte: 256, base: 65536 },
  },
];

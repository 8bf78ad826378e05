// Time to add (and remove) 1,000 VIPs on lo in a fresh network namespace: @lvs/netconf over one
// rtnetlink socket, @lvs/netconf one call per VIP (a socket each), and iproute2's `ip -batch`
// (the yardstick). Root only. Usage: node bench/vips.mjs [count] [rounds]
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addAddress, RtnlClient, removeAddress } from "../dist/index.js";

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 3);
const ns = `lvsbench-vips-${process.pid}`;
const v4 = Array.from({ length: N }, (_, i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
const v6 = Array.from({ length: N }, (_, i) => `2001:db8:100::${i.toString(16)}`);
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

function ipBatch(lines) {
  const f = join(tmpdir(), `${ns}.batch`);
  writeFileSync(f, `${lines.join("\n")}\n`);
  const t0 = process.hrtime.bigint();
  execFileSync("ip", ["-n", ns, "-batch", f]);
  return ms(t0);
}

const results = {};
const record = (name, v) => {
  results[name] ??= [];
  results[name].push(v);
};

execFileSync("ip", ["netns", "add", ns]);
try {
  execFileSync("ip", ["-n", ns, "link", "set", "lo", "up"]);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [fam, list] of [
      ["IPv4 /32", v4],
      ["IPv6 /128 nodad", v6],
    ]) {
      const c = RtnlClient.open({ netns: ns });
      let t0 = process.hrtime.bigint();
      for (const a of list) await c.addAddress({ dev: "lo", address: a });
      record(`${fam}: add, one client`, ms(t0));
      t0 = process.hrtime.bigint();
      for (const a of list) await c.removeAddress({ dev: "lo", address: a });
      record(`${fam}: remove, one client`, ms(t0));
      c.close();

      t0 = process.hrtime.bigint();
      for (const a of list) await addAddress({ dev: "lo", address: a }, { netns: ns });
      record(`${fam}: add, addAddress() per VIP`, ms(t0));
      t0 = process.hrtime.bigint();
      for (const a of list) await removeAddress({ dev: "lo", address: a }, { netns: ns });
      record(`${fam}: remove, removeAddress() per VIP`, ms(t0));

      const six = fam.startsWith("IPv6");
      record(
        `${fam}: add, ip -batch (yardstick)`,
        ipBatch(list.map((a) => `addr add ${a}/${six ? 128 : 32} dev lo${six ? " nodad" : ""}`)),
      );
      record(
        `${fam}: remove, ip -batch (yardstick)`,
        ipBatch(list.map((a) => `addr del ${a}/${six ? 128 : 32} dev lo`)),
      );
    }
  }
} finally {
  execFileSync("ip", ["netns", "del", ns]);
}

console.log(`${N} VIPs on lo, ${ROUNDS} rounds (min … max ms)`);
for (const [name, v] of Object.entries(results)) {
  console.log(
    `${name.padEnd(44)} ${Math.min(...v)
      .toFixed(1)
      .padStart(8)} … ${Math.max(...v).toFixed(1)}`,
  );
}

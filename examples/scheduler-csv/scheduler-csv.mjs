// @lvs/scheduler alone: which real server would each client get, under Maglev (mh) and source
// hashing (sh), and how many clients move when one real server leaves.
//   node scheduler-csv.mjs clients.csv RIP:PORT [RIP:PORT ...] [--leave RIP:PORT]
import { readFileSync } from "node:fs";
import { Service } from "@lvs/scheduler";

const args = process.argv.slice(2);
const leaveAt = args.indexOf("--leave");
const leaving = leaveAt === -1 ? undefined : args.splice(leaveAt, 2)[1];
const [csv, ...realServers] = args;
const clients = readFileSync(csv, "utf8")
  .trim()
  .split("\n")
  .slice(1) // header: client_ip,client_port
  .map((line) => line.split(","))
  .map(([ip, port]) => ({ clientAddress: ip, clientPort: Number(port) }));

/** Where each client goes with these real servers (hashing schedulers: stateless picks). */
function place(scheduler, servers) {
  const svc = new Service({ scheduler, address: "10.0.0.1", port: 80 });
  // Real servers in the order they were added (as with ipvsadm -a); the model keeps the kernel's
  // list order from that.
  for (const rs of servers) {
    const [address, port] = [rs.slice(0, rs.lastIndexOf(":")), Number(rs.slice(rs.lastIndexOf(":") + 1))];
    svc.addDest({ address, port, weight: 1, forward: "masq" });
  }
  return clients.map((c) => svc.schedule(c)?.endpoint ?? "-");
}

const rows = {};
for (const scheduler of ["mh", "sh"]) {
  const before = place(scheduler, realServers);
  const after = leaving
    ? place(
        scheduler,
        realServers.filter((r) => r !== leaving),
      )
    : before;
  rows[scheduler] = { before, after, moved: before.filter((d, i) => d !== leaving && d !== after[i]).length };
}
console.log(
  ["client", "mh", "sh", ...(leaving ? [`mh without ${leaving}`, `sh without ${leaving}`] : [])].join(","),
);
clients.forEach((c, i) => {
  const cells = [rows.mh.before[i], rows.sh.before[i]];
  if (leaving) cells.push(rows.mh.after[i], rows.sh.after[i]);
  console.log([`${c.clientAddress}:${c.clientPort}`, ...cells].join(","));
});
if (leaving) {
  // Clients of the server that left must move; a consistent hash moves (almost) nobody else.
  console.error(
    `moved besides ${leaving}'s own clients: mh ${rows.mh.moved}, sh ${rows.sh.moved} of ${clients.length}`,
  );
}

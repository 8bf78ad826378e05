import { Service } from "@lvs/scheduler";

export function example(): string[] {
  // ipvsadm -A -t 10.0.0.1:80 -s wrr; ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.x:8080 -m -w W
  const svc = new Service({ scheduler: "wrr", address: "10.0.0.1", port: 80 });
  svc.addDest({ address: "10.0.1.1", port: 8080, weight: 3, forward: "masq" });
  svc.addDest({ address: "10.0.1.2", port: 8080, weight: 1, forward: "masq" });

  const picks: string[] = [];
  for (let i = 0; i < 8; i++) {
    const conn = svc.connect({ clientAddress: "192.0.2.7", clientPort: 40000 + i });
    conn?.establish(); // SYN_RECV → ESTABLISHED: stays in the destination's activeconns
    picks.push(conn ? conn.destEndpoint : "-");
  }
  return picks; // the kernel's order: 10.0.1.2, 10.0.1.1 ×3, 10.0.1.2, 10.0.1.1 ×3
}

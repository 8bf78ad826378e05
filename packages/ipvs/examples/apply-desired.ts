// README example: make the table match a description, with the fewest changes.
import { type ApplyReport, apply, Forward, type IpvsClient } from "@lvs/ipvs";

export async function applyWebService(ipvs: IpvsClient): Promise<ApplyReport> {
  const web = { protocol: 6, address: "10.0.0.1", port: 80 }; // TCP 10.0.0.1:80
  const report = await apply(ipvs, [
    {
      service: { ...web, scheduler: "wlc" },
      dests: [{ address: "10.0.0.2", port: 8080, forward: Forward.MASQ, weight: 2 }],
    },
  ]);
  for (const f of report.failed) console.error(f.error?.code, f.error?.message); // the rest stays applied
  return report;
}

/** Text for operators: what a profile run changed (or would change). Pure. */
import type { ProfileReport } from "./apply.js";
import { describeChange } from "./profile.js";

export function formatReport(r: ProfileReport): string {
  const what = `${r.role}${r.mode ? ` ${r.mode}` : ""}`;
  const n = r.changes.length;
  const lines = [
    r.dryRun
      ? `${what}: dry run, ${n} change${n === 1 ? "" : "s"} would be made`
      : `${what}: ${n} change${n === 1 ? "" : "s"} made`,
  ];
  for (const c of r.changes) lines.push(`  ${describeChange(c)}`);
  for (const u of r.unchanged) lines.push(`  unchanged: ${u}`);
  for (const s of r.skipped) lines.push(`  skipped: ${s.object}: ${s.reason}`);
  for (const note of r.notes) lines.push(`  note: ${note}`);
  if (!r.dryRun) lines.push(`  state: ${r.stateFile}`);
  return `${lines.join("\n")}\n`;
}

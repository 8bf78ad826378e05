// Runs examples/scheduler-csv/scheduler-csv.mjs as a user would and checks what it prints.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const program = fileURLToPath(new URL("../scheduler-csv.mjs", import.meta.url));
const lvsctl = fileURLToPath(new URL("../node_modules/@lvs/cli/dist/bin.cjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "scheduler-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers = Array.from({ length: 10 }, (_, i) => `10.1.0.${i + 1}:80`);
const csv = join(dir, "clients.csv");
const clients = Array.from(
  { length: 2000 },
  (_, i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255},${1024 + i}`,
);
writeFileSync(csv, `client_ip,client_port\n${clients.join("\n")}\n`);

describe("examples/scheduler-csv", () => {
  it("places every client, and when one of ten servers leaves Maglev moves far fewer others than sh", async () => {
    const leaving = "10.1.0.4:80";
    const { stdout, stderr } = await run(process.execPath, [program, csv, ...servers, "--leave", leaving], {
      maxBuffer: 16 << 20,
    });
    const rows = stdout
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","));
    expect(rows).toHaveLength(2000);
    for (const [, mh, sh, mh2, sh2] of rows) {
      for (const d of [mh, sh]) expect(servers).toContain(d);
      for (const d of [mh2, sh2]) expect(servers.filter((s) => s !== leaving)).toContain(d);
    }
    // Each hash spreads the clients over all ten servers.
    for (const col of [1, 2]) expect(new Set(rows.map((r) => r[col])).size).toBe(10);
    const moved = (before: number, after: number) =>
      rows.filter((r) => r[before] !== leaving && r[before] !== r[after]).length;
    const others = rows.filter((r) => r[1] !== leaving).length;
    expect(moved(1, 3) / others).toBeLessThan(0.1); // Maglev: ≈ 1/N of the table changes hands
    expect(moved(2, 4) / others).toBeGreaterThan(0.3); // sh refills its table round-robin
    expect(stderr).toContain(
      `moved besides ${leaving}'s own clients: mh ${moved(1, 3)}, sh ${moved(2, 4)} of 2000`,
    );
  });

  it("gives the shipped CSV's clients what `lvsctl sched pick` gives them", async () => {
    const sample = fileURLToPath(new URL("../clients.csv", import.meta.url));
    const four = servers.slice(0, 4);
    const rows = (await run(process.execPath, [program, sample, ...four])).stdout.trim().split("\n");
    expect(rows[0]).toBe("client,mh,sh");
    const input = rows
      .slice(1)
      .map((r) => r.split(",")[0])
      .join("\n");
    for (const [col, sched] of [
      [1, "mh"],
      [2, "sh"],
    ] as const) {
      const child = execFile(process.execPath, [
        lvsctl,
        "sched",
        "pick",
        "-s",
        sched,
        ...four.flatMap((s) => ["-r", s]),
      ]);
      child.stdin?.end(`${input}\n`);
      let out = "";
      child.stdout?.on("data", (d) => {
        out += d;
      });
      await new Promise((r) => child.on("close", r));
      expect(out.trim().split("\n")).toEqual(rows.slice(1).map((r) => r.split(",")[col]));
    }
  });
});

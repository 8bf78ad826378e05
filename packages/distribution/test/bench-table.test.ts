// The root README's benchmark table stays true: bench/benchmarks.json lists every bench script of
// packages/*/bench (a new script without a row fails here), names only scripts that exist, covers
// every package's bench* scripts, quotes each figure from the README section it links to, and the
// README's table is exactly what tools/bench-table.mjs renders from it.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ROOT, workspacePackages } from "../src/workspace.js";

interface Benchmark {
  id: string;
  package: string;
  script: string;
  cwd: string;
  command: string;
  runsAs: string;
  measures: string;
  peer: string | null;
  ours: string;
  peerFigure: string | null;
  ratio: string | null;
  ratioDerived?: boolean;
  better: "lower" | "higher" | null;
  aim: string | null;
  aimFrom: string | null;
  met: string | null;
  date: string;
  dateFrom: "README" | "commit" | null;
  machine: string;
  readme: string;
  section: string | null;
  evidence: string[];
  note?: string;
}

interface BenchTable {
  START: string;
  END: string;
  spliceReadme(readme: string, table: string): string;
  readBenchmarks(root: string): { benchmarks: Benchmark[]; helpers: { path: string; why: string }[] };
  renderTable(data: unknown, root: string): string;
  currentTable(readme: string): string;
}

const tool = (await import(pathToFileURL(join(ROOT, "tools", "bench-table.mjs")).href)) as BenchTable;
const data = tool.readBenchmarks(ROOT);
const rows = data.benchmarks;
const scripts = new Set(rows.map((b) => b.script));
const helpers = new Set(data.helpers.map((h) => h.path));
const NOT_RECORDED = "not recorded";

/** Every file under packages/<name>/bench/, relative to the repo root. */
function benchFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const f = join(d, e);
      if (statSync(f).isDirectory()) walk(f);
      else out.push(relative(ROOT, f));
    }
  };
  for (const p of workspacePackages()) if (existsSync(join(p.dir, "bench"))) walk(join(p.dir, "bench"));
  return out.sort();
}

/** Whitespace collapsed, so a quote may span the README's line breaks. */
const flat = (s: string): string => s.replace(/\s+/g, " ");

/** The text under a heading, down to the next heading of the same or a higher level. */
function sectionText(readme: string, heading: string): string | undefined {
  const lines = readme.split("\n");
  const start = lines.findIndex((l) => /^#{1,6} /.test(l) && l.replace(/^#+ /, "").trim() === heading);
  if (start < 0) return undefined;
  const level = /^#+/.exec(lines[start] as string)?.[0].length ?? 1;
  let end = start + 1;
  while (end < lines.length) {
    const m = /^(#+) /.exec(lines[end] as string);
    if (m && (m[1] as string).length <= level) break;
    end++;
  }
  return lines.slice(start, end).join("\n");
}

/** The numbers of a figure ("11,245/s (9,967 with `bindto`)" → 11,245 and 9,967). */
const numbers = (s: string): string[] => s.match(/\d+(?:[.,]\d+)*/g) ?? [];

/** Does `text` hold `n` as a whole number (not a piece of a longer one)? */
function holdsNumber(text: string, n: string): boolean {
  const esc = n.replace(/[.,]/g, (c) => `\\${c}`);
  return new RegExp(`(?<![\\d.,])${esc}(?![\\d]|[.,]\\d)`).test(text);
}

/** The package.json of the package a bench script lives in. */
function manifestOf(script: string) {
  const dir = join(ROOT, script.split("/").slice(0, 2).join("/"));
  return workspacePackages().find((p) => p.dir === dir)?.manifest;
}

describe("bench/benchmarks.json against the bench/ directories", () => {
  it("lists every file under packages/*/bench as a benchmark's script or as a helper", () => {
    const files = benchFiles();
    expect(files.length).toBeGreaterThan(0);
    const unlisted = files.filter((f) => !scripts.has(f) && !helpers.has(f));
    expect(unlisted, "bench files with no row (or helpers entry) in bench/benchmarks.json").toEqual([]);
  });

  it("names only files that exist, and no file both as a benchmark and as a helper", () => {
    const missing = [...scripts, ...helpers].filter((f) => !existsSync(join(ROOT, f)));
    expect(missing).toEqual([]);
    expect([...helpers].filter((h) => scripts.has(h))).toEqual([]);
    expect(helpers.size).toBe(data.helpers.length);
  });

  it("covers every bench* script of every package.json, and the script it runs", () => {
    for (const p of workspacePackages()) {
      for (const [name, value] of Object.entries(p.manifest.scripts ?? {})) {
        if (!name.startsWith("bench")) continue;
        const dir = relative(ROOT, p.dir);
        expect(
          rows.some((b) => b.package === p.manifest.name),
          `${p.manifest.name} has "${name}" but no row`,
        ).toBe(true);
        for (const path of value.match(/bench\/[\w./-]+\.(?:mjs|js|ts)/g) ?? []) {
          expect(scripts.has(`${dir}/${path}`), `${p.manifest.name} "${name}" runs ${path}`).toBe(true);
        }
      }
    }
  });
});

describe.each(rows.map((b) => [b.id, b] as const))("row %s", (_id, b) => {
  it("has a unique id and belongs to the package whose bench/ holds its script", () => {
    expect(b.id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    expect(rows.filter((r) => r.id === b.id)).toHaveLength(1);
    expect(b.script).toMatch(/^packages\/[\w-]+\/bench\//);
    expect(manifestOf(b.script)?.name).toBe(b.package);
    expect(b.readme).toMatch(/^packages\/[\w-]+\/README\.md$/);
    expect(existsSync(join(ROOT, b.readme))).toBe(true);
    expect(b.cwd === "." || b.script.startsWith(`${b.cwd}/`), `cwd ${b.cwd}`).toBe(true);
  });

  it("has a command that runs its script", () => {
    if (b.command.includes(basename(b.script))) return;
    // `pnpm bench`, `pnpm --filter @lvs/x bench:relay`: the package script must run the file.
    const m = /pnpm (?:--filter \S+ )?(bench(?::[\w-]+)?)\b/.exec(b.command);
    expect(m, `${b.command} names neither ${basename(b.script)} nor a bench script`).not.toBeNull();
    const body = manifestOf(b.script)?.scripts?.[m?.[1] as string] ?? "";
    expect(body, `package script ${m?.[1]}`).toContain(b.script.split("/").slice(2).join("/"));
  });

  it("keeps its fields consistent (peer, ratio and direction; aim and verdict; date)", () => {
    expect(["host", "host, root", "host (root for the peer)", "VM"]).toContain(b.runsAs);
    if (b.ratio !== null) {
      expect(b.peer && b.peerFigure, "a ratio needs a peer and its figure").toBeTruthy();
      expect(["lower", "higher"]).toContain(b.better);
      expect(b.ratio).toMatch(/×$/);
    } else {
      expect(b.better).toBeNull();
      expect(b.ratioDerived).toBeFalsy();
    }
    if (b.aim !== null) {
      expect(b.met, "an aim needs a verdict").toBeTruthy();
      expect(["issue 20", "README"]).toContain(b.aimFrom);
    } else {
      expect(b.met).toBeNull();
    }
    if (b.ours === NOT_RECORDED) {
      expect(b.date).toBe(NOT_RECORDED);
    } else {
      expect(b.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(["README", "commit"]).toContain(b.dateFrom);
    }
  });

  it("quotes its figures from the README section it links to", () => {
    if (b.section === null) {
      expect(b.ours).toBe(NOT_RECORDED);
      return;
    }
    const readme = readFileSync(join(ROOT, b.readme), "utf8");
    const text = sectionText(readme, b.section);
    expect(text, `${b.readme} has no heading "${b.section}"`).toBeDefined();
    const section = flat(text as string);
    for (const quote of b.evidence) expect(section, "evidence").toContain(flat(quote));
    if (b.ours === NOT_RECORDED) return;
    expect(b.evidence.length).toBeGreaterThan(0);
    if (b.dateFrom === "README") expect(section, "the date the README gives").toContain(b.date);
    const figures = [b.ours, b.peerFigure ?? "", b.ratioDerived ? "" : (b.ratio ?? "")];
    for (const n of figures.flatMap(numbers)) {
      expect(holdsNumber(section, n), `${n} (from "${figures.join('", "')}") is not in the section`).toBe(
        true,
      );
    }
  });

  if (b.ratioDerived && [b.ours, b.peerFigure, b.ratio].every((s) => numbers(s ?? "").length === 1)) {
    it("computes its derived ratio from its two figures", () => {
      const [o, p, r] = [b.ours, b.peerFigure, b.ratio].map((s) =>
        Number(numbers(s ?? "")[0]?.replace(/,/g, "")),
      );
      expect(Math.abs((o as number) / (p as number) - (r as number))).toBeLessThan(0.01);
    });
  }
});

describe("README.md's Benchmarks section", () => {
  it("holds exactly what tools/bench-table.mjs renders from bench/benchmarks.json", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(tool.currentTable(readme), "run `node tools/bench-table.mjs`").toBe(tool.renderTable(data, ROOT));
  });
});

describe("tools/bench-table.mjs on bad input", () => {
  it("replaces only what lies between the markers, and names them when they are missing", () => {
    const readme = `# x\n\n${tool.START}\nold\n${tool.END}\n\nafter\n`;
    expect(tool.spliceReadme(readme, "new")).toBe(`# x\n\n${tool.START}\nnew\n${tool.END}\n\nafter\n`);
    expect(() => tool.spliceReadme("# x\n", "new")).toThrow(
      expect.objectContaining({ code: "BENCH_TABLE_MARKERS" }),
    );
    expect(() => tool.currentTable(`${tool.END}${tool.START}`)).toThrow(
      expect.objectContaining({ code: "BENCH_TABLE_MARKERS" }),
    );
  });

  it("refuses an unreadable file or a row without a required field, naming the row and the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-table-"));
    try {
      mkdirSync(join(dir, "bench"));
      writeFileSync(join(dir, "bench", "benchmarks.json"), "{ not json");
      expect(() => tool.readBenchmarks(dir)).toThrow(expect.objectContaining({ code: "BENCH_TABLE_READ" }));
      const row = { ...rows[0], command: "" };
      writeFileSync(
        join(dir, "bench", "benchmarks.json"),
        JSON.stringify({ benchmarks: [row], helpers: [] }),
      );
      expect(() => tool.readBenchmarks(dir)).toThrow(
        expect.objectContaining({
          code: "BENCH_TABLE_FIELD",
          context: expect.objectContaining({ field: "command" }),
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// mallocTrim and execProcess: the built addon has them, and they do what they say.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { execProcess, heapMemoryPressure, mallocTrim, SysError } from "../src/index.js";
import { native } from "../src/native.js";

const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe("mallocTrim", () => {
  it("is in the built addon and returns whether glibc gave pages back", () => {
    expect(typeof native().mallocTrim).toBe("function");
    expect(typeof mallocTrim()).toBe("boolean");
    expect(typeof mallocTrim()).toBe("boolean"); // twice: nothing left to give is not an error
  });
});

// A heap with a peak behind it: 4 million objects made, one in ten kept, spread over every page.
// An ordinary full GC (gc()) frees the garbage but leaves the pages committed, ~9/10 empty; the
// pressure signal must give them back. Then 3 s at most of small allocations on timers (what a
// daemon does), for an incremental collection to finish. The control ("none") shows the same
// program keeps its pages without the signal. In a child process, so the test runner's own heap
// does not blur the figures.
const fragmentedHeap = (level: string) => `
  import { heapMemoryPressure } from ${JSON.stringify(built)};
  const keep = [];
  let junk = [];
  for (let r = 0; r < 40; r++) {
    for (let i = 0; i < 100000; i++) {
      const o = { a: i, b: String(i) };
      if (i % 10 === 0) keep.push(o); else junk.push(o);
    }
    junk = [];
  }
  gc();
  const total = () => process.memoryUsage().heapTotal;
  const before = total();
  const called = heapMemoryPressure(${JSON.stringify(level)});
  const t0 = Date.now();
  while (total() > before * 0.8 && Date.now() - t0 < 3000) {
    await new Promise((r) => setTimeout(r, 5));
    junk.push({ t: Date.now() });
    if (junk.length > 1000) junk = [];
  }
  console.log(JSON.stringify({ called, before, after: total(), kept: keep.length }));`;

const runHeap = (level: string) => {
  const r = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", fragmentedHeap(level)], {
    encoding: "utf8",
  });
  expect(r.stderr).toBe("");
  const out = JSON.parse(r.stdout) as { called: boolean; before: number; after: number; kept: number };
  expect(out.called).toBe(true);
  expect(out.kept).toBe(400000);
  return out;
};

describe("heapMemoryPressure", () => {
  it("is in the built addon", () => {
    expect(typeof native().memoryPressure).toBe("function");
  });

  it.each([
    "critical",
    "moderate",
  ])("'%s' gives back the committed pages a peak left (heap total down by a fifth or more)", (level) => {
    const out = runHeap(level);
    expect(out.after).toBeLessThan(out.before * 0.8);
  });

  it("without the signal ('none') the same heap keeps its pages", () => {
    const out = runHeap("none");
    expect(out.after).toBeGreaterThan(out.before * 0.9);
  });
});

describe("execProcess", () => {
  it("replaces the process: same PID, the argv and env given", () => {
    const script = `
      import { execProcess } from ${JSON.stringify(built)};
      console.log("before " + process.pid);
      execProcess("/bin/sh", ["sh", "-c", 'echo "after $$ $LVS_EXEC_TEST $0"', "zero"], { LVS_EXEC_TEST: "carried" });`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    const [before, after] = r.stdout.trim().split("\n");
    const pid = before?.split(" ")[1];
    expect(pid).toMatch(/^\d+$/);
    expect(after).toBe(`after ${pid} carried zero`);
  });

  it("throws SYS_EXEC with the errno when the file cannot be run, and the process goes on", () => {
    const err = (() => {
      try {
        execProcess("/nonexistent/lvs-exec-test", ["x"], {});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SysError);
    expect(err).toMatchObject({
      code: "SYS_EXEC",
      context: { errnoName: "ENOENT", object: "/nonexistent/lvs-exec-test" },
    });
  });
});

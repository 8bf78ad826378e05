// mallocTrim and execProcess: the built addon has them, and they do what they say.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { execProcess, mallocTrim, SysError } from "../src/index.js";
import { native } from "../src/native.js";

const built = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe("mallocTrim", () => {
  it("is in the built addon and returns whether glibc gave pages back", () => {
    expect(typeof native().mallocTrim).toBe("function");
    expect(typeof mallocTrim()).toBe("boolean");
    expect(typeof mallocTrim()).toBe("boolean"); // twice: nothing left to give is not an error
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

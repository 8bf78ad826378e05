// The VRRP child's scheduling priority: what a configuration asks for (keepalived's
// vrrp_priority / vrrp_rt_priority, lvs's default as root), and renicing every thread of a real
// process (raising a nice value needs no privilege, so this runs as any user).
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_VRRP_NICE, processThreads, setProcessNice, vrrpSchedulingFromConfig } from "../src/index.js";

describe("vrrpSchedulingFromConfig", () => {
  it("as root without vrrp_priority: lvs's default nice, no realtime", () => {
    expect(vrrpSchedulingFromConfig({}, { root: true })).toEqual({ nice: DEFAULT_VRRP_NICE });
    expect(DEFAULT_VRRP_NICE).toBeLessThan(0);
  });
  it("not root: unchanged (a process may not lower its own nice value)", () => {
    expect(vrrpSchedulingFromConfig({}, { root: false })).toEqual({});
  });
  it("the file's values win, vrrp_priority 0 included (keepalived's own default)", () => {
    expect(vrrpSchedulingFromConfig({ vrrpPriority: 0 }, { root: true })).toEqual({ nice: 0 });
    expect(vrrpSchedulingFromConfig({ vrrpPriority: -15, vrrpRtPriority: 30 }, { root: false })).toEqual({
      nice: -15,
      realtime: 30,
    });
  });
});

describe("setProcessNice", () => {
  it("sets every thread of a node process, not only its main thread", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      const pid = child.pid as number;
      await expect.poll(() => processThreads(pid).length, { timeout: 5000 }).toBeGreaterThan(1);
      expect(setProcessNice(pid, 7)).toEqual([]);
      const nices = readdirSync(`/proc/${pid}/task`).map((tid) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
      });
      expect(nices.length).toBeGreaterThan(1);
      expect(nices.every((n) => n === 7)).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });
  it("a process that does not exist: no throw, nothing to report", () => {
    expect(setProcessNice(2 ** 22 + 12345, 5)).toEqual([]);
  });
});

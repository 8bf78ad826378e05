/// <reference lib="dom" />
// The status page in a real browser: Debian's chromium driven by playwright-core (no browser
// download; tools/host-deps installs chromium), against a director on the userspace proxy
// dataplane with real backends. Screenshots go to test-results/ (the README shows one).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebState } from "../src/web-state.js";
import { type Rig, startRig, waitFor } from "./web-rig.js";

const CHROMIUM = process.env.LVS_CHROMIUM ?? "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
// CI installs chromium (tools/host-deps): there, a missing browser is a failure, not a skip.
if (!present && process.env.CI) throw new Error(`${CHROMIUM} missing: run tools/host-deps as root`);
const shots = join(import.meta.dirname, "..", "test-results");

describe.skipIf(!present)("the status page in chromium", () => {
  let browser: Browser;
  let rig: Rig;
  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    [browser, rig] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] }),
      startRig(),
    ]);
    // Every backend has been checked once (the page then has something to show).
    await waitFor(async () => {
      const s = (await (await fetch(`${rig.base}/api/state`)).json()) as WebState;
      return s.virtualServers[0]?.realServers.every((x) => x.history.checks.length > 0) ?? false;
    }, "first checks");
  });
  afterAll(async () => {
    await browser?.close();
    await rig?.stop();
  });

  it("reads with JavaScript off: every service and real server with its state, no actions", async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    const res = await page.goto(`${rig.base}/`);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
    await expect.poll(() => page.locator(`section.vs[data-vs="${rig.vsKey}"]`).count()).toBe(1);
    for (const b of rig.backends) {
      const row = page.locator(`tr[data-rs="127.0.0.1:${b.port}"]`);
      expect(await row.getAttribute("data-state")).toBe("up");
      expect(await row.locator("svg.spark path.ok").count()).toBe(1);
    }
    expect(await page.locator("#dataplane").textContent()).toBe("proxy");
    expect(await page.locator("button.act").first().isVisible()).toBe(false);
    expect(await page.locator("#conn").textContent()).toContain("static");
    await ctx.close();
  });

  it("with JavaScript on: live over SSE — a killed backend turns down without a reload", async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${rig.base}/`);
    await page.locator("#conn.live").waitFor({ timeout: 10_000 });
    const victim = rig.backends[2];
    if (!victim) throw new Error("no backend");
    const row = () => page.locator(`tr[data-rs="127.0.0.1:${victim.port}"]`);
    const checks = async () => Number((await row().locator(".spark-n").textContent())?.split("/")[1]);
    const before = await checks();
    await victim.kill();
    await page.waitForFunction(
      (sel) => document.querySelector(sel)?.getAttribute("data-state") === "down",
      `tr[data-rs="127.0.0.1:${victim.port}"]`,
      { timeout: 15_000 },
    );
    // The history shows the failed checks and the transition with its reason.
    expect(await row().locator("svg.spark path.ko").count()).toBe(1);
    expect(await checks()).toBeGreaterThan(before);
    expect(await row().locator("details.tl li").first().textContent()).toMatch(/up→down.*TCP_CHECK/);
    // Read-only without the token: no action button shows, and a POST from the page is refused.
    expect(await page.locator("button.act").first().isVisible()).toBe(false);
    const status = await page.evaluate(
      async ([vs, rs]) =>
        (
          await fetch("/drain", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ virtualServer: vs, realServer: rs }),
          })
        ).status,
      [`127.0.0.1:${rig.vport}`, `127.0.0.1:${rig.backends[0]?.port}`],
    );
    expect(status).toBe(401);
    expect(violations).toEqual([]);
    await page.screenshot({ path: join(shots, "status-page.png"), fullPage: true });
    await ctx.close();
  });

  it("with the token (Authorization header): drain sets the weight to 0 on the dataplane, weight sets it", async () => {
    const ctx = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${rig.token}` } });
    const page = await ctx.newPage();
    await page.goto(`${rig.base}/`);
    const target = rig.backends[0];
    if (!target) throw new Error("no backend");
    const drain = page.locator(`tr[data-rs="127.0.0.1:${target.port}"] button[data-op="drain"]`);
    await drain.waitFor({ state: "visible", timeout: 10_000 });
    await drain.click();
    await waitFor(async () => {
      const [svc] = await rig.dataplane.read();
      const d = svc?.dests.find((x) => x.port === target.port);
      return d === undefined || d.weight === 0;
    }, "weight 0 on the proxy");
    await page.waitForFunction(
      (sel) => /^drain/.test(document.querySelector(sel)?.getAttribute("data-state") ?? ""),
      `tr[data-rs="127.0.0.1:${target.port}"]`,
      { timeout: 10_000 },
    );
    expect(await page.locator("#msg").textContent()).toContain("drain");

    // Weight through the page's prompt: garbage is refused in the page, a number reaches the proxy.
    const other = rig.backends[1];
    if (!other) throw new Error("no backend");
    const weight = page.locator(`tr[data-rs="127.0.0.1:${other.port}"] button[data-op="weight"]`);
    page.once("dialog", (d) => void d.accept("abc"));
    await weight.click();
    await expect.poll(() => page.locator("#msg").textContent()).toContain("whole number");
    page.once("dialog", (d) => void d.accept("7"));
    await weight.click();
    await waitFor(async () => {
      const [svc] = await rig.dataplane.read();
      return svc?.dests.find((x) => x.port === other.port)?.weight === 7;
    }, "weight 7 on the proxy");
    await ctx.close();
  });

  it("a narrow (phone) viewport stays readable: no sideways scrolling of the page", async () => {
    const ctx = await browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2 });
    const page = await ctx.newPage();
    await page.goto(`${rig.base}/`);
    const { scroll, width } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
    }));
    expect(scroll).toBeLessThanOrEqual(width);
    const fontPx = await page.evaluate(() => Number.parseFloat(getComputedStyle(document.body).fontSize));
    expect(fontPx).toBeGreaterThanOrEqual(12);
    await page.screenshot({ path: join(shots, "status-page-narrow.png"), fullPage: true });
    await ctx.close();
  });
});

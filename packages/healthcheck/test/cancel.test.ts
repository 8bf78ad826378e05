// ProbeOptions.cancel: the runner's light cancellation (a flag and the attempts in flight),
// watched by every built-in checker through Attempt, instead of an AbortSignal per check.
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { probe } from "../src/checkers/index.js";
import { Attempt, CheckCancel } from "../src/checkers/util.js";

describe("CheckCancel", () => {
  it("settles every attempt in flight as cancelled, and each later one at once", async () => {
    const cancel = new CheckCancel();
    const a = new Attempt(30, { cancel });
    const b = new Attempt(30, { cancel });
    cancel.cancel();
    expect(await a.promise).toMatchObject({ up: false, reason: "cancelled" });
    expect(await b.promise).toMatchObject({ up: false, reason: "cancelled" });
    const late = new Attempt(30, { cancel });
    expect(await late.promise).toMatchObject({ up: false, reason: "cancelled" });
  });

  it("leaves an attempt that settled before the cancel alone", async () => {
    const cancel = new CheckCancel();
    const a = new Attempt(30, { cancel });
    a.up("connected");
    cancel.cancel();
    expect(await a.promise).toMatchObject({ up: true, reason: "connected" });
  });

  it("prefers the cancel to a signal (and never aborts through the signal)", async () => {
    const cancel = new CheckCancel();
    const controller = new AbortController();
    const a = new Attempt(30, { cancel, signal: controller.signal });
    controller.abort();
    await new Promise((r) => setTimeout(r, 10));
    expect(a.done).toBe(false);
    cancel.cancel();
    expect(await a.promise).toMatchObject({ reason: "cancelled" });
  });

  describe("with a real probe in flight", () => {
    let server: Server | undefined;
    afterEach(() => server?.close());

    it("an HTTP_GET waiting for an answer is cancelled, and its connection closed", async () => {
      // A loopback server that accepts and never answers: the probe waits on the response.
      let closed: Promise<void> | undefined;
      server = createServer((socket) => {
        closed = new Promise((r) => socket.on("close", () => r()));
        socket.resume(); // read, so the client's close is seen
      });
      await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
      const port = (server.address() as { port: number }).port;
      const cancel = new CheckCancel();
      const pending = probe(
        { type: "http", connectIp: "127.0.0.1", connectPort: port, connectTimeout: 30, url: [{ path: "/" }] },
        { cancel },
      );
      while (!closed) await new Promise((r) => setTimeout(r, 5));
      cancel.cancel();
      expect(await pending).toMatchObject({ up: false, reason: "cancelled" });
      await closed; // the checker's socket went with the cancel
    });
  });
});

// The client's robustness logic against a stand-in kernel (the real one is in client.kernel.test.ts).
import { EventEmitter } from "node:events";
import { FakeClock } from "@lvs/inet";
import { describe, expect, it } from "vitest";
import { IpvsClient, type NetlinkSocketLike } from "../src/client.js";
import { decodeIpvsMessage, encodeIpvsMessage } from "../src/codec.js";
import {
  IpvsCmd,
  NLM_F_ACK,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
} from "../src/constants.js";
import { Msg } from "../src/model.js";
import { encodeNlMsg, type NlMsg, parseNlMsgs } from "../src/netlink.js";

const FAMILY = 0x20;

/** A scripted kernel: `answer` gets each request and returns the datagrams to send back. */
class FakeKernel extends EventEmitter {
  writes: NlMsg[][] = [];
  constructor(private readonly answer: (m: NlMsg, k: FakeKernel) => Uint8Array[]) {
    super();
  }
  send(buf: Uint8Array, _opts: unknown, cb?: (err?: unknown) => void): void {
    const msgs = parseNlMsgs(new Uint8Array(buf));
    this.writes.push(msgs);
    const replies = msgs.flatMap((m) => this.answer(m, this));
    queueMicrotask(() => {
      cb?.();
      for (const r of replies) this.emit("message", Buffer.from(r));
    });
  }
  ref(): void {}
  unref(): void {}
  close(): void {}
}

const ack = (m: NlMsg, errno = 0): Uint8Array => {
  const p = new Uint8Array(4 + 16);
  const v = new DataView(p.buffer);
  v.setInt32(0, -errno, true);
  v.setUint32(4 + 8, m.seq, true);
  return encodeNlMsg({ type: NLMSG_ERROR, flags: 0, seq: m.seq, pid: 0, payload: p });
};
const done = (m: NlMsg): Uint8Array =>
  encodeNlMsg({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: m.seq, pid: 0, payload: new Uint8Array(4) });
const svcPart = (m: NlMsg, port: number, flags = 0): Uint8Array =>
  encodeNlMsg({
    type: FAMILY,
    flags: NLM_F_MULTI | flags,
    seq: m.seq,
    pid: 0,
    payload: encodeIpvsMessage(Msg.newService({ protocol: 6, address: "10.0.0.1", port, scheduler: "rr" })),
  });
const client = (k: FakeKernel, opts = {}) =>
  IpvsClient.fromSocket(k as unknown as NetlinkSocketLike, FAMILY, opts);

describe("IpvsClient robustness", () => {
  it("a request the kernel never answers fails with IPVS_TIMEOUT (no hang)", async () => {
    const clock = new FakeClock(1_000);
    const c = client(new FakeKernel(() => []), { timeoutMs: 500, clock });
    const p = c.flush().catch((e: unknown) => e);
    let settled = false;
    void p.then(() => {
      settled = true;
    });
    clock.advance(499);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await p).toMatchObject({ code: "IPVS_TIMEOUT", command: "FLUSH" });
    expect(clock.pending).toBe(0);
  });

  it("a dump times out on silence between parts, not on its total length", async () => {
    const clock = new FakeClock();
    const k = new FakeKernel((m) => [svcPart(m, 80)]);
    const p = client(k, { timeoutMs: 500, clock })
      .services()
      .catch((e: unknown) => e);
    let settled = false;
    void p.then(() => {
      settled = true;
    });
    const tick = () => new Promise((r) => setImmediate(r));
    await tick();
    const request = k.writes[0]?.[0] as NlMsg;
    clock.advance(400);
    k.emit("message", Buffer.from(svcPart(request, 81))); // a part re-arms the timer
    await tick();
    clock.advance(400);
    await tick();
    expect(settled).toBe(false);
    clock.advance(100);
    expect(await p).toMatchObject({ code: "IPVS_TIMEOUT", command: "GET_SERVICE" });
  });

  it("kernel errno → IpvsError naming the object, errno kept", async () => {
    const c = client(new FakeKernel((m) => [ack(m, 17)]));
    await expect(c.addService({ protocol: 6, address: "10.0.0.1", port: 80 })).rejects.toMatchObject({
      name: "IpvsError",
      code: "IPVS_EEXIST_SERVICE",
      errno: 17,
      errnoName: "EEXIST",
      object: "TCP 10.0.0.1:80",
      command: "NEW_SERVICE",
    });
  });

  it("a dump flagged NLM_F_DUMP_INTR is thrown away and redone", async () => {
    let dumps = 0;
    const k = new FakeKernel((m) => {
      dumps++;
      if (dumps === 1) return [svcPart(m, 80, NLM_F_DUMP_INTR), done(m)];
      return [svcPart(m, 80), svcPart(m, 81), done(m)];
    });
    const services = await client(k).services();
    expect(dumps).toBe(2);
    expect(services.map((s) => s.port)).toEqual([80, 81]);
  });

  it("a dump that stays inconsistent fails with IPVS_DUMP_INTERRUPTED, never half-trusted", async () => {
    const k = new FakeKernel((m) => [svcPart(m, 80, NLM_F_DUMP_INTR), done(m)]);
    await expect(client(k, { dumpRetries: 2 }).services()).rejects.toMatchObject({
      code: "IPVS_DUMP_INTERRUPTED",
    });
    expect(k.writes).toHaveLength(3);
  });

  it("batch: many requests per write, bounded window, ACKs matched by sequence number", async () => {
    // fail every 10th; like netlink_rcv_skb, answer only failures and NLM_F_ACK requests, in order
    const k = new FakeKernel(() => []);
    let n = 0;
    let answers = 0;
    k.send = function (buf: Uint8Array, _o: unknown, cb?: (err?: unknown) => void) {
      const msgs = parseNlMsgs(new Uint8Array(buf));
      this.writes.push(msgs);
      const replies = msgs.flatMap((m) => {
        const errno = n++ % 10 === 9 ? 17 : 0;
        return errno || m.flags & NLM_F_ACK ? [ack(m, errno)] : [];
      });
      answers += replies.length;
      queueMicrotask(() => {
        cb?.();
        for (const r of replies) this.emit("message", Buffer.from(r));
      });
    };
    const ops = Array.from({ length: 300 }, (_, i) => ({
      op: "addService" as const,
      service: { protocol: 6, address: "10.0.0.1", port: i + 1 },
    }));
    const results = await client(k, { window: 64 }).batch(ops);
    expect(results).toHaveLength(300);
    expect(results.filter((r) => r.error).length).toBe(30);
    expect(Math.max(...k.writes.map((w) => w.length))).toBeLessThanOrEqual(64);
    expect(k.writes.length).toBeGreaterThan(1);
    expect(k.writes.some((w) => w.length > 1)).toBe(true);
    // one ACK per write plus one error per failure, not one reply per request
    expect(answers).toBeLessThan(30 + k.writes.length + 1);
    // every result belongs to its own operation
    for (const [i, r] of results.entries()) expect(r.operation).toBe(ops[i]);
    // the requests went out in order
    const ports = k.writes.flat().map((m) => decodeIpvsMessage(m.payload).service?.port);
    expect(ports).toEqual(ops.map((o) => o.service.port));
  });

  it("a socket error (ENOBUFS: replies lost) fails everything pending", async () => {
    const k = new FakeKernel(() => []);
    const c = client(k);
    const p = c.flush();
    k.emit("error", Object.assign(new Error("recvmsg"), { errno: -105, code: "ENOBUFS" }));
    await expect(p).rejects.toMatchObject({ code: "IPVS_SOCKET", errno: 105 });
  });

  it("GET_INFO reply decodes", async () => {
    const k = new FakeKernel((m) => [
      encodeNlMsg({
        type: FAMILY,
        flags: 0,
        seq: m.seq,
        pid: 0,
        payload: encodeIpvsMessage({ cmd: IpvsCmd.SET_INFO, info: { version: 0x010201, connTabSize: 4096 } }),
      }),
      ack(m),
    ]);
    expect(await client(k).info()).toEqual({ version: 0x010201, connTabSize: 4096 });
  });

  describe("malformed replies are dropped and counted, never thrown out of the socket handler", () => {
    const errorWithPayload = (seq: number, payload: Uint8Array): Uint8Array =>
      encodeNlMsg({ type: NLMSG_ERROR, flags: 0, seq, pid: 0, payload });

    it("an NLMSG_ERROR too short for its errno: counted; the request still gets its answer", async () => {
      const k = new FakeKernel(() => []);
      const c = client(k);
      const p = c.flush();
      await Promise.resolve();
      const request = k.writes[0]?.[0] as NlMsg;
      expect(() =>
        k.emit("message", Buffer.from(errorWithPayload(request.seq, new Uint8Array(2)))),
      ).not.toThrow();
      expect(c.stats.malformed).toBe(1);
      k.emit("message", Buffer.from(ack(request)));
      await expect(p).resolves.toBeUndefined();
    });

    it("a datagram truncated mid-message: the whole messages before it are answered", async () => {
      const k = new FakeKernel(() => []);
      const c = client(k);
      const first = c.flush();
      const second = c.zero();
      await Promise.resolve();
      const [a, b] = k.writes.flat() as [NlMsg, NlMsg];
      const whole = ack(a);
      const cut = ack(b).subarray(0, 21); // header says 36 bytes, 21 arrive
      const datagram = new Uint8Array(whole.length + cut.length);
      datagram.set(whole);
      datagram.set(cut, whole.length);
      expect(() => k.emit("message", Buffer.from(datagram))).not.toThrow();
      await expect(first).resolves.toBeUndefined();
      expect(c.stats.malformed).toBe(1);
      k.emit("message", Buffer.from(ack(b)));
      await expect(second).resolves.toBeUndefined();
    });

    it("garbage of every short length and a lying length field: no throw, the request times out", async () => {
      const clock = new FakeClock();
      const k = new FakeKernel(() => []);
      const c = client(k, { timeoutMs: 500, clock });
      const p = c.flush().catch((e: unknown) => e);
      await Promise.resolve();
      const request = k.writes[0]?.[0] as NlMsg;
      const garbage: Uint8Array[] = [];
      const whole = ack(request);
      for (let n = 1; n < whole.length; n++) garbage.push(whole.subarray(0, n)); // every truncation
      const lying = ack(request).slice();
      new DataView(lying.buffer).setUint32(0, 0xffffffff, true);
      garbage.push(lying, new Uint8Array(64).fill(0xff));
      for (const g of garbage) expect(() => k.emit("message", Buffer.from(g))).not.toThrow();
      // Each truncation is shorter than a header or than the length its header claims: all of
      // them, and the two lies, are counted. Only the whole 36-byte ACK would answer.
      expect(c.stats.malformed).toBe(garbage.length);
      clock.advance(500);
      expect(await p).toMatchObject({ code: "IPVS_TIMEOUT", command: "FLUSH" });
    });

    it("a dump part the codec refuses fails that dump (counted), and later parts are ignored", async () => {
      const k = new FakeKernel(() => []);
      const c = client(k);
      const p = c.services();
      await Promise.resolve();
      const request = k.writes[0]?.[0] as NlMsg;
      const bad = encodeNlMsg({
        type: FAMILY,
        flags: NLM_F_MULTI,
        seq: request.seq,
        pid: 0,
        payload: new Uint8Array([1, 1, 0, 0, 200, 0, 1, 0]),
      });
      expect(() => k.emit("message", Buffer.from(bad))).not.toThrow();
      await expect(p).rejects.toMatchObject({ code: "IPVS_BAD_MESSAGE" });
      expect(() => k.emit("message", Buffer.from(done(request)))).not.toThrow();
      expect(c.stats.malformed).toBe(1);
    });
  });
});

import { constants } from "node:os";
import { SysError } from "./errors.js";
import { native } from "./native.js";
import { withNetns } from "./netns.js";

export interface NetlinkExchangeOptions {
  /** Network namespace (name under /run/netns, or a path) the socket lives in. */
  netns?: string;
  /** Send and receive buffer size (SO_SNDBUFFORCE/SO_RCVBUFFORCE when privileged). Default 1 MiB. */
  bufferBytes?: number;
  /**
   * The largest datagram one read takes (default 64 KiB, the ceiling). The kernel sizes every
   * part of a dump to the largest read it has seen on the socket (netlink_dump's
   * max_recvmsg_len, at most 32 KiB), so a socket that only ever reads small parts gets small,
   * cheap allocations: with 4 KiB, the VM's kernel made 5,000 four-server GET_DEST dumps in half
   * the time. A dump of many objects then comes in more parts. Raised to one page (up to 8 KiB)
   * if smaller: the smallest part a dump makes (NLMSG_GOODSIZE) must fit.
   */
  receiveBytes?: number;
}

/** What one `exchange()` brought back. */
export interface NetlinkExchangeResult {
  /** Every datagram read, back to back (whole netlink messages, in arrival order). */
  data: Buffer;
  /** How many writes were sent and answered to the end; the rest were not (or not all) sent. */
  completed: number;
  /** How many datagrams were read (a dump's parts: the kernel's allocations, one each). */
  datagrams: number;
  /** Why the exchange stopped early (sendmsg/recvmsg errno, ETIMEDOUT from poll), if it did. */
  error?: SysError;
}

interface ExchangeBinding {
  netlinkOpen(protocol: number, bufferBytes: number): number;
  netlinkClose(fd: number): void;
  netlinkExchange(
    fd: number,
    writes: Uint8Array,
    lengths: Uint32Array,
    waitSeqs: Uint32Array,
    timeoutMs: number,
    cb: (
      err: null,
      r: { data: Buffer; completed: number; datagrams: number; errno?: number; syscall?: string },
    ) => void,
    receiveBytes?: number,
  ): void;
}

interface PendingExchange {
  joined: Uint8Array;
  lengths: Uint32Array;
  seqs: Uint32Array;
  timeoutMs: number;
  resolve: (r: NetlinkExchangeResult) => void;
  reject: (err: unknown) => void;
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, n]) => [n, name] as [number, string]),
);

/**
 * A netlink socket whose request/reply exchanges run on a libuv pool thread: `exchange(writes,
 * waitSeqs)` sends each write (one datagram of one or more netlink messages) and reads replies
 * until the NLMSG_DONE or NLMSG_ERROR carrying that write's `waitSeq`, then the next write. The
 * kernel's work for a request happens in the sending or receiving thread, so this moves it (and
 * the read loop) off the JavaScript thread; JavaScript gets every reply in one buffer. Framing,
 * sequence numbers and decoding stay with the caller. Exchanges on one socket run one at a time,
 * in call order; several sockets run in parallel.
 */
export class NetlinkExchangeSocket {
  /** Exchanges not started yet, in call order; one runs at a time (`running`). */
  private readonly pending: PendingExchange[] = [];
  private running = false;
  private closed = false;
  private fdClosed = false;
  /** Exchanges queued or running: the descriptor is closed when the last one is done. */
  private busy = 0;

  private constructor(
    private readonly binding: ExchangeBinding,
    private readonly fd: number,
    readonly description: string,
    private readonly receiveBytes: number | undefined,
  ) {}

  /** True when the built addon has the exchange calls (an older build may not). */
  static available(): boolean {
    try {
      return typeof (native() as unknown as Partial<ExchangeBinding>).netlinkExchange === "function";
    } catch {
      return false;
    }
  }

  /** Opens a netlink socket of `protocol` (e.g. 16, NETLINK_GENERIC), inside `netns` if given. */
  static open(protocol: number, opts: NetlinkExchangeOptions = {}): NetlinkExchangeSocket {
    const binding = native() as unknown as ExchangeBinding;
    const description = `netlink protocol ${protocol}${opts.netns ? ` in ${opts.netns}` : ""}`;
    if (opts.receiveBytes !== undefined && !(Number.isInteger(opts.receiveBytes) && opts.receiveBytes > 0)) {
      throw new RangeError(
        `${description}: receiveBytes must be a positive integer, not ${opts.receiveBytes}`,
      );
    }
    if (typeof binding.netlinkExchange !== "function") {
      throw new SysError(
        "SYS_NATIVE_MISSING",
        "@lvs/sys native addon predates netlinkExchange: run `npm rebuild @lvs/sys`",
        { object: "netlinkExchange" },
      );
    }
    const fd = withNetns(opts.netns, () => {
      try {
        return binding.netlinkOpen(protocol, opts.bufferBytes ?? 1 << 20);
      } catch (err) {
        const e = err as { errno?: number; syscall?: string; message?: string };
        throw new SysError("SYS_NETLINK", `${description}: ${e.message ?? String(err)}`, {
          object: description,
          ...(e.errno !== undefined ? { errno: e.errno } : {}),
          ...(e.syscall !== undefined ? { syscall: e.syscall } : {}),
        });
      }
    });
    return new NetlinkExchangeSocket(binding, fd, description, opts.receiveBytes);
  }

  /**
   * Sends `writes[i]` and reads until the NLMSG_DONE/NLMSG_ERROR with sequence `waitSeqs[i]`,
   * for each i in order. `timeoutMs` bounds each wait for a datagram. Never rejects for a kernel
   * or socket failure: the result says how far it got and why it stopped.
   */
  exchange(
    writes: readonly Uint8Array[],
    waitSeqs: readonly number[],
    timeoutMs: number,
  ): Promise<NetlinkExchangeResult> {
    if (writes.length !== waitSeqs.length) {
      return Promise.reject(new RangeError("exchange: writes and waitSeqs differ in length"));
    }
    const lengths = Uint32Array.from(writes, (w) => w.length);
    const joined = writes.length === 1 ? (writes[0] as Uint8Array) : Buffer.concat(writes);
    return this.exchangeJoined(joined, lengths, waitSeqs, timeoutMs);
  }

  /**
   * `exchange()` with the writes already laid end to end in one buffer, `lengths[i]` bytes each:
   * what a caller encoding hundreds of requests into one block passes, without a copy.
   */
  exchangeJoined(
    joined: Uint8Array,
    lengths: Uint32Array,
    waitSeqs: readonly number[],
    timeoutMs: number,
  ): Promise<NetlinkExchangeResult> {
    const count = lengths.length;
    if (count !== waitSeqs.length) {
      return Promise.reject(new RangeError("exchange: writes and waitSeqs differ in length"));
    }
    let total = 0;
    for (let i = 0; i < count; i++) total += lengths[i] as number;
    if (total !== joined.length) {
      return Promise.reject(
        new RangeError(`exchange: the lengths add up to ${total} bytes, the writes hold ${joined.length}`),
      );
    }
    if (this.closed) {
      return Promise.reject(
        new SysError("SYS_NETLINK_CLOSED", `${this.description}: socket closed`, {
          object: this.description,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.pending.push({
        joined,
        lengths,
        seqs: Uint32Array.from(waitSeqs),
        timeoutMs,
        resolve,
        reject,
      });
      this.busy++;
      this.pump();
    });
  }

  /**
   * Starts the next queued exchange when none is running. Called again from the native callback
   * before the finished exchange's promise settles: the next call is on its way to a pool thread
   * before the caller's handler (typically decoding the replies, milliseconds of JavaScript)
   * runs, not after it.
   */
  private pump(): void {
    while (!this.running && this.pending.length > 0) {
      const job = this.pending.shift() as PendingExchange;
      this.running = true;
      const count = job.lengths.length;
      try {
        this.binding.netlinkExchange(
          this.fd,
          job.joined,
          job.lengths,
          job.seqs,
          job.timeoutMs,
          (_err, r) => {
            this.running = false;
            this.busy--;
            this.pump();
            job.resolve(this.resultOf(r, count));
          },
          this.receiveBytes,
        );
      } catch (err) {
        // An argument the addon refused: nothing was queued on a pool thread.
        this.running = false;
        this.busy--;
        job.reject(err);
      }
    }
    if (this.closed && this.busy === 0 && !this.fdClosed) {
      this.fdClosed = true;
      this.binding.netlinkClose(this.fd);
    }
  }

  private resultOf(
    r: { data: Buffer; completed: number; datagrams: number; errno?: number; syscall?: string },
    count: number,
  ): NetlinkExchangeResult {
    const result: NetlinkExchangeResult = { data: r.data, completed: r.completed, datagrams: r.datagrams };
    if (r.errno !== undefined) {
      const name = ERRNO_NAMES.get(r.errno) ?? `errno ${r.errno}`;
      result.error = new SysError(
        "SYS_NETLINK",
        `${this.description}: ${r.syscall} failed on write ${r.completed + 1} of ${count}: ${name}`,
        {
          object: this.description,
          errno: r.errno,
          errnoName: name,
          ...(r.syscall ? { syscall: r.syscall } : {}),
        },
      );
    }
    return result;
  }

  /** Closes the socket (after the exchanges already queued have finished: a pool thread uses it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pump();
  }
}

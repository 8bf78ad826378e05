// Netlink request/reply exchanges run off the JavaScript thread.
//
// A netlink socket does its kernel work in the caller's context: a dump part is produced during
// recvmsg(), a mutation is carried out during sendmsg(). Run from the JS thread, every round trip
// also costs a libuv wakeup and a crossing into JavaScript per datagram. Here a whole list of
// writes is exchanged on a libuv pool thread, so the JS thread decodes (or encodes the next
// batch) while the kernel works, several sockets can be exchanged on in parallel, and JavaScript
// gets one buffer holding every reply.
#include <napi.h>

#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace lvs_netlink {

namespace {

// The kernel caps a dump part at 32 KiB (netlink_dump's max_recvmsg_len); a reply larger than
// its slot is reported as EMSGSIZE rather than silently truncated. Several slots: one recvmmsg
// takes a dump's part and its NLMSG_DONE, or a run of ACKs.
constexpr size_t kRecvSlotBytes = 64 * 1024;
constexpr size_t kRecvSlots = 8;
constexpr size_t kRecvBufferBytes = kRecvSlotBytes * kRecvSlots;

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// netlinkOpen(protocol, bufferBytes): a blocking netlink socket, bound (autobind) and with the
// given send/receive buffers (SO_*BUFFORCE when privileged, so the kernel's caps don't apply).
// Blocking is deliberate: it is only ever used from pool threads, with poll() bounding each wait.
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int protocol = info[0].As<Napi::Number>().Int32Value();
  int bytes = info[1].As<Napi::Number>().Int32Value();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  // Errors and ACKs carry only the failed request's header, not its whole payload: a batch of
  // failures then fits the receive buffer.
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "bind", err);
  }
  return Napi::Number::New(env, fd);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

class Exchange : public Napi::AsyncWorker {
 public:
  Exchange(Napi::Function& callback, int fd, std::vector<uint8_t> writes, std::vector<uint32_t> lengths,
           std::vector<uint32_t> waitSeqs, int timeoutMs, size_t slotBytes)
      : Napi::AsyncWorker(callback),
        fd_(fd),
        slotBytes_(slotBytes),
        writes_(std::move(writes)),
        lengths_(std::move(lengths)),
        waitSeqs_(std::move(waitSeqs)),
        timeoutMs_(timeoutMs),
        replies_(new std::vector<uint8_t>()) {}

  ~Exchange() override { delete replies_; }

  void Execute() override {
    // One receive buffer per pool thread, kept: the threads live as long as the process.
    static thread_local std::vector<uint8_t> buf(kRecvBufferBytes);
    size_t offset = 0;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    for (size_t i = 0; i < lengths_.size(); i++) {
      const uint8_t* data = writes_.data() + offset;
      size_t len = lengths_[i];
      offset += len;
      ssize_t sent;
      do {
        sent = sendto(fd_, data, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
      } while (sent < 0 && errno == EINTR);
      if (sent < 0) {
        Fail("sendmsg", errno);
        return;
      }
      if (!AwaitTerminal(buf, waitSeqs_[i])) return;
      completed_ = i + 1;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    std::vector<uint8_t>* owned = replies_;
    replies_ = nullptr;
    // Handed to JavaScript without a copy; the vector is freed with the Buffer.
    Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(
        env, owned->data(), owned->size(), [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; },
        owned);
    result.Set("data", data);
    result.Set("completed", Napi::Number::New(env, static_cast<double>(completed_)));
    result.Set("datagrams", Napi::Number::New(env, static_cast<double>(datagrams_)));
    if (errno_ != 0) {
      result.Set("errno", Napi::Number::New(env, errno_));
      result.Set("syscall", Napi::String::New(env, syscall_));
    }
    Callback().Call({env.Null(), result});
  }

 private:
  bool Fail(const char* syscall, int err) {
    syscall_ = syscall;
    errno_ = err;
    return false;
  }

  // Reads datagrams until the message that ends this write arrives: NLMSG_DONE or NLMSG_ERROR
  // (the ACK) carrying `seq`. Every datagram read is kept for JavaScript to decode.
  //
  // Non-blocking recvmmsg first, poll() only when nothing is queued: the kernel has usually
  // produced the reply already (a mutation is applied and acknowledged inside sendmsg; a dump's
  // first part is made inside sendmsg and its NLMSG_DONE inside the recvmsg that takes that part),
  // so a dump costs two system calls after the send instead of four. Under emulation every
  // system call is dear.
  bool AwaitTerminal(std::vector<uint8_t>& buf, uint32_t seq) {
    mmsghdr msgs[kRecvSlots];
    iovec iov[kRecvSlots];
    for (;;) {
      for (size_t k = 0; k < kRecvSlots; k++) {
        iov[k].iov_base = buf.data() + k * kRecvSlotBytes;
        iov[k].iov_len = slotBytes_;
        memset(&msgs[k], 0, sizeof msgs[k]);
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
      }
      int got;
      do {
        got = recvmmsg(fd_, msgs, kRecvSlots, MSG_DONTWAIT | MSG_TRUNC, nullptr);
      } while (got < 0 && errno == EINTR);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLIN, 0};
        int ready;
        do {
          ready = poll(&p, 1, timeoutMs_);
        } while (ready < 0 && errno == EINTR);
        if (ready < 0) return Fail("poll", errno);
        if (ready == 0) return Fail("poll", ETIMEDOUT);
        continue;
      }
      if (got < 0) return Fail("recvmsg", errno);
      bool done = false;
      datagrams_ += static_cast<size_t>(got);
      for (int k = 0; k < got; k++) {
        const uint8_t* data = buf.data() + k * kRecvSlotBytes;
        size_t n = msgs[k].msg_len;
        // MSG_TRUNC makes msg_len the datagram's real length: a part larger than its slot.
        if (n > slotBytes_ || (msgs[k].msg_hdr.msg_flags & MSG_TRUNC)) return Fail("recvmsg", EMSGSIZE);
        replies_->insert(replies_->end(), data, data + n);
        size_t at = 0;
        while (at + sizeof(nlmsghdr) <= n) {
          nlmsghdr h;
          memcpy(&h, data + at, sizeof h);
          if (h.nlmsg_len < sizeof(nlmsghdr) || at + h.nlmsg_len > n) break;
          if (h.nlmsg_seq == seq && (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR)) done = true;
          at += NLMSG_ALIGN(h.nlmsg_len);
        }
      }
      if (done) return true;
    }
  }

  int fd_;
  size_t slotBytes_;
  std::vector<uint8_t> writes_;
  std::vector<uint32_t> lengths_;
  std::vector<uint32_t> waitSeqs_;
  int timeoutMs_;
  std::vector<uint8_t>* replies_;
  size_t completed_ = 0;
  size_t datagrams_ = 0;
  int errno_ = 0;
  const char* syscall_ = "";
};

// netlinkExchange(fd, writes, lengths, waitSeqs, timeoutMs, callback[, receiveBytes]): sends
// writes[i] (the concatenation split by `lengths`, one datagram each) in order, after each reading
// until the NLMSG_DONE/NLMSG_ERROR for waitSeqs[i]; calls back with { data, completed, errno?,
// syscall? }. Datagrams are read `receiveBytes` at most each (default and ceiling 64 KiB, floor
// one page up to 8 KiB: the smallest part a kernel dump makes, NLMSG_GOODSIZE, always fits).
// One exchange per socket at a time (the caller queues them).
Napi::Value StartExchange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array writes = info[1].As<Napi::Uint8Array>();
  Napi::Uint32Array lengths = info[2].As<Napi::Uint32Array>();
  Napi::Uint32Array waitSeqs = info[3].As<Napi::Uint32Array>();
  int timeoutMs = info[4].As<Napi::Number>().Int32Value();
  Napi::Function callback = info[5].As<Napi::Function>();
  if (lengths.ElementLength() != waitSeqs.ElementLength()) {
    Napi::TypeError::New(env, "lengths and waitSeqs differ in length").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t total = 0;
  for (size_t i = 0; i < lengths.ElementLength(); i++) total += lengths[i];
  if (total > writes.ByteLength()) {
    Napi::RangeError::New(env, "lengths exceed the writes buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Copied: the pool thread must not read memory JavaScript may reuse meanwhile.
  std::vector<uint8_t> bytes(writes.Data(), writes.Data() + total);
  std::vector<uint32_t> lens(lengths.Data(), lengths.Data() + lengths.ElementLength());
  std::vector<uint32_t> seqs(waitSeqs.Data(), waitSeqs.Data() + waitSeqs.ElementLength());
  size_t slotBytes = kRecvSlotBytes;
  if (info.Length() > 6 && info[6].IsNumber()) {
    const long page = sysconf(_SC_PAGESIZE);
    const size_t floor = page > 0 && page < 8192 ? static_cast<size_t>(page) : 8192;
    const double asked = info[6].As<Napi::Number>().DoubleValue();
    slotBytes = asked >= static_cast<double>(kRecvSlotBytes) ? kRecvSlotBytes
                : asked <= static_cast<double>(floor)      ? floor
                                                           : static_cast<size_t>(asked);
  }
  auto* work =
      new Exchange(callback, fd, std::move(bytes), std::move(lens), std::move(seqs), timeoutMs, slotBytes);
  work->Queue();
  return env.Undefined();
}

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("netlinkOpen", Napi::Function::New(env, Open));
  exports.Set("netlinkClose", Napi::Function::New(env, Close));
  exports.Set("netlinkExchange", Napi::Function::New(env, StartExchange));
}

}  // namespace lvs_netlink

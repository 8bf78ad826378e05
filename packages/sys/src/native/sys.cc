// Small Linux syscalls Node has no binding for: setns(2), AF_PACKET sockets, and TCP/UDP sockets
// bound to a network device (SO_BINDTODEVICE) for Node to adopt.
// Errors are thrown as JS Errors carrying `errno` (number), `code` (E-name) and `syscall`.
#include <napi.h>
#include <uv.h>
#include <v8.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <malloc.h>

#include <map>
#include <string>
#include <vector>

namespace lvs_netlink {
void Init(Napi::Env env, Napi::Object exports);
}

namespace {

const char* ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EAGAIN: return "EAGAIN";
    case EMSGSIZE: return "EMSGSIZE";
    case ENETDOWN: return "ENETDOWN";
    case ENOBUFS: return "ENOBUFS";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EADDRINUSE: return "EADDRINUSE";
    default: return "EUNKNOWN";
  }
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// setns(fd, nstype): switches the calling thread (the JS main thread) into a namespace.
Napi::Value SetNs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int nstype = info[1].As<Napi::Number>().Int32Value();
  if (setns(fd, nstype) != 0) return ThrowErrno(env, "setns", errno);
  return env.Undefined();
}

Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) return ThrowErrno(env, "if_nametoindex", errno);
  return Napi::Number::New(env, idx);
}

// deviceSocket(family 4|6, "tcp"|"udp", ifname, localAddress?, localPort?) -> fd: a non-blocking
// socket bound to a device (socket(7) SO_BINDTODEVICE) and, when given, to a local address/port,
// for Node to adopt (net.Socket({ fd }), dgram bind({ fd })). Closed again on any failure.
Napi::Value DeviceSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = info[0].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  bool stream = info[1].As<Napi::String>().Utf8Value() == "tcp";
  std::string ifname = info[2].As<Napi::String>().Utf8Value();
  int fd = socket(family, (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), (socklen_t)ifname.size() + 1) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "setsockopt(SO_BINDTODEVICE)", err);
  }
  bool hasAddr = info.Length() > 3 && info[3].IsString();
  int port = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Int32Value() : 0;
  if (hasAddr || port != 0) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    std::string addr = hasAddr ? info[3].As<Napi::String>().Utf8Value() : "";
    int ok = 1;
    if (family == AF_INET6) {
      struct sockaddr_in6* a6 = reinterpret_cast<struct sockaddr_in6*>(&ss);
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons((uint16_t)port);
      if (hasAddr) ok = inet_pton(AF_INET6, addr.c_str(), &a6->sin6_addr);
      len = sizeof *a6;
    } else {
      struct sockaddr_in* a4 = reinterpret_cast<struct sockaddr_in*>(&ss);
      a4->sin_family = AF_INET;
      a4->sin_port = htons((uint16_t)port);
      if (hasAddr) ok = inet_pton(AF_INET, addr.c_str(), &a4->sin_addr);
      len = sizeof *a4;
    }
    if (ok != 1) {
      close(fd);
      return ThrowErrno(env, "inet_pton", EINVAL);
    }
    if (bind(fd, reinterpret_cast<struct sockaddr*>(&ss), len) != 0) {
      int err = errno;
      close(fd);
      return ThrowErrno(env, "bind", err);
    }
  }
  return Napi::Number::New(env, fd);
}

// packetOpen(ifindex, ethertype) -> fd. SOCK_RAW: frames include the Ethernet header.
Napi::Value PacketOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  int proto = info[1].As<Napi::Number>().Int32Value();
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(proto));
  if (fd < 0) return ThrowErrno(env, "socket(AF_PACKET)", errno);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(proto);
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "bind(AF_PACKET)", err);
  }
  return Napi::Number::New(env, fd);
}

// packetSend(fd, ifindex, frame): frame is a whole Ethernet frame (dst, src, type, payload).
Napi::Value PacketSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int ifindex = info[1].As<Napi::Number>().Int32Value();
  Napi::Uint8Array frame = info[2].As<Napi::Uint8Array>();
  if (frame.ByteLength() < ETH_HLEN) {
    return ThrowErrno(env, "sendto(AF_PACKET)", EINVAL);
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  sll.sll_halen = ETH_ALEN;
  memcpy(sll.sll_addr, frame.Data(), ETH_ALEN);
  ssize_t n = sendto(fd, frame.Data(), frame.ByteLength(), 0, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll);
  if (n < 0) return ThrowErrno(env, "sendto(AF_PACKET)", errno);
  return Napi::Number::New(env, static_cast<double>(n));
}

// Readable-socket watchers: a uv_poll per fd calls back into JS on the loop thread.
struct Watcher {
  uv_poll_t poll;
  Napi::FunctionReference callback;
  Napi::Env env;
  int fd;
  explicit Watcher(Napi::Env e) : env(e), fd(-1) {}
};
std::map<int, Watcher*> watchers;

void OnReadable(uv_poll_t* handle, int status, int events) {
  Watcher* w = static_cast<Watcher*>(handle->data);
  Napi::HandleScope scope(w->env);
  unsigned char buf[65536];
  for (int i = 0; i < 64; i++) {  // drain a bounded batch per wakeup
    struct sockaddr_ll from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(w->fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&from), &fromlen);
    if (n < 0) break;
    Napi::Buffer<unsigned char> frame = Napi::Buffer<unsigned char>::Copy(w->env, buf, static_cast<size_t>(n));
    Napi::Object meta = Napi::Object::New(w->env);
    meta.Set("ifindex", Napi::Number::New(w->env, from.sll_ifindex));
    meta.Set("pktType", Napi::Number::New(w->env, from.sll_pkttype));
    w->callback.MakeCallback(w->env.Global(), {frame, meta});
    if (watchers.find(w->fd) == watchers.end()) return;  // closed from inside the callback
  }
}

Napi::Value PacketWatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (watchers.count(fd)) return env.Undefined();
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  Watcher* w = new Watcher(env);
  w->fd = fd;
  w->callback = Napi::Persistent(info[1].As<Napi::Function>());
  w->poll.data = w;
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc != 0) {
    delete w;
    return ThrowErrno(env, "uv_poll_init", -rc);
  }
  uv_poll_start(&w->poll, UV_READABLE, OnReadable);
  watchers[fd] = w;
  return env.Undefined();
}

// packetClose(fd): stops the watcher (if any) and closes the socket.
Napi::Value PacketClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto it = watchers.find(fd);
  if (it != watchers.end()) {
    Watcher* w = it->second;
    watchers.erase(it);
    uv_poll_stop(&w->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), [](uv_handle_t* h) {
      Watcher* dead = static_cast<Watcher*>(h->data);
      dead->callback.Reset();
      delete dead;
    });
  }
  close(fd);
  return env.Undefined();
}

// malloc_trim(0): hand glibc's free heap pages back to the kernel. glibc keeps what a finished
// worker thread freed (its arenas, its isolate's malloc'd tables) as resident memory otherwise.
Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
#ifdef __GLIBC__
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// V8's memory-pressure signal for this thread's isolate. "moderate" starts an incremental
// mark-compact that evacuates fragmented pages and gives the empty ones back (no long pause: the
// marking runs concurrently and in steps); "critical" does such a collection at once, blocking.
// An ordinary major GC frees objects but leaves half-empty pages committed: a daemon whose heap
// peaked once keeps the peak's pages. Not part of N-API, hence Node (V8) only, which is where
// this addon is built.
Napi::Value MemoryPressure(const Napi::CallbackInfo& info) {
  std::string level = info[0].As<Napi::String>().Utf8Value();
  v8::MemoryPressureLevel l = level == "critical"   ? v8::MemoryPressureLevel::kCritical
                              : level == "moderate" ? v8::MemoryPressureLevel::kModerate
                                                    : v8::MemoryPressureLevel::kNone;
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return Napi::Boolean::New(info.Env(), false);
  isolate->MemoryPressureNotification(l);
  return Napi::Boolean::New(info.Env(), true);
}

// execve(2): replace this process with a new image, same PID (a daemon restarting itself with
// V8 flags only the command line can set). Returns only on failure, throwing its errno.
Napi::Value Execve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  auto strings = [](Napi::Array a) {
    std::vector<std::string> out;
    for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    return out;
  };
  std::vector<std::string> args = strings(info[1].As<Napi::Array>());
  std::vector<std::string> envs = strings(info[2].As<Napi::Array>());
  std::vector<char*> argv;
  std::vector<char*> envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  for (auto& e : envs) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  // Node marks stdin/stdout/stderr close-on-exec at start; the new image needs them.
  int flags[3];
  for (int fd = 0; fd < 3; fd++) {
    flags[fd] = fcntl(fd, F_GETFD);
    if (flags[fd] >= 0) fcntl(fd, F_SETFD, flags[fd] & ~FD_CLOEXEC);
  }
  execve(path.c_str(), argv.data(), envp.data());
  int err = errno;
  for (int fd = 0; fd < 3; fd++)
    if (flags[fd] >= 0) fcntl(fd, F_SETFD, flags[fd]);
  return ThrowErrno(env, "execve", err);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setns", Napi::Function::New(env, SetNs));
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex));
  exports.Set("deviceSocket", Napi::Function::New(env, DeviceSocket));
  exports.Set("packetOpen", Napi::Function::New(env, PacketOpen));
  exports.Set("packetSend", Napi::Function::New(env, PacketSend));
  exports.Set("packetWatch", Napi::Function::New(env, PacketWatch));
  exports.Set("packetClose", Napi::Function::New(env, PacketClose));
  exports.Set("execve", Napi::Function::New(env, Execve));
  exports.Set("mallocTrim", Napi::Function::New(env, MallocTrim));
  exports.Set("memoryPressure", Napi::Function::New(env, MemoryPressure));
  exports.Set("CLONE_NEWNET", Napi::Number::New(env, CLONE_NEWNET));
  lvs_netlink::Init(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(lvs_sys, Init)

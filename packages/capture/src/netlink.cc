#include "netlink.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "js_errors.h"
#include "sys_error.h"

namespace {

// A kernel that has not answered in this time never will (rtnl_lock is held for ms, not seconds).
constexpr int kReplyTimeoutS = 10;
// Dumps are cut to the reader's buffer size (up to 32 KiB per datagram since Linux 4.x).
constexpr size_t kRecvBuffer = 64 * 1024;

struct Request {
  std::string netns;
  int protocol = 0;
  std::vector<uint8_t> bytes;
  uint32_t messages = 0;
  std::vector<uint8_t> reply;
  SysError err;
  napi_deferred deferred = nullptr;
  napi_threadsafe_function done = nullptr;
};

// Every request message ends in exactly one NLMSG_ERROR (an ack, or its failure) or NLMSG_DONE
// (the end of a dump): count those in one datagram.
bool CountEnds(const uint8_t* data, size_t len, uint32_t* ends, SysError* err) {
  size_t off = 0;
  while (off + sizeof(nlmsghdr) <= len) {
    nlmsghdr h;
    memcpy(&h, data + off, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || off + h.nlmsg_len > len) break;
    if (h.nlmsg_type == NLMSG_ERROR || h.nlmsg_type == NLMSG_DONE) ++*ends;
    off += NLMSG_ALIGN(h.nlmsg_len);
  }
  if (off < len && len - off >= sizeof(nlmsghdr)) {
    errno = EBADMSG;
    return Fail(err, "recv", "netlink reply");
  }
  return true;
}

// Runs on the exchange's own thread, which exits afterwards: it may stay in the namespace.
int OpenNetlinkSocket(const Request& r, SysError* err) {
  if (!r.netns.empty()) {
    int ns = open(r.netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return Fail(err, "open", r.netns), -1;
    bool entered = setns(ns, CLONE_NEWNET) == 0;
    if (!entered) Fail(err, "setns", r.netns);
    close(ns);
    if (!entered) return -1;
  }
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, r.protocol);
  if (s < 0) Fail(err, "socket", "netlink");
  return s;
}

void Transact(Request* r) {
  int fd = OpenNetlinkSocket(*r, &r->err);
  if (fd < 0) return;
  int one = 1;
  // Error acks carry the kernel's reason text (extack), and not a copy of the request.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  timeval tv{kReplyTimeoutS, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent = sendto(fd, r->bytes.data(), r->bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  if (sent < 0 || static_cast<size_t>(sent) != r->bytes.size()) {
    if (sent >= 0) errno = EMSGSIZE;
    Fail(&r->err, "sendto", "netlink");
    close(fd);
    return;
  }
  std::vector<uint8_t> buf(kRecvBuffer);
  uint32_t ends = 0;
  while (ends < r->messages) {
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) errno = ETIMEDOUT;
      Fail(&r->err, "recv", "netlink");
      break;
    }
    if (static_cast<size_t>(n) > buf.size()) {
      errno = EMSGSIZE;
      Fail(&r->err, "recv", "netlink");
      break;
    }
    if (!CountEnds(buf.data(), n, &ends, &r->err)) break;
    r->reply.insert(r->reply.end(), buf.begin(), buf.begin() + n);
  }
  close(fd);
}

// Runs on the JS thread once the exchange's thread is done: settles the promise.
void Settle(napi_env env, napi_value, void*, void* data) {
  auto* r = static_cast<Request*>(data);
  napi_value result = nullptr;
  if (env != nullptr && r->err.code == 0) {
    void* copy = nullptr;
    if (napi_create_buffer_copy(env, r->reply.size(), r->reply.data(), &copy, &result) == napi_ok) {
      napi_resolve_deferred(env, r->deferred, result);
    } else {
      napi_value msg;
      napi_create_string_utf8(env, "netlink: out of memory for the reply", NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, nullptr, msg, &result);
      napi_reject_deferred(env, r->deferred, result);
    }
  } else if (env != nullptr) {
    result = SysErrorValue(env, r->err, "netlink");
    if (result == nullptr) napi_get_undefined(env, &result);
    napi_reject_deferred(env, r->deferred, result);
  }
  delete r;
}

napi_value NetlinkRequest(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  auto bad = [env](const char* what) {
    ThrowCoded(env, ErrorKind::kTypeError, "ERR_INVALID_ARG_TYPE", what);
    return nullptr;
  };
  if (argc < 4) return bad("netlinkRequest(netns, protocol, request, messages): 4 arguments");
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], nullptr, 0, &len) != napi_ok) return bad("netlinkRequest: netns must be a string");
  std::string netns(len, '\0');
  NAPI_CALL(env, napi_get_value_string_utf8(env, argv[0], netns.data(), len + 1, &len));
  if (!netns.empty() && netns[0] != '/') return bad("netlinkRequest: netns must be an absolute path or ''");
  int32_t protocol = 0;
  if (napi_get_value_int32(env, argv[1], &protocol) != napi_ok) return bad("netlinkRequest: protocol must be a number");
  bool typed = false;
  napi_is_typedarray(env, argv[2], &typed);
  if (!typed) return bad("netlinkRequest: request must be a Uint8Array");
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* bytes = nullptr;
  napi_value ab;
  NAPI_CALL(env, napi_get_typedarray_info(env, argv[2], &type, &length, &bytes, &ab, &offset));
  if (type != napi_uint8_array || length < sizeof(nlmsghdr)) return bad("netlinkRequest: request must be a Uint8Array of netlink messages");
  uint32_t messages = 0;
  if (napi_get_value_uint32(env, argv[3], &messages) != napi_ok || messages == 0) return bad("netlinkRequest: messages must be a positive number");

  auto* r = new Request();
  r->netns = std::move(netns);
  r->protocol = protocol;
  r->bytes.assign(static_cast<uint8_t*>(bytes), static_cast<uint8_t*>(bytes) + length);
  r->messages = messages;
  napi_value promise, name;
  if (napi_create_promise(env, &r->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "mseg:netlink", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr, Settle, &r->done) != napi_ok) {
    delete r;
    ThrowLastError(env);
    return nullptr;
  }
  // Each exchange has a thread of its own rather than a libuv pool thread: one that waits on the
  // kernel's rtnl lock (a veth made while dockerd makes others) must not hold up the exchanges
  // queued behind it, nor the pool's file and DNS work. The thread exits when done, so the
  // namespace it entered to make the socket leaves with it. Until then the thread-safe function
  // keeps the event loop alive.
  std::thread([r] {
    Transact(r);
    napi_threadsafe_function done = r->done;
    napi_call_threadsafe_function(done, r, napi_tsfn_blocking);
    napi_release_threadsafe_function(done, napi_tsfn_release);
  }).detach();
  return promise;
}

}  // namespace

napi_value DefineNetlinkRequest(napi_env env) {
  napi_value fn;
  NAPI_CALL(env, napi_create_function(env, "netlinkRequest", NAPI_AUTO_LENGTH, NetlinkRequest, nullptr, &fn));
  return fn;
}

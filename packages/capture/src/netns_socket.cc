#include "netns_socket.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace {

int CreateSocket(SysError* err) {
  // Protocol 0: no frames are queued before the ring exists; bind() later picks ETH_P_ALL.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail(err, "socket");
  return fd;
}

// `ip netns` names are single path components; anything else would escape /run/netns.
bool ValidName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

int OpenPacketSocket(const std::string& netns, SysError* err) {
  if (netns.empty()) return CreateSocket(err);
  if (!ValidName(netns)) {
    errno = EINVAL;
    Fail(err, "setns", netns);
    return -1;
  }
  // The namespace switch happens on a throw-away thread: a socket keeps the namespace it was created
  // in, and the JS thread never leaves its own namespace, so no failed restore can strand it (and
  // libuv's later sockets, DNS lookups, child processes) in the capture namespace.
  int fd = -1;
  std::thread worker([&] {
    std::string path = "/run/netns/" + netns;
    int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) {
      Fail(err, "open", path);
      return;
    }
    if (setns(ns, CLONE_NEWNET) != 0) {
      Fail(err, "setns", path);
    } else {
      fd = CreateSocket(err);
    }
    close(ns);
  });
  worker.join();
  return fd;
}

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
  return OpenSocketIn("/run/netns/" + netns, CreateSocket, err);
}

int OpenSocketIn(const std::string& path, const std::function<int(SysError*)>& create, SysError* err) {
  if (path.empty()) return create(err);
  // The namespace switch happens on a throw-away thread: a socket keeps the namespace it was created
  // in, and the calling thread never leaves its own namespace, so no failed restore can strand it
  // (and libuv's later sockets, DNS lookups, child processes) in another namespace.
  int fd = -1;
  std::thread worker([&] {
    int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) {
      Fail(err, "open", path);
      return;
    }
    if (setns(ns, CLONE_NEWNET) != 0) {
      Fail(err, "setns", path);
    } else {
      fd = create(err);
    }
    close(ns);
  });
  worker.join();
  return fd;
}

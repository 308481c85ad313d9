#pragma once

#include <functional>
#include <string>

#include "sys_error.h"

// Creates an AF_PACKET SOCK_RAW socket with protocol 0 (receives nothing until bound), inside the
// named network namespace (/run/netns/NAME) when netns is not empty. Returns the fd, or -1 with *err.
int OpenPacketSocket(const std::string& netns, SysError* err);

// Calls `create` (which makes a socket or fails with *err) with the calling thread's view of the
// network namespace at `path` (/proc/PID/ns/net, /run/netns/NAME; empty: the caller's own).
int OpenSocketIn(const std::string& path, const std::function<int(SysError*)>& create, SysError* err);

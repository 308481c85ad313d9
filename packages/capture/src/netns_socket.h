#pragma once

#include <string>

#include "sys_error.h"

// Creates an AF_PACKET SOCK_RAW socket with protocol 0 (receives nothing until bound), inside the
// named network namespace (/run/netns/NAME) when netns is not empty. Returns the fd, or -1 with *err.
int OpenPacketSocket(const std::string& netns, SysError* err);

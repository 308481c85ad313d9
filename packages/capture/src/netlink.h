// netlinkRequest(netns, protocol, request, messages): sends netlink messages from a socket opened
// in a network namespace and resolves with every reply datagram, concatenated. The socket is made
// on a throw-away thread that entered the namespace (see netns_socket.h); the exchange runs on the
// libuv pool, so the JS thread neither enters another namespace nor blocks on the kernel.
#pragma once

#include <node_api.h>

napi_value DefineNetlinkRequest(napi_env env);

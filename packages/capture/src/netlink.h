// netlinkRequest(netns, protocol, request, messages): sends netlink messages from a socket opened
// in a network namespace and resolves with every reply datagram, concatenated. Each exchange runs
// on a thread of its own, which enters the namespace to make the socket and then exits, so the JS
// thread neither enters another namespace nor blocks on the kernel.
#pragma once

#include <node_api.h>

napi_value DefineNetlinkRequest(napi_env env);

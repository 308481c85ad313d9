// bpf(2) maps and programs for the session bypass (see bpf.cc).
#pragma once

#include <node_api.h>

// Adds the bpf* functions and closeFd to `exports`; false when Node-API failed (exception pending).
bool DefineBpf(napi_env env, napi_value exports);

// Turning failures into JS exceptions, Node style: `code` is a string to match on, `errno` is the
// negated errno as in Node's own system errors, `syscall`/`path` say what failed.
#pragma once

#include <node_api.h>

#include "sys_error.h"

void ThrowSysError(napi_env env, const SysError& err);
// The same Error as a value (to reject a promise with), its message starting with `prefix: `;
// nullptr if it could not be made.
napi_value SysErrorValue(napi_env env, const SysError& err, const char* prefix);
// Throws an Error (or RangeError/TypeError via `kind`) carrying `code`.
enum class ErrorKind { kError, kRangeError, kTypeError };
void ThrowCoded(napi_env env, ErrorKind kind, const char* code, const char* message);
// After a Node-API call failed: throws its error unless an exception is already pending.
void ThrowLastError(napi_env env);

// Evaluates a Node-API call; on failure makes sure an exception is pending and returns nullptr.
#define NAPI_CALL(env, call)    \
  do {                          \
    if ((call) != napi_ok) {    \
      ThrowLastError(env);      \
      return nullptr;           \
    }                           \
  } while (0)

#include "js_errors.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace {

// The likely cause for the errors a user can fix, appended to the message.
std::string Hint(const SysError& err) {
  std::string call = err.syscall;
  if (call == "socket" && (err.code == EPERM || err.code == EACCES)) {
    return "; opening an AF_PACKET socket needs CAP_NET_RAW";
  }
  if (call == "setns" && err.code == EPERM) return "; entering a network namespace needs CAP_SYS_ADMIN";
  if (call == "setns" && err.code == EINVAL) return "; a netns name is one path component under /run/netns";
  if (call == "open" && err.code == ENOENT) return "; no such network namespace (see `ip netns list`)";
  if (call == "bind" && err.code == ENODEV) return "; no interface with that index in the namespace";
  if (err.code == ENOMEM) return "; the ring (blockSize x blockCount) is too large for free memory";
  return "";
}

void SetProp(napi_env env, napi_value obj, const char* name, napi_value value) {
  napi_set_named_property(env, obj, name, value);
}

}  // namespace

napi_value SysErrorValue(napi_env env, const SysError& err, const char* prefix) {
  const char* name = strerrorname_np(err.code);
  std::string message = std::string(prefix) + ": " + err.syscall;
  if (!err.subject.empty()) message += " " + err.subject;
  message += ": " + std::string(strerror(err.code)) + Hint(err);

  napi_value code, msg, error, value;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message.c_str(), message.size(), &msg);
  if (napi_create_error(env, code, msg, &error) != napi_ok) return nullptr;
  napi_create_int32(env, -err.code, &value);
  SetProp(env, error, "errno", value);
  napi_create_string_utf8(env, err.syscall, NAPI_AUTO_LENGTH, &value);
  SetProp(env, error, "syscall", value);
  if (!err.subject.empty() && err.subject[0] == '/') {
    napi_create_string_utf8(env, err.subject.c_str(), err.subject.size(), &value);
    SetProp(env, error, "path", value);
  }
  return error;
}

void ThrowSysError(napi_env env, const SysError& err) {
  napi_value error = SysErrorValue(env, err, "capture");
  if (error != nullptr) napi_throw(env, error);
}

void ThrowCoded(napi_env env, ErrorKind kind, const char* code, const char* message) {
  switch (kind) {
    case ErrorKind::kRangeError:
      napi_throw_range_error(env, code, message);
      break;
    case ErrorKind::kTypeError:
      napi_throw_type_error(env, code, message);
      break;
    case ErrorKind::kError:
      napi_throw_error(env, code, message);
      break;
  }
}

void ThrowLastError(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info* info = nullptr;
  napi_get_last_error_info(env, &info);
  const char* text = info && info->error_message ? info->error_message : "Node-API call failed";
  napi_throw_error(env, "MSEG_ERR_CAPTURE_NAPI", text);
}

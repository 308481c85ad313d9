#include "options.h"

#include <cmath>
#include <string>

#include "js_errors.h"

namespace {

bool IsUndefined(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

bool Property(napi_env env, napi_value obj, const char* name, napi_value* out) {
  return napi_get_named_property(env, obj, name, out) == napi_ok;
}

bool ReadString(napi_env env, napi_value value, const char* name, std::string* out) {
  if (IsUndefined(env, value)) return true;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &len) != napi_ok) {
    std::string msg = std::string("capture: ") + name + " must be a string";
    ThrowCoded(env, ErrorKind::kTypeError, "ERR_INVALID_ARG_TYPE", msg.c_str());
    return false;
  }
  out->resize(len + 1);
  napi_get_value_string_utf8(env, value, out->data(), len + 1, &len);
  out->resize(len);
  return true;
}

bool IsPowerOfTwo(uint32_t v) { return v && !(v & (v - 1)); }

}  // namespace

bool ReadUint(napi_env env, napi_value value, const char* name, uint32_t min, uint32_t max,
              uint32_t fallback, uint32_t* out) {
  if (IsUndefined(env, value)) {
    *out = fallback;
    return true;
  }
  double d = 0;
  if (napi_get_value_double(env, value, &d) != napi_ok) {
    std::string msg = std::string("capture: ") + name + " must be a number";
    ThrowCoded(env, ErrorKind::kTypeError, "ERR_INVALID_ARG_TYPE", msg.c_str());
    return false;
  }
  if (!(d >= min && d <= max) || std::floor(d) != d) {
    std::string msg = std::string("capture: ") + name + " must be an integer in [" +
                      std::to_string(min) + ", " + std::to_string(max) + "], got " + std::to_string(d);
    ThrowCoded(env, ErrorKind::kRangeError, "ERR_OUT_OF_RANGE", msg.c_str());
    return false;
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

bool ParseRingConfig(napi_env env, napi_value options, RingConfig* out) {
  if (IsUndefined(env, options)) options = nullptr;
  napi_value v = nullptr;
  auto get = [&](const char* name) {
    if (options == nullptr || !Property(env, options, name, &v)) napi_get_undefined(env, &v);
    return v;
  };
  uint32_t ifindex = 0;
  if (!ReadString(env, get("netns"), "netns", &out->netns) ||
      !ReadUint(env, get("ifindex"), "ifindex", 0, INT32_MAX, 0, &ifindex) ||
      !ReadUint(env, get("snapLen"), "snapLen", 64, 262144, kDefaultSnapLen, &out->snap_len) ||
      !ReadUint(env, get("blockSize"), "blockSize", 4096, 1u << 28, kDefaultBlockSize, &out->block_size) ||
      !ReadUint(env, get("blockCount"), "blockCount", 2, 65536, kDefaultBlockCount, &out->block_count) ||
      !ReadUint(env, get("blockTimeoutMs"), "blockTimeoutMs", 1, 60000, kDefaultBlockTimeoutMs,
                &out->block_timeout_ms)) {
    return false;
  }
  out->ifindex = static_cast<int>(ifindex);
  // The kernel allocates each block as 2^order pages, so other sizes only waste memory.
  if (!IsPowerOfTwo(out->block_size)) {
    ThrowCoded(env, ErrorKind::kRangeError, "ERR_OUT_OF_RANGE", "capture: blockSize must be a power of two");
    return false;
  }
  // A block must hold its header plus one frame of snap length, or V3 would cut frames shorter.
  if (TPACKET_ALIGN(TPACKET3_HDRLEN + out->snap_len) + 64 > out->block_size) {
    ThrowCoded(env, ErrorKind::kRangeError, "ERR_OUT_OF_RANGE",
               "capture: blockSize must exceed snapLen plus the frame and block headers");
    return false;
  }
  if (uint64_t{out->block_size} * out->block_count > (uint64_t{1} << 32)) {
    ThrowCoded(env, ErrorKind::kRangeError, "ERR_OUT_OF_RANGE", "capture: blockSize x blockCount must be at most 4 GiB");
    return false;
  }
  return true;
}

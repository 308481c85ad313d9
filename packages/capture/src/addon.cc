// Module entry: the Capture class, the layout of the per-frame index words, netlinkRequest and the
// bpf(2) calls.
#include <node_api.h>

#include "bpf.h"
#include "capture.h"
#include "js_errors.h"
#include "netlink.h"
#include "ring.h"

namespace {

napi_value ExportUint(napi_env env, napi_value exports, const char* name, uint32_t value) {
  napi_value v;
  NAPI_CALL(env, napi_create_uint32(env, value, &v));
  NAPI_CALL(env, napi_set_named_property(env, exports, name, v));
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value cls = DefineCaptureClass(env);
  if (cls == nullptr) return nullptr;
  NAPI_CALL(env, napi_set_named_property(env, exports, "Capture", cls));
  napi_value netlink = DefineNetlinkRequest(env);
  if (netlink == nullptr) return nullptr;
  NAPI_CALL(env, napi_set_named_property(env, exports, "netlinkRequest", netlink));
  if (!DefineBpf(env, exports)) return nullptr;
  const struct {
    const char* name;
    uint32_t value;
  } words[] = {
      {"FRAME_WORDS", kFrameWords}, {"FRAME_OFFSET", kOffset}, {"FRAME_CAPLEN", kCapLen},
      {"FRAME_WIRELEN", kWireLen},  {"FRAME_IFINDEX", kIfindex}, {"FRAME_SEC", kSec},
      {"FRAME_NSEC", kNsec},        {"FRAME_VLAN", kVlan},       {"FRAME_PKTTYPE", kPktType},
  };
  for (const auto& w : words) {
    if (ExportUint(env, exports, w.name, w.value) == nullptr) return nullptr;
  }
  return exports;
}

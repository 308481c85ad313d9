// The JS `Capture` class: one ring, at most one block lent to JS at a time.
#include "capture.h"

#include <uv.h>

#include <memory>

#include "js_errors.h"
#include "options.h"
#include "ring.h"

namespace {

struct Capture {
  napi_env env = nullptr;
  std::unique_ptr<Ring> ring;  // null once closed
  RingStats totals;
  napi_ref wrapper = nullptr;  // weak, strong while watching so callbacks keep a live `this`
  napi_ref index = nullptr;    // the reused Uint32Array of frame words
  uint32_t* index_words = nullptr;
  uint32_t max_frames = 0;
  napi_ref block = nullptr;    // the lent block's ArrayBuffer, until release()
  uv_poll_t* poll = nullptr;
  napi_ref callback = nullptr;
  napi_async_context async = nullptr;
  bool cleanup_hook = false;
};

// Finalizer of a block ArrayBuffer: drops its share of the mapping.
void ReleaseView(napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<Mapping>*>(hint); }

void StopWatching(Capture* c) {
  if (c->poll == nullptr) return;
  uv_poll_stop(c->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(c->poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  c->poll = nullptr;
  napi_delete_reference(c->env, c->callback);
  c->callback = nullptr;
  napi_async_destroy(c->env, c->async);
  c->async = nullptr;
  napi_reference_unref(c->env, c->wrapper, nullptr);
}

// Takes the lent block away from JS. Detaching makes every view of it empty, so a view used after
// release() or close() reads nothing instead of bytes the kernel is overwriting.
void Unlend(Capture* c, bool detach) {
  if (c->block == nullptr) return;
  napi_value ab;
  if (detach && napi_get_reference_value(c->env, c->block, &ab) == napi_ok && ab != nullptr) {
    napi_detach_arraybuffer(c->env, ab);
  }
  napi_delete_reference(c->env, c->block);
  c->block = nullptr;
}

// `detach` is false where JS must not run (finalizer, environment teardown); the views that may
// survive then still point at memory kept mapped by their share of the Mapping.
void CloseCapture(Capture* c, bool detach) {
  StopWatching(c);
  Unlend(c, detach);
  if (c->ring) {
    SysError ignored;
    c->ring->AddStats(&c->totals, &ignored);  // the last counts, so stats() after close() is final
    c->ring.reset();
  }
}

void CleanupHook(void* data) {
  auto* c = static_cast<Capture*>(data);
  c->cleanup_hook = false;
  CloseCapture(c, false);
}

void Finalize(napi_env env, void* data, void*) {
  auto* c = static_cast<Capture*>(data);
  CloseCapture(c, false);
  if (c->cleanup_hook) napi_remove_env_cleanup_hook(env, CleanupHook, c);
  napi_delete_reference(env, c->index);
  delete c;
}

napi_value ThisCapture(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv, Capture** out) {
  napi_value self;
  NAPI_CALL(env, napi_get_cb_info(env, info, argc, argv, &self, nullptr));
  NAPI_CALL(env, napi_unwrap(env, self, reinterpret_cast<void**>(out)));
  return self;
}

bool RequireOpen(napi_env env, Capture* c) {
  if (c->ring) return true;
  ThrowCoded(env, ErrorKind::kError, "MSEG_ERR_CAPTURE_CLOSED", "capture: the capture is closed");
  return false;
}

napi_value New(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value options, self;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, &options, &self, nullptr));
  if (argc < 1) NAPI_CALL(env, napi_get_undefined(env, &options));
  RingConfig cfg;
  if (!ParseRingConfig(env, options, &cfg)) return nullptr;
  SysError err;
  std::unique_ptr<Ring> ring = Ring::Open(cfg, &err);
  if (!ring) {
    ThrowSysError(env, err);
    return nullptr;
  }
  auto c = std::make_unique<Capture>();
  c->env = env;
  c->max_frames = ring->max_frames();
  c->ring = std::move(ring);
  void* words = nullptr;
  napi_value ab, index;
  NAPI_CALL(env, napi_create_arraybuffer(env, size_t{c->max_frames} * kFrameWords * 4, &words, &ab));
  NAPI_CALL(env, napi_create_typedarray(env, napi_uint32_array, size_t{c->max_frames} * kFrameWords, ab, 0, &index));
  c->index_words = static_cast<uint32_t*>(words);
  NAPI_CALL(env, napi_create_reference(env, index, 1, &c->index));
  NAPI_CALL(env, napi_wrap(env, self, c.get(), Finalize, nullptr, &c->wrapper));
  Capture* raw = c.release();  // owned by the wrapper from here; Finalize deletes it
  if (napi_add_env_cleanup_hook(env, CleanupHook, raw) == napi_ok) raw->cleanup_hook = true;
  return self;
}

napi_value MakeBatch(napi_env env, Capture* c, uint8_t* block, uint32_t count) {
  auto* share = new std::shared_ptr<Mapping>(c->ring->mapping());
  napi_value ab, index, n, batch;
  if (napi_create_external_arraybuffer(env, block, c->ring->block_size(), ReleaseView, share, &ab) != napi_ok) {
    delete share;
    ThrowLastError(env);
    return nullptr;
  }
  NAPI_CALL(env, napi_create_reference(env, ab, 1, &c->block));
  NAPI_CALL(env, napi_get_reference_value(env, c->index, &index));
  NAPI_CALL(env, napi_create_uint32(env, count, &n));
  NAPI_CALL(env, napi_create_object(env, &batch));
  NAPI_CALL(env, napi_set_named_property(env, batch, "buffer", ab));
  NAPI_CALL(env, napi_set_named_property(env, batch, "index", index));
  NAPI_CALL(env, napi_set_named_property(env, batch, "count", n));
  return batch;
}

napi_value Next(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  Capture* c = nullptr;
  if (ThisCapture(env, info, &argc, &arg, &c) == nullptr) return nullptr;
  if (argc < 1) NAPI_CALL(env, napi_get_undefined(env, &arg));
  if (!RequireOpen(env, c)) return nullptr;
  if (c->block != nullptr) {
    ThrowCoded(env, ErrorKind::kError, "MSEG_ERR_CAPTURE_BUSY", "capture: release() the current batch before next()");
    return nullptr;
  }
  uint32_t timeout = 0;
  if (!ReadUint(env, arg, "timeoutMs", 0, INT32_MAX, 0, &timeout)) return nullptr;
  bool waited = timeout == 0;
  // Blocks retired by the timer can be empty; they go straight back. Bounded by the ring size.
  for (uint32_t tries = 0; tries <= c->ring->block_count(); tries++) {
    uint8_t* block = c->ring->Ready();
    if (block == nullptr) {
      if (waited) break;
      SysError err;
      if (c->ring->Wait(static_cast<int>(timeout), &err) < 0) {
        ThrowSysError(env, err);
        return nullptr;
      }
      waited = true;
      continue;
    }
    uint32_t count = c->ring->FillIndex(block, c->index_words, c->max_frames);
    if (count == 0) {
      c->ring->Release();
      continue;
    }
    return MakeBatch(env, c, block, count);
  }
  napi_value null;
  NAPI_CALL(env, napi_get_null(env, &null));
  return null;
}

napi_value Release(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Capture* c = nullptr;
  if (ThisCapture(env, info, &argc, nullptr, &c) == nullptr) return nullptr;
  if (c->block != nullptr) {
    Unlend(c, true);
    c->ring->Release();
  }
  return nullptr;
}

napi_value Stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Capture* c = nullptr;
  if (ThisCapture(env, info, &argc, nullptr, &c) == nullptr) return nullptr;
  SysError err;
  if (c->ring && !c->ring->AddStats(&c->totals, &err)) {
    ThrowSysError(env, err);
    return nullptr;
  }
  napi_value out, v;
  NAPI_CALL(env, napi_create_object(env, &out));
  NAPI_CALL(env, napi_create_double(env, static_cast<double>(c->totals.packets), &v));
  NAPI_CALL(env, napi_set_named_property(env, out, "packets", v));
  NAPI_CALL(env, napi_create_double(env, static_cast<double>(c->totals.drops), &v));
  NAPI_CALL(env, napi_set_named_property(env, out, "drops", v));
  NAPI_CALL(env, napi_create_double(env, static_cast<double>(c->totals.freeze_q), &v));
  NAPI_CALL(env, napi_set_named_property(env, out, "freezeQueueCount", v));
  return out;
}

void OnReadable(uv_poll_t* handle, int status, int) {
  auto* c = static_cast<Capture*>(handle->data);
  napi_env env = c->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value self, fn, arg = nullptr, result;
  size_t argc = 0;
  if (status < 0) {
    napi_value code, msg;
    napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &arg);
    argc = 1;
  }
  if (napi_get_reference_value(env, c->wrapper, &self) == napi_ok &&
      napi_get_reference_value(env, c->callback, &fn) == napi_ok &&
      napi_make_callback(env, c->async, self, fn, argc, &arg, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

napi_value Watch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value fn;
  Capture* c = nullptr;
  napi_value self = ThisCapture(env, info, &argc, &fn, &c);
  if (self == nullptr || !RequireOpen(env, c)) return nullptr;
  napi_valuetype type = napi_undefined;
  if (argc >= 1) NAPI_CALL(env, napi_typeof(env, fn, &type));
  if (type != napi_function) {
    ThrowCoded(env, ErrorKind::kTypeError, "ERR_INVALID_ARG_TYPE", "capture: watch() takes a callback function");
    return nullptr;
  }
  StopWatching(c);
  auto* poll = new uv_poll_t;
  uv_loop_t* loop = nullptr;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, poll, c->ring->fd());
  if (rc == 0) {
    poll->data = c;
    rc = uv_poll_start(poll, UV_READABLE, OnReadable);
    if (rc != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    }
  } else {
    delete poll;
  }
  if (rc != 0) {
    ThrowCoded(env, ErrorKind::kError, uv_err_name(rc), uv_strerror(rc));
    return nullptr;
  }
  c->poll = poll;
  napi_value name;
  NAPI_CALL(env, napi_create_string_utf8(env, "MsegCapture", NAPI_AUTO_LENGTH, &name));
  NAPI_CALL(env, napi_async_init(env, self, name, &c->async));
  NAPI_CALL(env, napi_create_reference(env, fn, 1, &c->callback));
  NAPI_CALL(env, napi_reference_ref(env, c->wrapper, nullptr));
  return nullptr;
}

napi_value Unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Capture* c = nullptr;
  if (ThisCapture(env, info, &argc, nullptr, &c) == nullptr) return nullptr;
  StopWatching(c);
  return nullptr;
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Capture* c = nullptr;
  if (ThisCapture(env, info, &argc, nullptr, &c) == nullptr) return nullptr;
  CloseCapture(c, true);
  return nullptr;
}

napi_value IsClosed(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Capture* c = nullptr;
  if (ThisCapture(env, info, &argc, nullptr, &c) == nullptr) return nullptr;
  napi_value v;
  NAPI_CALL(env, napi_get_boolean(env, !c->ring, &v));
  return v;
}

}  // namespace

napi_value DefineCaptureClass(napi_env env) {
  napi_property_descriptor methods[] = {
      {"next", nullptr, Next, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"release", nullptr, Release, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"watch", nullptr, Watch, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"unwatch", nullptr, Unwatch, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"closed", nullptr, nullptr, IsClosed, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls;
  NAPI_CALL(env, napi_define_class(env, "Capture", NAPI_AUTO_LENGTH, New, nullptr,
                                   sizeof methods / sizeof methods[0], methods, &cls));
  return cls;
}

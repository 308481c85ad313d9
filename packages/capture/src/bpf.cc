// The bpf(2) calls the session bypass needs: maps (create, pin, open, info, lookup/update/delete
// in batches), program load with the verifier's log, and closing descriptors. Synchronous: each
// is a short syscall, and the batch forms keep a sweep over thousands of keys to one JS call.
#include "bpf.h"

#include <linux/bpf.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "js_errors.h"
#include "sys_error.h"

namespace {

// The verifier's log for a refused program: enough for the instruction it stopped at.
constexpr size_t kVerifierLog = 64 * 1024;

long Bpf(int cmd, bpf_attr* attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

void CopyName(char (&to)[BPF_OBJ_NAME_LEN], const std::string& name) {
  memset(to, 0, sizeof to);
  memcpy(to, name.data(), name.size() < sizeof to - 1 ? name.size() : sizeof to - 1);
}

bool Args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  if (argc < want) {
    ThrowCoded(env, ErrorKind::kTypeError, "ERR_MISSING_ARGS", "missing arguments");
    return false;
  }
  return true;
}

bool Uint(napi_env env, napi_value v, const char* name, uint32_t* out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    ThrowCoded(env, ErrorKind::kTypeError, "ERR_INVALID_ARG_TYPE", (std::string(name) + " must be a number").c_str());
    return false;
  }
  return true;
}

bool Fd(napi_env env, napi_value v, int* out) {
  int32_t fd;
  if (napi_get_value_int32(env, v, &fd) != napi_ok || fd < 0) {
    ThrowCoded(env, ErrorKind::kTypeError, "ERR_INVALID_ARG_TYPE", "fd must be a file descriptor number");
    return false;
  }
  *out = fd;
  return true;
}

bool Str(napi_env env, napi_value v, const char* name, std::string* out) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) {
    ThrowCoded(env, ErrorKind::kTypeError, "ERR_INVALID_ARG_TYPE", (std::string(name) + " must be a string").c_str());
    return false;
  }
  out->resize(len);
  std::vector<char> buf(len + 1);
  napi_get_value_string_utf8(env, v, buf.data(), buf.size(), &len);
  out->assign(buf.data(), len);
  return true;
}

bool Bytes(napi_env env, napi_value v, const char* name, uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  void* raw = nullptr;
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is || napi_get_typedarray_info(env, v, &type, len, &raw, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    ThrowCoded(env, ErrorKind::kTypeError, "ERR_INVALID_ARG_TYPE", (std::string(name) + " must be a Uint8Array").c_str());
    return false;
  }
  *data = static_cast<uint8_t*>(raw);
  return true;
}

napi_value Number(napi_env env, double n) {
  napi_value v;
  NAPI_CALL(env, napi_create_double(env, n, &v));
  return v;
}

napi_value Throw(napi_env env, const char* syscall, std::string subject) {
  SysError err;
  Fail(&err, syscall, std::move(subject));
  napi_value e = SysErrorValue(env, err, "bpf");
  if (e != nullptr) napi_throw(env, e);
  return nullptr;
}

// bpfMapCreate(type, keySize, valueSize, maxEntries, name) → fd
napi_value MapCreate(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!Args(env, info, 5, argv)) return nullptr;
  uint32_t type, key, value, max;
  std::string name;
  if (!Uint(env, argv[0], "type", &type) || !Uint(env, argv[1], "keySize", &key) || !Uint(env, argv[2], "valueSize", &value) ||
      !Uint(env, argv[3], "maxEntries", &max) || !Str(env, argv[4], "name", &name)) {
    return nullptr;
  }
  bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = type;
  a.key_size = key;
  a.value_size = value;
  a.max_entries = max;
  CopyName(a.map_name, name);
  long fd = Bpf(BPF_MAP_CREATE, &a);
  if (fd < 0) return Throw(env, "bpf(BPF_MAP_CREATE)", name);
  return Number(env, static_cast<double>(fd));
}

// bpfObjGet(path) → fd of the pinned map or program.
napi_value ObjGet(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::string path;
  if (!Args(env, info, 1, argv) || !Str(env, argv[0], "path", &path)) return nullptr;
  bpf_attr a;
  memset(&a, 0, sizeof a);
  a.pathname = reinterpret_cast<uint64_t>(path.c_str());
  long fd = Bpf(BPF_OBJ_GET, &a);
  if (fd < 0) return Throw(env, "bpf(BPF_OBJ_GET)", path);
  return Number(env, static_cast<double>(fd));
}

// bpfObjPin(fd, path)
napi_value ObjPin(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  std::string path;
  if (!Args(env, info, 2, argv) || !Fd(env, argv[0], &fd) || !Str(env, argv[1], "path", &path)) return nullptr;
  bpf_attr a;
  memset(&a, 0, sizeof a);
  a.pathname = reinterpret_cast<uint64_t>(path.c_str());
  a.bpf_fd = static_cast<uint32_t>(fd);
  if (Bpf(BPF_OBJ_PIN, &a) < 0) return Throw(env, "bpf(BPF_OBJ_PIN)", path);
  return nullptr;
}

// bpfMapInfo(fd) → { id, type, keySize, valueSize, maxEntries, name }
napi_value MapInfo(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!Args(env, info, 1, argv) || !Fd(env, argv[0], &fd)) return nullptr;
  bpf_map_info m;
  memset(&m, 0, sizeof m);
  bpf_attr a;
  memset(&a, 0, sizeof a);
  a.info.bpf_fd = static_cast<uint32_t>(fd);
  a.info.info_len = sizeof m;
  a.info.info = reinterpret_cast<uint64_t>(&m);
  if (Bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0) return Throw(env, "bpf(BPF_OBJ_GET_INFO_BY_FD)", "");
  napi_value obj, name;
  NAPI_CALL(env, napi_create_object(env, &obj));
  const struct {
    const char* key;
    uint32_t value;
  } fields[] = {{"id", m.id}, {"type", m.type}, {"keySize", m.key_size}, {"valueSize", m.value_size}, {"maxEntries", m.max_entries}};
  for (const auto& f : fields) NAPI_CALL(env, napi_set_named_property(env, obj, f.key, Number(env, f.value)));
  NAPI_CALL(env, napi_create_string_utf8(env, m.name, strnlen(m.name, sizeof m.name), &name));
  NAPI_CALL(env, napi_set_named_property(env, obj, "name", name));
  return obj;
}

// bpfProgLoad(type, insns, license, name) → fd; a refusal's message carries the verifier's log.
napi_value ProgLoad(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!Args(env, info, 4, argv)) return nullptr;
  uint32_t type;
  uint8_t* insns;
  size_t len;
  std::string license, name;
  if (!Uint(env, argv[0], "type", &type) || !Bytes(env, argv[1], "insns", &insns, &len) || !Str(env, argv[2], "license", &license) ||
      !Str(env, argv[3], "name", &name)) {
    return nullptr;
  }
  if (len == 0 || len % sizeof(bpf_insn) != 0) {
    ThrowCoded(env, ErrorKind::kRangeError, "ERR_OUT_OF_RANGE", "insns must be a whole number of 8-byte instructions");
    return nullptr;
  }
  std::vector<char> log(kVerifierLog);
  bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = type;
  a.insns = reinterpret_cast<uint64_t>(insns);
  a.insn_cnt = static_cast<uint32_t>(len / sizeof(bpf_insn));
  a.license = reinterpret_cast<uint64_t>(license.c_str());
  CopyName(a.prog_name, name);
  long fd = Bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return Number(env, static_cast<double>(fd));
  // Loaded again with the log only on refusal: logging slows every successful load.
  a.log_buf = reinterpret_cast<uint64_t>(log.data());
  a.log_size = static_cast<uint32_t>(log.size());
  a.log_level = 1;
  fd = Bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return Number(env, static_cast<double>(fd));
  int code = errno;
  std::string text(log.data(), strnlen(log.data(), log.size()));
  // The last lines name the refused instruction and why.
  if (text.size() > 2000) text = "…" + text.substr(text.size() - 2000);
  errno = code;
  return Throw(env, "bpf(BPF_PROG_LOAD)", name + (text.empty() ? "" : "\n" + text));
}

// bpfProgTestRun(fd, packet) → the program's return value for one run over `packet` (an
// Ethernet frame for tc programs), as BPF_PROG_TEST_RUN gives it: the program's behaviour checked
// without a network.
napi_value ProgTestRun(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  uint8_t* data;
  size_t len;
  if (!Args(env, info, 2, argv) || !Fd(env, argv[0], &fd) || !Bytes(env, argv[1], "packet", &data, &len)) return nullptr;
  bpf_attr a;
  memset(&a, 0, sizeof a);
  a.test.prog_fd = static_cast<uint32_t>(fd);
  a.test.data_in = reinterpret_cast<uint64_t>(data);
  a.test.data_size_in = static_cast<uint32_t>(len);
  a.test.repeat = 1;
  if (Bpf(BPF_PROG_TEST_RUN, &a) < 0) return Throw(env, "bpf(BPF_PROG_TEST_RUN)", "");
  napi_value v;
  NAPI_CALL(env, napi_create_int32(env, static_cast<int32_t>(a.test.retval), &v));
  return v;
}

// Keys and values of a batch call: n keys of keySize in `keys`, n values of valueSize in `values`.
struct Batch {
  int fd;
  uint8_t* keys;
  size_t keyLen;
  uint32_t keySize;
  uint8_t* values = nullptr;
  size_t valueLen = 0;
  uint32_t valueSize = 0;
  size_t count = 0;
};

bool ReadBatch(napi_env env, napi_value* argv, bool withValues, Batch* b) {
  if (!Fd(env, argv[0], &b->fd) || !Bytes(env, argv[1], "keys", &b->keys, &b->keyLen) || !Uint(env, argv[2], "keySize", &b->keySize)) return false;
  if (b->keySize == 0 || b->keyLen % b->keySize != 0) {
    ThrowCoded(env, ErrorKind::kRangeError, "ERR_OUT_OF_RANGE", "keys must hold whole keys of keySize bytes");
    return false;
  }
  b->count = b->keyLen / b->keySize;
  if (!withValues) return true;
  if (!Bytes(env, argv[3], "values", &b->values, &b->valueLen) || !Uint(env, argv[4], "valueSize", &b->valueSize)) return false;
  if (b->valueLen < b->count * b->valueSize) {
    ThrowCoded(env, ErrorKind::kRangeError, "ERR_OUT_OF_RANGE", "values must have room for one value per key");
    return false;
  }
  return true;
}

// One element call on the batch's i-th key (and value, when it has values).
long Elem(int cmd, const Batch& b, size_t i, uint64_t flags = 0) {
  bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = static_cast<uint32_t>(b.fd);
  a.key = reinterpret_cast<uint64_t>(b.keys + i * b.keySize);
  if (b.values != nullptr) a.value = reinterpret_cast<uint64_t>(b.values + i * b.valueSize);
  a.flags = flags;
  return Bpf(cmd, &a);
}

// bpfMapLookup(fd, keys, keySize, values, valueSize) → keys found; a missing key's value is zeros.
napi_value MapLookup(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  Batch b;
  if (!Args(env, info, 5, argv) || !ReadBatch(env, argv, true, &b)) return nullptr;
  uint32_t found = 0;
  for (size_t i = 0; i < b.count; i++) {
    if (Elem(BPF_MAP_LOOKUP_ELEM, b, i) == 0) {
      found++;
    } else if (errno == ENOENT) {
      memset(b.values + i * b.valueSize, 0, b.valueSize);
    } else {
      return Throw(env, "bpf(BPF_MAP_LOOKUP_ELEM)", "");
    }
  }
  return Number(env, found);
}

// bpfMapUpdate(fd, keys, keySize, values, valueSize, flags) → keys written; a full map (E2BIG) stops
// the batch there, any other refusal throws.
napi_value MapUpdate(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  Batch b;
  uint32_t flags;
  if (!Args(env, info, 6, argv) || !ReadBatch(env, argv, true, &b) || !Uint(env, argv[5], "flags", &flags)) return nullptr;
  uint32_t written = 0;
  for (size_t i = 0; i < b.count; i++) {
    if (Elem(BPF_MAP_UPDATE_ELEM, b, i, flags) == 0) {
      written++;
    } else if (errno == E2BIG) {
      break;
    } else {
      return Throw(env, "bpf(BPF_MAP_UPDATE_ELEM)", "");
    }
  }
  return Number(env, written);
}

// bpfMapDelete(fd, keys, keySize) → keys deleted (absent ones are skipped).
napi_value MapDelete(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Batch b;
  if (!Args(env, info, 3, argv) || !ReadBatch(env, argv, false, &b)) return nullptr;
  uint32_t deleted = 0;
  for (size_t i = 0; i < b.count; i++) {
    if (Elem(BPF_MAP_DELETE_ELEM, b, i) == 0) {
      deleted++;
    } else if (errno != ENOENT) {
      return Throw(env, "bpf(BPF_MAP_DELETE_ELEM)", "");
    }
  }
  return Number(env, deleted);
}

// bpfMapClear(fd, keySize) → keys deleted: empties a hash map.
napi_value MapClear(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  uint32_t keySize;
  if (!Args(env, info, 2, argv) || !Fd(env, argv[0], &fd) || !Uint(env, argv[1], "keySize", &keySize)) return nullptr;
  std::vector<uint8_t> key(keySize);
  uint32_t deleted = 0;
  for (;;) {
    bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_fd = static_cast<uint32_t>(fd);
    a.key = 0;  // the first key
    a.next_key = reinterpret_cast<uint64_t>(key.data());
    if (Bpf(BPF_MAP_GET_NEXT_KEY, &a) != 0) {
      if (errno == ENOENT) break;
      return Throw(env, "bpf(BPF_MAP_GET_NEXT_KEY)", "");
    }
    memset(&a, 0, sizeof a);
    a.map_fd = static_cast<uint32_t>(fd);
    a.key = reinterpret_cast<uint64_t>(key.data());
    if (Bpf(BPF_MAP_DELETE_ELEM, &a) == 0) deleted++;
    else if (errno != ENOENT) return Throw(env, "bpf(BPF_MAP_DELETE_ELEM)", "");
  }
  return Number(env, deleted);
}

// closeFd(fd)
napi_value CloseFd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!Args(env, info, 1, argv) || !Fd(env, argv[0], &fd)) return nullptr;
  if (close(fd) != 0) return Throw(env, "close", "");
  return nullptr;
}

// isBpfFs(path) → whether path is on a mounted bpf filesystem (where objects can be pinned).
napi_value IsBpfFs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::string path;
  if (!Args(env, info, 1, argv) || !Str(env, argv[0], "path", &path)) return nullptr;
  struct statfs s;
  bool yes = statfs(path.c_str(), &s) == 0 && static_cast<unsigned long>(s.f_type) == BPF_FS_MAGIC;
  napi_value v;
  NAPI_CALL(env, napi_get_boolean(env, yes, &v));
  return v;
}

}  // namespace

bool DefineBpf(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback cb;
  } fns[] = {
      {"bpfMapCreate", MapCreate}, {"bpfObjGet", ObjGet},       {"bpfObjPin", ObjPin},       {"bpfMapInfo", MapInfo},
      {"bpfProgLoad", ProgLoad},   {"bpfMapLookup", MapLookup}, {"bpfMapUpdate", MapUpdate}, {"bpfMapDelete", MapDelete},
      {"bpfMapClear", MapClear},   {"closeFd", CloseFd},        {"isBpfFs", IsBpfFs},        {"bpfProgTestRun", ProgTestRun},
  };
  for (const auto& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return false;
    if (napi_set_named_property(env, exports, f.name, fn) != napi_ok) return false;
  }
  return true;
}

// The binding: a Sensor object per native.ts NativeSensor over the loader, the map writers and the
// ring-buffer poller. Everything here checks arguments, converts values and errors, and calls JS;
// the work is in loader.cc, maps.cc and poller.cc.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <napi.h>
#include <node_api.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <set>

#include "args.h"
#include "errors.h"
#include "loader.h"
#include "maps.h"
#include "memory.h"
#include "poller.h"
#include "probes.h"
#include "syscalls.h"

namespace vg {
namespace {

// One sensor per process: the probes and their maps are process-wide kernel state.
std::atomic<bool> g_sensor_open{false};

constexpr uint64_t kMaxRingBufferBytes = 1ull << 30;
constexpr uint64_t kMaxBatchRecords = 1u << 20;
constexpr uint64_t kMinBatchBytes = 4096;
constexpr uint64_t kMaxBatchBytes = 256u << 20;
constexpr uint32_t kMaxIgnoredPids = 64;  // vg_ignore's max_entries in probes/maps.bpf.h

// Whether this kernel lets tracing programs call bpf_probe_write_user (a locked-down kernel does not):
// a trial load of the smallest program that calls it. libbpf_probe_bpf_helper is not used because
// libbpf 1.1 takes the refusal message of newer kernels for support.
bool KernelAllowsProbeWriteUser() {
  struct bpf_insn insns[] = {
      {BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 0},   // *(u64 *)(r10 - 8) = 0
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0},   // r1 = 0 (dst)
      {BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0},  // r2 = r10
      {BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -8},  // r2 += -8 (src)
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 1},   // r3 = 1 (len)
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_write_user},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},   // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "vg_probe_wu", "GPL", insns,
                         sizeof insns / sizeof insns[0], nullptr);
  if (fd < 0) return false;
  close(fd);
  return true;
}

Napi::Error ToJsError(Napi::Env env, const Failure& failure) {
  Napi::Error error = Napi::Error::New(env, failure.step + ": " + failure.message);
  Napi::Object object = error.Value();
  object.Set("code", CodeName(failure.code));
  object.Set("step", failure.step);
  if (failure.err != 0) object.Set("errno", failure.err);
  if (!failure.verifierLog.empty()) object.Set("verifierLog", failure.verifierLog);
  return error;
}

Napi::Object ProgramStateToJs(Napi::Env env, const ProgramState& state) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("object", state.object);
  object.Set("program", state.program);
  object.Set("section", state.section);
  object.Set("attached", state.attached);
  object.Set("reason", state.reason);
  return object;
}

class Sensor : public Napi::ObjectWrap<Sensor>, public BatchSink {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Sensor",
                       {
                           InstanceMethod<&Sensor::Open>("open"),
                           InstanceMethod<&Sensor::SetSyscalls>("setSyscalls"),
                           InstanceMethod<&Sensor::SetWatches>("setWatches"),
                           InstanceMethod<&Sensor::SetIgnoredPids>("setIgnoredPids"),
                           InstanceMethod<&Sensor::SetConfigFlags>("setConfigFlags"),
                           InstanceMethod<&Sensor::SetEnforce>("setEnforce"),
                           InstanceMethod<&Sensor::SetEnforceCgroups>("setEnforceCgroups"),
                           InstanceMethod<&Sensor::Start>("start"),
                           InstanceMethod<&Sensor::Drain>("drain"),
                           InstanceMethod<&Sensor::Stats>("stats"),
                           InstanceMethod<&Sensor::Close>("close"),
                       });
  }

  explicit Sensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sensor>(info) {}
  ~Sensor() override { Shutdown(); }

 private:
  enum class State { Fresh, Open, Closed };

  // Runs `body`, turning a Failure into the JS NativeError.
  template <typename Body>
  Napi::Value Guard(Napi::Env env, Body body) {
    try {
      return body();
    } catch (const Failure& failure) {
      throw ToJsError(env, failure);
    }
  }

  void RequireOpen(const char* step) {
    if (state_ == State::Open) return;
    throw Failure{Code::InvalidState, step, 0,
                  state_ == State::Closed ? "the sensor is closed" : "the sensor is not open", ""};
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object options = ObjectArg(env, info[0], "options");
    uint64_t ring_bytes = IntegerArg(env, options.Get("ringBufferBytes"), "ringBufferBytes", 0,
                                     kMaxRingBufferBytes);
    uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    if (ring_bytes < page || (ring_bytes & (ring_bytes - 1)) != 0) {
      ThrowType(env, "ringBufferBytes must be a power of two of at least the page size (" +
                         std::to_string(page) + " bytes)");
    }
    std::vector<std::string> objects;
    Napi::Value requested = options.Get("objects");
    if (requested.IsUndefined()) {
      // Every object but those loaded on request only (enforce).
      for (const ProbeObject& probe : ProbeObjects())
        if (!probe.on_request) objects.push_back(probe.name);
    } else {
      Napi::Array list = ArrayArg(env, requested, "objects");
      if (list.Length() == 0) ThrowType(env, "objects must name at least one probe object");
      for (uint32_t i = 0; i < list.Length(); i++) {
        std::string name = StringArg(env, list.Get(i), "objects[" + std::to_string(i) + "]");
        if (FindProbeObject(name) == nullptr) {
          std::string known;
          for (const ProbeObject& probe : ProbeObjects())
            known += (known.empty() ? "" : ", ") + std::string(probe.name);
          ThrowType(env, "objects[" + std::to_string(i) + "] is not a known probe object: '" +
                             name + "' (known: " + known + ")");
        }
        objects.push_back(name);
      }
    }
    Napi::Value enforce = options.Get("enforce");
    if (!enforce.IsUndefined() && !enforce.IsBoolean()) ThrowType(env, "enforce must be a boolean");
    if (enforce.IsBoolean() && enforce.As<Napi::Boolean>().Value() &&
        std::find(objects.begin(), objects.end(), "enforce") == objects.end())
      objects.push_back("enforce");
    // Where the kernel refuses bpf_probe_write_user, the enforce probe loads without its spoiling.
    auto wanted = std::find(objects.begin(), objects.end(), "enforce");
    if (wanted != objects.end() && !KernelAllowsProbeWriteUser()) *wanted = "enforce_kill";
    return Guard(env, [&]() -> Napi::Value {
      if (state_ == State::Closed)
        throw Failure{Code::InvalidState, "open", 0, "the sensor is closed; create a new one", ""};
      bool expected = false;
      if (!g_sensor_open.compare_exchange_strong(expected, true))
        throw Failure{Code::InvalidState, "open", 0, "a sensor is already open in this process", ""};
      std::vector<ProgramState> states;
      try {
        states = loader_.Open(static_cast<uint32_t>(ring_bytes), objects);
        struct bpf_map* events = loader_.FindMap("vg_events");
        if (events == nullptr)
          throw Failure{Code::RingbufFailed, "open", 0, "no loaded object declares vg_events", ""};
        poller_.Open(bpf_map__fd(events), bpf_map__max_entries(events));
      } catch (...) {
        poller_.Close();
        loader_.Close();
        g_sensor_open = false;
        throw;
      }
      state_ = State::Open;
      env_ = env;
      Ref();  // an open sensor lives until close() or process exit
      napi_add_env_cleanup_hook(env, CleanupHook, this);
      Napi::Array result = Napi::Array::New(env, states.size());
      for (size_t i = 0; i < states.size(); i++) result.Set(i, ProgramStateToJs(env, states[i]));
      return result;
    });
  }

  Napi::Value SetSyscalls(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array list = ArrayArg(env, info[0], "entries");
    std::vector<SyscallEntry> entries;
    std::set<uint32_t> seen;
    for (uint32_t i = 0; i < list.Length(); i++) {
      std::string at = "entries[" + std::to_string(i) + "]";
      Napi::Object entry = ObjectArg(env, list.Get(i), at);
      uint32_t nr = IntegerArg(env, entry.Get("nr"), at + ".nr", 0, VG_SYSCALL_MAX - 1);
      uint32_t handler =
          IntegerArg(env, entry.Get("handler"), at + ".handler", 1, VG_H_MAX - 1);
      if (!seen.insert(nr).second) ThrowType(env, at + ".nr repeats syscall " + std::to_string(nr));
      entries.push_back(SyscallEntry{nr, handler});
    }
    return Guard(env, [&]() -> Napi::Value {
      RequireOpen("setSyscalls");
      WriteSyscalls(loader_, entries);
      return env.Undefined();
    });
  }

  Napi::Value SetWatches(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array list = ArrayArg(env, info[0], "entries");
    std::vector<WatchEntry> entries;
    std::set<std::string> paths, names;
    for (uint32_t i = 0; i < list.Length(); i++) {
      std::string at = "entries[" + std::to_string(i) + "]";
      Napi::Object entry = ObjectArg(env, list.Get(i), at);
      std::string kind = StringArg(env, entry.Get("kind"), at + ".kind");
      std::string path = StringArg(env, entry.Get("path"), at + ".path");
      uint32_t id = IntegerArg(env, entry.Get("id"), at + ".id", 0, UINT32_MAX);
      if (path.find('\0') != std::string::npos) ThrowType(env, at + ".path must not contain NUL");
      WatchEntry watch{WatchKind::Name, path, id};
      bool fs = kind.rfind("fs-", 0) == 0;
      if (fs) {
        Napi::Value m = entry.Get("magic");
        watch.magic = m.IsUndefined() ? 0 : IntegerArg(env, m, at + ".magic", 0, UINT32_MAX);
        kind = kind.substr(3);
        // the identity trie's key holds the magic in front of the path
        if (kind != "name" && path.size() >= VG_IDENT_PATH_MAX) {
          ThrowType(env, at + ".path must be shorter than " + std::to_string(VG_IDENT_PATH_MAX) +
                             " bytes");
        }
      }
      std::string dup = fs ? "fs" + std::to_string(watch.magic) + ":" + path : path;
      if (kind == "suffix") {
        watch.kind = WatchKind::Suffix;
        if (path.empty() || path.size() > VG_NAME_MAX)
          ThrowType(env, at + ".path must be 1 to " + std::to_string(VG_NAME_MAX) + " bytes");
        if (!names.insert("suffix:" + path).second) ThrowType(env, at + ".path repeats " + path);
      } else if (kind == "traversal") {
        watch.kind = WatchKind::Traversal;
        // the probe's filter looks for this one string
        if (path != "../") ThrowType(env, at + ".path of a traversal entry must be \"../\"");
        if (!names.insert("traversal:").second) ThrowType(env, at + " repeats the traversal entry");
      } else if (kind == "proc-link") {
        watch.kind = WatchKind::ProcLink;
        // the probe's filter looks for this one prefix of the argument
        if (path != "/proc/") ThrowType(env, at + ".path of a proc-link entry must be \"/proc/\"");
        if (!names.insert("proc-link:").second) ThrowType(env, at + " repeats the proc-link entry");
      } else if (kind == "exact" || kind == "prefix" || (!fs && (kind == "write-exact" || kind == "write-prefix"))) {
        bool write = kind.rfind("write-", 0) == 0;
        if (write) {
          kind = kind.substr(6);
          dup = "w:" + dup;
        }
        watch.kind = write ? (kind == "exact" ? WatchKind::WriteExact : WatchKind::WritePrefix)
                     : kind == "exact" ? (fs ? WatchKind::FsExact : WatchKind::Exact)
                                       : (fs ? WatchKind::FsPrefix : WatchKind::Prefix);
        if (path.empty() || path[0] != '/') ThrowType(env, at + ".path must be an absolute path");
        // vg_watch_prefix keys hold VG_WATCH_PATH_MAX path bytes (the kernel's LPM_TRIE limit).
        if (path.size() >= VG_WATCH_PATH_MAX) {
          ThrowType(env, at + ".path must be shorter than " + std::to_string(VG_WATCH_PATH_MAX) +
                             " bytes");
        }
        if (!paths.insert(dup).second) ThrowType(env, at + ".path repeats " + path);
      } else if (kind == "name") {
        if (fs) watch.kind = WatchKind::FsName;
        if (path.empty() || path.find('/') != std::string::npos)
          ThrowType(env, at + ".path must be a file name without '/'");
        if (path.size() >= VG_NAME_MAX) {
          ThrowType(env, at + ".path must be shorter than " + std::to_string(VG_NAME_MAX) +
                             " bytes");
        }
        if (!names.insert(dup).second) ThrowType(env, at + ".path repeats " + path);
      } else {
        ThrowType(env, at + ".kind must be 'exact', 'prefix', 'name', 'fs-exact', 'fs-prefix', 'fs-name', 'suffix', 'traversal', 'write-exact', 'write-prefix' or 'proc-link'");
      }
      entries.push_back(watch);
    }
    return Guard(env, [&]() -> Napi::Value {
      RequireOpen("setWatches");
      WriteWatches(loader_, entries);
      return env.Undefined();
    });
  }

  Napi::Value SetIgnoredPids(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array list = ArrayArg(env, info[0], "pids");
    if (list.Length() > kMaxIgnoredPids)
      ThrowType(env, "pids must hold at most " + std::to_string(kMaxIgnoredPids) + " entries");
    std::vector<uint32_t> pids;
    for (uint32_t i = 0; i < list.Length(); i++)
      pids.push_back(IntegerArg(env, list.Get(i), "pids[" + std::to_string(i) + "]", 1, INT32_MAX));
    return Guard(env, [&]() -> Napi::Value {
      RequireOpen("setIgnoredPids");
      WriteIgnoredPids(loader_, pids);
      return env.Undefined();
    });
  }

  Napi::Value SetConfigFlags(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t flags = IntegerArg(env, info[0], "flags", 0, UINT32_MAX);
    return Guard(env, [&]() -> Napi::Value {
      RequireOpen("setConfigFlags");
      WriteConfigFlags(loader_, flags);
      return env.Undefined();
    });
  }

  Napi::Value SetEnforce(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array list = ArrayArg(env, info[0], "entries");
    std::vector<EnforceEntry> entries;
    std::set<uint32_t> seen;
    for (uint32_t i = 0; i < list.Length(); i++) {
      std::string at = "entries[" + std::to_string(i) + "]";
      Napi::Object entry = ObjectArg(env, list.Get(i), at);
      EnforceEntry e;
      std::memset(&e, 0, sizeof e);
      e.nr = IntegerArg(env, entry.Get("nr"), at + ".nr", 0, VG_SYSCALL_MAX - 1);
      e.value.flags = IntegerArg(env, entry.Get("flags"), at + ".flags", 0, VG_ENF_FLAGS_ALL);
      Napi::Value spoil = entry.Get("spoil");
      Napi::Value spoil_arg = entry.Get("spoilArg");
      e.value.spoil = spoil.IsUndefined()
                          ? 0
                          : IntegerArg(env, spoil, at + ".spoil", 0, VG_SPOIL_MAX - 1);
      e.value.spoil_arg = spoil_arg.IsUndefined() ? 0 : IntegerArg(env, spoil_arg, at + ".spoilArg", 0, 5);
      if ((e.value.flags & VG_ENF_SPOIL) && e.value.spoil == 0)
        ThrowType(env, at + ".spoil must name how to spoil when flags has VG_ENF_SPOIL");
      if (!seen.insert(e.nr).second) ThrowType(env, at + ".nr repeats syscall " + std::to_string(e.nr));
      entries.push_back(e);
    }
    return Guard(env, [&]() -> Napi::Value {
      RequireOpen("setEnforce");
      WriteEnforce(loader_, entries);
      return env.Undefined();
    });
  }

  Napi::Value SetEnforceCgroups(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array list = ArrayArg(env, info[0], "ids");
    if (list.Length() > VG_ENFORCE_CGROUPS_MAX)
      ThrowType(env, "ids must hold at most " + std::to_string(VG_ENFORCE_CGROUPS_MAX) + " entries");
    std::vector<uint64_t> ids;
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value v = list.Get(i);
      std::string at = "ids[" + std::to_string(i) + "]";
      if (v.IsBigInt()) {
        bool lossless = false;
        uint64_t id = v.As<Napi::BigInt>().Uint64Value(&lossless);
        if (!lossless || id == 0) ThrowType(env, at + " must be a cgroup id (1 to 2^64-1)");
        ids.push_back(id);
      } else {
        ids.push_back(IntegerArg(env, v, at, 1, (1ull << 53) - 1));
      }
    }
    return Guard(env, [&]() -> Napi::Value {
      RequireOpen("setEnforceCgroups");
      WriteEnforceCgroups(loader_, ids);
      return env.Undefined();
    });
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) ThrowType(env, "callback must be a function");
    Napi::Object options = ObjectArg(env, info[1], "options");
    uint32_t max_records =
        IntegerArg(env, options.Get("maxRecords"), "maxRecords", 1, kMaxBatchRecords);
    uint32_t max_bytes =
        IntegerArg(env, options.Get("maxBytes"), "maxBytes", kMinBatchBytes, kMaxBatchBytes);
    return Guard(env, [&]() -> Napi::Value {
      RequireOpen("start");
      if (poller_.Started()) throw Failure{Code::InvalidState, "start", 0, "already started", ""};
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr)
        throw Failure{Code::RingbufFailed, "start", 0, "no event loop", ""};
      callback_ = Napi::Persistent(info[0].As<Napi::Function>());
      async_ = std::make_unique<Napi::AsyncContext>(env, "vigil:ringbuf");
      poller_.Start(loop, this, max_records, max_bytes);
      return env.Undefined();
    });
  }

  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Guard(env, [&]() -> Napi::Value {
      RequireOpen("drain");
      if (!poller_.Started())
        throw Failure{Code::InvalidState, "drain", 0, "start() has not been called", ""};
      if (poller_.Consuming())
        throw Failure{Code::InvalidState, "drain", 0, "called from the batch callback", ""};
      in_drain_ = true;
      uint64_t records;
      try {
        records = poller_.Consume();
      } catch (...) {
        in_drain_ = false;
        throw;
      }
      in_drain_ = false;
      FinishClose();
      RethrowPending();
      return Napi::Number::New(env, static_cast<double>(records));
    });
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Guard(env, [&]() -> Napi::Value {
      RequireOpen("stats");
      Counters counters = ReadCounters(loader_);
      Napi::Array emitted = Napi::Array::New(env, VG_KIND_MAX);
      Napi::Array dropped = Napi::Array::New(env, VG_KIND_MAX);
      Napi::Array shed = Napi::Array::New(env, VG_KIND_MAX);
      Napi::Array coalesced = Napi::Array::New(env, VG_KIND_MAX);
      for (uint32_t k = 0; k < VG_KIND_MAX; k++) {
        emitted.Set(k, Napi::BigInt::New(env, counters.emitted[k]));
        dropped.Set(k, Napi::BigInt::New(env, counters.dropped[k]));
        shed.Set(k, Napi::BigInt::New(env, counters.shed[k]));
        coalesced.Set(k, Napi::BigInt::New(env, counters.coalesced[k]));
      }
      Napi::Object stats = Napi::Object::New(env);
      stats.Set("emitted", emitted);
      stats.Set("dropped", dropped);
      stats.Set("shed", shed);
      stats.Set("coalesced", coalesced);
      stats.Set("ringUsedBytes", static_cast<double>(poller_.UsedBytes()));
      stats.Set("ringSizeBytes", static_cast<double>(poller_.SizeBytes()));
      stats.Set("malformedRecords", static_cast<double>(poller_.Malformed()));
      std::vector<std::pair<uint64_t, uint64_t>> by_cgroup = ReadDroppedCgroups(loader_);
      Napi::Array dropped_cgroups = Napi::Array::New(env, by_cgroup.size());
      for (size_t i = 0; i < by_cgroup.size(); i++) {
        Napi::Array pair = Napi::Array::New(env, 2);
        pair.Set(0u, Napi::BigInt::New(env, by_cgroup[i].first));
        pair.Set(1u, Napi::BigInt::New(env, by_cgroup[i].second));
        dropped_cgroups.Set(static_cast<uint32_t>(i), pair);
      }
      stats.Set("droppedByCgroup", dropped_cgroups);
      vg_enforce_counters enforce;
      if (ReadEnforceCounters(loader_, &enforce)) {
        Napi::Object e = Napi::Object::New(env);
        e.Set("signalled", Napi::BigInt::New(env, static_cast<uint64_t>(enforce.signalled)));
        e.Set("signalFailed", Napi::BigInt::New(env, static_cast<uint64_t>(enforce.signal_failed)));
        e.Set("spoiled", Napi::BigInt::New(env, static_cast<uint64_t>(enforce.spoiled)));
        e.Set("spoilFailed", Napi::BigInt::New(env, static_cast<uint64_t>(enforce.spoil_failed)));
        stats.Set("enforce", e);
      }
      return stats;
    });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool was_open = state_ == State::Open;
    Shutdown();
    state_ = State::Closed;
    if (was_open) Unref();
    return info.Env().Undefined();
  }

  // BatchSink: called on the main thread from uv_poll (through Consume) or from drain().
  bool OnBatch(const uint8_t* data, size_t length, uint32_t count) override {
    if (state_ != State::Open || callback_.IsEmpty()) return false;
    Napi::Env env = callback_.Env();
    Napi::HandleScope scope(env);
    try {
      Napi::Buffer<uint8_t> batch = Napi::Buffer<uint8_t>::Copy(env, data, length);
      Napi::Number records = Napi::Number::New(env, count);
      if (in_drain_) {
        callback_.Call({batch, records});
      } else {
        callback_.MakeCallback(env.Global(), {batch, records}, *async_);
      }
    } catch (Napi::Error& error) {
      pending_ = std::make_unique<Napi::Error>(std::move(error));
      return false;
    }
    return state_ == State::Open;
  }

  void OnReadable(int status) override {
    Napi::Env env = callback_.Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      Failure failure{Code::RingbufFailed, "poll", -status,
                      std::string("polling the ring buffer: ") + uv_strerror(status), ""};
      napi_fatal_exception(env, ToJsError(env, failure).Value());
      return;
    }
    try {
      poller_.Consume();
    } catch (const Failure& failure) {
      napi_fatal_exception(env, ToJsError(env, failure).Value());
    }
    FinishClose();
    if (pending_ != nullptr) {
      Napi::Value error = pending_->Value();
      pending_.reset();
      napi_fatal_exception(env, error);
    }
  }

  void RethrowPending() {
    if (pending_ == nullptr) return;
    Napi::Error error = std::move(*pending_);
    pending_.reset();
    throw error;
  }

  // Frees what close() could not free while a consume was running.
  void FinishClose() {
    if (state_ == State::Open || poller_.Consuming()) return;
    async_.reset();
    callback_.Reset();
  }

  // Detaches and frees everything native; no JS is called. Idempotent.
  void Shutdown() {
    if (state_ != State::Open) return;
    poller_.Close();  // deferred to the end of a running consume
    loader_.Close();
    g_sensor_open = false;
    napi_remove_env_cleanup_hook(env_, CleanupHook, this);
    state_ = State::Closed;
    FinishClose();
  }

  // At environment teardown (process exit, worker end) nothing of ours stays attached.
  static void CleanupHook(void* arg) {
    Sensor* self = static_cast<Sensor*>(arg);
    self->poller_.Close();
    self->loader_.Close();
    g_sensor_open = false;
    self->state_ = State::Closed;
  }

  State state_ = State::Fresh;
  napi_env env_ = nullptr;
  Loader loader_;
  Poller poller_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> async_;
  std::unique_ptr<Napi::Error> pending_;
  bool in_drain_ = false;
};

struct InstanceData {
  Napi::FunctionReference sensor;
};

Napi::Value CreateSensor(const Napi::CallbackInfo& info) {
  InstanceData* data = info.Env().GetInstanceData<InstanceData>();
  return data->sensor.New({});
}

Napi::Value Objects(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<ProbeObject>& table = ProbeObjects();
  Napi::Array names = Napi::Array::New(env, table.size());
  for (size_t i = 0; i < table.size(); i++) names.Set(i, table[i].name);
  return names;
}

// Gives the malloc heaps' free pages back to the system (every arena, not only the main one): the
// daemon calls it when idle, after a full GC, so a burst's peak does not stay resident.
Napi::Value TrimMemory(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), TrimMalloc()); }

// Releases the executable's clean page mappings (memory.h): the resident bytes released.
Napi::Value ReleaseExecutable(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(vg::ReleaseExecutablePages()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  libbpf_log::Install();
  InstanceData* data = new InstanceData{Napi::Persistent(Sensor::Define(env))};
  env.SetInstanceData(data);
  exports.Set("createSensor", Napi::Function::New<CreateSensor>(env, "createSensor"));
  exports.Set("objects", Napi::Function::New<Objects>(env, "objects"));
  exports.Set("trimMemory", Napi::Function::New<TrimMemory>(env, "trimMemory"));
  exports.Set("releaseExecutablePages", Napi::Function::New<ReleaseExecutable>(env, "releaseExecutablePages"));
  return exports;
}

}  // namespace
}  // namespace vg

static Napi::Object InitVigilNative(Napi::Env env, Napi::Object exports) {
  return vg::Init(env, exports);
}

NODE_API_MODULE(vigil_native, InitVigilNative)

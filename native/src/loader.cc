#include "loader.h"

#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "errors.h"
#include "probes.h"

namespace vg {
namespace {

constexpr char kVmlinuxBtf[] = "/sys/kernel/btf/vmlinux";
constexpr char kSharedPrefix[] = "vg_";
constexpr char kRingBufferMap[] = "vg_events";
constexpr char kKprobePmu[] = "/sys/bus/event_source/devices/kprobe/type";

// "tp_btf/sys_enter" -> "tp_btf"; "?fentry/x" -> "fentry".
std::string SectionKind(const char* section) {
  std::string s = section != nullptr ? section : "";
  if (!s.empty() && s[0] == '?') s.erase(0, 1);
  size_t slash = s.find('/');
  return slash == std::string::npos ? s : s.substr(0, slash);
}

// Tracepoint-family programs are what vigil is designed on: every supported kernel must load them,
// so their failure is an error. Other kinds (fentry, lsm, kprobe, ...) are optional features that a
// kernel may refuse; such a program is dropped with a reason.
bool IsOptionalKind(const std::string& kind) {
  static const std::set<std::string> baseline = {"tp_btf", "tp", "tracepoint", "raw_tp",
                                                 "raw_tracepoint", "iter", "iter.s"};
  return baseline.count(kind) == 0;
}

// Errnos with which a kernel refuses a program kind it does not offer (or offers to no one here).
bool IsFeatureRefusal(int err) {
  return err == EPERM || err == EOPNOTSUPP || err == 524 /* ENOTSUPP */ || err == EINVAL ||
         err == ENOENT || err == ESRCH;
}

std::string RefusalReason(const std::string& kind, int err, bool at_attach) {
  std::string what = kind + (at_attach ? " attach" : "");
  switch (err) {
    case EPERM:
    case EACCES: return what + " refused by this kernel (" + ErrnoName(err) + ")";
    case EOPNOTSUPP:
    case 524: return what + " not supported by this kernel (" + ErrnoName(err) + ")";
    case ENOENT:
    case ESRCH: return what + " target not found in this kernel (" + ErrnoName(err) + ")";
    default: return what + " failed: " + std::strerror(err) + " (" + ErrnoName(err) + ")";
  }
}

// libbpf names the program that failed: "prog 'NAME': failed to load: -ERR".
std::string FailedProgram(const std::string& log) {
  static const char kPrefix[] = "prog '";
  static const char kSuffix[] = "': failed to load:";
  size_t end = log.rfind(kSuffix);
  if (end == std::string::npos) return "";
  size_t begin = log.rfind(kPrefix, end);
  if (begin == std::string::npos) return "";
  begin += sizeof kPrefix - 1;
  return log.substr(begin, end - begin);
}

// Whether the capture holds a non-empty verifier log for `program`.
bool HasVerifierLog(const std::string& log, const std::string& program) {
  std::string marker = "prog '" + program + "': -- BEGIN PROG LOAD LOG --\n";
  size_t at = log.rfind(marker);
  if (at == std::string::npos) return false;
  return log.compare(at + marker.size(), 3, "-- ") != 0;
}

bool IsShared(const char* name) {
  return name != nullptr && std::strncmp(name, kSharedPrefix, sizeof kSharedPrefix - 1) == 0;
}

}  // namespace

std::vector<ProgramState> Loader::Open(uint32_t ring_buffer_bytes,
                                       const std::vector<std::string>& objects) {
  if (IsOpen()) throw Failure{Code::InvalidState, "open", 0, "the probes are already loaded", ""};
  if (access(kVmlinuxBtf, R_OK) != 0) {
    int err = errno;
    throw Failure{Code::BtfMissing, "open", err,
                  std::string("this kernel exposes no BTF (") + kVmlinuxBtf + ": " +
                      std::strerror(err) + "); vigil's CO-RE probes need CONFIG_DEBUG_INFO_BTF",
                  ""};
  }
  std::vector<ProgramState> states;
  try {
    for (const ProbeObject& probe : ProbeObjects()) {
      bool wanted = false;
      for (const std::string& name : objects) wanted = wanted || name == probe.name;
      if (!wanted) continue;
      std::map<std::string, std::string> disabled;
      struct bpf_object* object = LoadObject(probe.name, ring_buffer_bytes, disabled);
      objects_.push_back(Loaded{probe.name, object});
      struct bpf_map* map;
      bpf_object__for_each_map(map, object) {
        const char* name = bpf_map__name(map);
        if (IsShared(name) && shared_maps_.count(name) == 0) shared_maps_[name] = bpf_map__fd(map);
      }
      AttachPrograms(objects_.back(), disabled, states);
    }
  } catch (...) {
    Close();
    throw;
  }
  size_t loaded = 0, attached = 0;
  std::string reasons;
  for (const ProgramState& state : states) {
    if (state.attached) attached++;
    else reasons += (reasons.empty() ? "" : "; ") + state.program + ": " + state.reason;
  }
  for (const Loaded& l : objects_) {
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, l.object) loaded += bpf_program__fd(prog) >= 0 ? 1 : 0;
  }
  if (loaded == 0) {
    Close();
    throw Failure{Code::ProbeLoadFailed, "load", 0,
                  "no probe program could be loaded" + (reasons.empty() ? "" : ": " + reasons), ""};
  }
  if (attached == 0) {
    Close();
    throw Failure{Code::ProbeAttachFailed, "attach", 0,
                  "no probe program could be attached: " + reasons, ""};
  }
  return states;
}

struct bpf_object* Loader::OpenObject(const std::string& name, uint32_t ring_buffer_bytes,
                                      const std::map<std::string, std::string>& disabled) {
  const ProbeObject* probe = FindProbeObject(name);
  size_t size = 0;
  const void* bytes = probe->elf_bytes(&size);
  struct bpf_object_open_opts opts;
  std::memset(&opts, 0, sizeof opts);
  opts.sz = sizeof opts;
  opts.object_name = probe->name;
  struct bpf_object* object = bpf_object__open_mem(bytes, size, &opts);
  if (object == nullptr) {
    int err = errno;
    throw Failure{Code::ProbeLoadFailed, "open", err,
                  "bpf_object__open_mem(" + name + ") failed: " + std::strerror(err) + " [" +
                      libbpf_log::LastLine(libbpf_log::Take()) + "]",
                  ""};
  }
  struct bpf_map* map;
  bpf_object__for_each_map(map, object) {
    const char* map_name = bpf_map__name(map);
    int err = 0;
    // Nothing is pinned: vigil's maps live as long as its fds, so no bpffs is needed.
    if (bpf_map__pin_path(map) != nullptr) err = bpf_map__set_pin_path(map, nullptr);
    if (err == 0 && map_name != nullptr && std::strcmp(map_name, kRingBufferMap) == 0)
      err = bpf_map__set_max_entries(map, ring_buffer_bytes);
    auto shared = map_name != nullptr ? shared_maps_.find(map_name) : shared_maps_.end();
    if (err == 0 && shared != shared_maps_.end()) err = bpf_map__reuse_fd(map, shared->second);
    if (err != 0) {
      bpf_object__close(object);
      throw SystemFailure(Code::ProbeLoadFailed, "open", -err,
                          "preparing map " + std::string(map_name ? map_name : "?") + " of " + name);
    }
  }
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, object) {
    if (disabled.count(bpf_program__name(prog)) != 0) bpf_program__set_autoload(prog, false);
  }
  return object;
}

struct bpf_object* Loader::LoadObject(const std::string& name, uint32_t ring_buffer_bytes,
                                      std::map<std::string, std::string>& disabled) {
  // A failed bpf_object__load cannot be retried on the same object, so each refused program costs
  // a fresh open; at most one round per program.
  for (;;) {
    libbpf_log::Begin();
    struct bpf_object* object = OpenObject(name, ring_buffer_bytes, disabled);
    int err = -bpf_object__load(object);
    std::string log = libbpf_log::Take();
    if (err == 0) return object;

    std::string failed = FailedProgram(log);
    struct bpf_program* prog =
        failed.empty() ? nullptr : bpf_object__find_program_by_name(object, failed.c_str());
    std::string kind = prog != nullptr ? SectionKind(bpf_program__section_name(prog)) : "";
    bool verifier = prog != nullptr && HasVerifierLog(log, failed);
    bpf_object__close(object);

    if (prog != nullptr && !verifier && IsOptionalKind(kind) && IsFeatureRefusal(err) &&
        disabled.count(failed) == 0) {
      disabled[failed] = RefusalReason(kind, err, false);
      continue;
    }
    if (prog != nullptr && verifier) {
      throw Failure{Code::ProbeLoadFailed, "load", err,
                    "the verifier refused program " + failed + " of " + name + " (" +
                        ErrnoName(err) + ")",
                    libbpf_log::VerifierTail(log)};
    }
    Failure failure = SystemFailure(Code::ProbeLoadFailed, "load", err,
                                    prog != nullptr ? "loading program " + failed + " of " + name
                                                    : "loading " + name);
    std::string said = libbpf_log::LastLine(log);
    if (!said.empty()) failure.message += " [" + said + "]";
    throw failure;
  }
}

void Loader::AttachPrograms(const Loaded& loaded, const std::map<std::string, std::string>& disabled,
                            std::vector<ProgramState>& states) {
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, loaded.object) {
    ProgramState state;
    state.object = loaded.name;
    state.program = bpf_program__name(prog);
    const char* section = bpf_program__section_name(prog);
    state.section = section != nullptr ? section : "";
    auto refused = disabled.find(state.program);
    if (refused != disabled.end()) {
      state.reason = refused->second;
    } else if (!bpf_program__autoload(prog) || bpf_program__fd(prog) < 0) {
      state.reason = "not loaded (optional section, autoload off)";
    } else {
      libbpf_log::Begin();
      struct bpf_link* link = bpf_program__attach(prog);
      int err = errno;
      libbpf_log::Take();
      if (link != nullptr) {
        links_.push_back(link);
        state.attached = true;
      } else {
        std::string kind = SectionKind(section);
        bool kprobe = kind.compare(0, 6, "kprobe") == 0 || kind.compare(0, 9, "kretprobe") == 0;
        if (kprobe && access(kKprobePmu, F_OK) != 0)
          state.reason = kind + " not supported by this kernel (no kprobe PMU, " + ErrnoName(err) + ")";
        else
          state.reason = RefusalReason(kind, err, true);
      }
    }
    states.push_back(state);
  }
}

void Loader::Close() {
  for (struct bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
  for (const Loaded& loaded : objects_) bpf_object__close(loaded.object);
  objects_.clear();
  shared_maps_.clear();
}

struct bpf_map* Loader::FindMap(const char* name) const {
  for (const Loaded& loaded : objects_) {
    struct bpf_map* map = bpf_object__find_map_by_name(loaded.object, name);
    if (map != nullptr && bpf_map__fd(map) >= 0) return map;
  }
  return nullptr;
}

}  // namespace vg

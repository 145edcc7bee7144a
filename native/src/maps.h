// Writes the configuration maps and reads the counters. Arguments arrive validated by the binding;
// these functions check the maps' shapes against probes/common.h and report failed bpf(2) calls.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <linux/types.h>

#include "common.h"
#include "enforce.h"
#include "loader.h"

namespace vg {

struct SyscallEntry {
  uint32_t nr;
  uint32_t handler;
};

// Fs* kinds are identity watches: a path within a filesystem (of superblock magic `magic`, 0 any).
// Suffix: the path ends with `path`. Traversal: the open class of path arguments containing "../".
// WriteExact/WritePrefix: as Exact/Prefix, for write-intent opens and rename/link/unlink only
// (vg_watch_write). ProcLink: the open class of write-intent opens of arguments below "/proc/".
enum class WatchKind { Exact, Prefix, Name, FsExact, FsPrefix, FsName, Suffix, Traversal, WriteExact, WritePrefix, ProcLink };

struct WatchEntry {
  WatchKind kind;
  std::string path;
  uint32_t id;
  uint32_t magic = 0;
};

struct EnforceEntry {
  uint32_t nr;
  vg_enforce_entry value;
};

struct Counters {
  uint64_t emitted[VG_KIND_MAX];
  uint64_t dropped[VG_KIND_MAX];
  uint64_t shed[VG_KIND_MAX];       // the part of dropped the probes shed (ring share, budgets)
  uint64_t coalesced[VG_KIND_MAX];  // repeats not sent (probes/common.h VG_COALESCE_*)
};

void WriteSyscalls(const Loader& loader, const std::vector<SyscallEntry>& entries);
void WriteWatches(const Loader& loader, const std::vector<WatchEntry>& entries);
void WriteIgnoredPids(const Loader& loader, const std::vector<uint32_t>& pids);
void WriteConfigFlags(const Loader& loader, uint32_t flags);
Counters ReadCounters(const Loader& loader);
// Replaces the whole vg_enforce table (calls not listed are not enforced). Throws InvalidState when
// the enforce object is not loaded.
void WriteEnforce(const Loader& loader, const std::vector<EnforceEntry>& entries);
// Replaces the set of container cgroup v2 ids in which VG_ENF_CONTAINERS_ONLY calls are enforced.
void WriteEnforceCgroups(const Loader& loader, const std::vector<uint64_t>& ids);
// vg_enforce_counters summed over CPUs; false when the enforce object is not loaded.
bool ReadEnforceCounters(const Loader& loader, vg_enforce_counters* out);

// vg_dropped_cgroups: (cgroup id, records dropped) for each cgroup that lost records, at most
// VG_DROPPED_CGROUPS_MAX.
std::vector<std::pair<uint64_t, uint64_t>> ReadDroppedCgroups(const Loader& loader);
// max_entries of vg_ignore (how many pids setIgnoredPids takes).
uint32_t IgnoredPidsCapacity(const Loader& loader);

}  // namespace vg

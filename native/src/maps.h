// Writes the configuration maps and reads the counters. Arguments arrive validated by the binding;
// these functions check the maps' shapes against probes/common.h and report failed bpf(2) calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <linux/types.h>

#include "common.h"
#include "loader.h"

namespace vg {

struct SyscallEntry {
  uint32_t nr;
  uint32_t handler;
};

enum class WatchKind { Exact, Prefix, Name };

struct WatchEntry {
  WatchKind kind;
  std::string path;
  uint32_t id;
};

struct Counters {
  uint64_t emitted[VG_KIND_MAX];
  uint64_t dropped[VG_KIND_MAX];
};

void WriteSyscalls(const Loader& loader, const std::vector<SyscallEntry>& entries);
void WriteWatches(const Loader& loader, const std::vector<WatchEntry>& entries);
void WriteIgnoredPids(const Loader& loader, const std::vector<uint32_t>& pids);
void WriteConfigFlags(const Loader& loader, uint32_t flags);
Counters ReadCounters(const Loader& loader);
// max_entries of vg_ignore (how many pids setIgnoredPids takes).
uint32_t IgnoredPidsCapacity(const Loader& loader);

}  // namespace vg

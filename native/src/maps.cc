#include "maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "errors.h"

namespace vg {
namespace {

// A map of a loaded object with the key and value sizes this code was written against.
int MapFd(const Loader& loader, const char* name, const char* step, size_t key_size,
          size_t value_size) {
  struct bpf_map* map = loader.FindMap(name);
  if (map == nullptr) {
    throw Failure{Code::InvalidState, step, 0,
                  std::string("no loaded probe object declares ") + name +
                      (loader.IsOpen() ? "" : " (the sensor is not open)"),
                  ""};
  }
  if (bpf_map__key_size(map) != key_size || bpf_map__value_size(map) != value_size) {
    throw Failure{Code::MapUpdateFailed, step, 0,
                  std::string("map ") + name + " has key/value size " +
                      std::to_string(bpf_map__key_size(map)) + "/" +
                      std::to_string(bpf_map__value_size(map)) + ", expected " +
                      std::to_string(key_size) + "/" + std::to_string(value_size) +
                      " (probes and native/ disagree on probes/*.h)",
                  ""};
  }
  return bpf_map__fd(map);
}

void Update(int fd, const void* key, const void* value, const char* map, const char* step) {
  if (bpf_map_update_elem(fd, key, value, BPF_ANY) != 0)
    throw SystemFailure(Code::MapUpdateFailed, step, errno, std::string("updating ") + map);
}

// Deletes every key of a hash or LPM map that `keep` rejects. Keys are collected first: deleting
// while walking with get_next_key restarts the walk on some map types.
template <typename Key, typename Keep>
void DeleteStale(int fd, const char* map, const char* step, Keep keep) {
  std::vector<Key> stale;
  Key key, next;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    if (!keep(next)) stale.push_back(next);
    key = next;
    prev = &key;
  }
  if (errno != ENOENT)
    throw SystemFailure(Code::MapUpdateFailed, step, errno, std::string("listing ") + map);
  for (const Key& k : stale) {
    if (bpf_map_delete_elem(fd, &k) != 0 && errno != ENOENT)
      throw SystemFailure(Code::MapUpdateFailed, step, errno, std::string("deleting from ") + map);
  }
}

vg_config ReadConfig(int fd, const char* step) {
  uint32_t zero = 0;
  vg_config config;
  std::memset(&config, 0, sizeof config);
  if (bpf_map_lookup_elem(fd, &zero, &config) != 0)
    throw SystemFailure(Code::MapUpdateFailed, step, errno, "reading vg_config");
  return config;
}

}  // namespace

void WriteSyscalls(const Loader& loader, const std::vector<SyscallEntry>& entries) {
  const char* step = "setSyscalls";
  int fd = MapFd(loader, "vg_syscalls", step, sizeof(uint32_t), sizeof(uint32_t));
  uint32_t size = bpf_map__max_entries(loader.FindMap("vg_syscalls"));
  // The whole table is written: entries not listed become VG_H_IGNORE (0).
  std::vector<uint32_t> keys(size), values(size, 0);
  for (uint32_t i = 0; i < size; i++) keys[i] = i;
  for (const SyscallEntry& e : entries) {
    if (e.nr >= size) {
      throw Failure{Code::MapUpdateFailed, step, 0,
                    "syscall " + std::to_string(e.nr) + " is beyond vg_syscalls (" +
                        std::to_string(size) + " entries)",
                    ""};
    }
    values[e.nr] = e.handler;
  }
  uint32_t count = size;
  if (bpf_map_update_batch(fd, keys.data(), values.data(), &count, nullptr) == 0) return;
  for (uint32_t i = 0; i < size; i++) Update(fd, &keys[i], &values[i], "vg_syscalls", step);
}

void WriteWatches(const Loader& loader, const std::vector<WatchEntry>& entries) {
  const char* step = "setWatches";
  int prefix_fd = MapFd(loader, "vg_watch_prefix", step, sizeof(vg_watch_prefix_key),
                        sizeof(vg_watch_value));
  int name_fd =
      MapFd(loader, "vg_watch_name", step, sizeof(vg_watch_name_key), sizeof(vg_watch_value));
  int ident_fd = MapFd(loader, "vg_watch_ident", step, sizeof(vg_watch_ident_key),
                       sizeof(vg_watch_value));
  int ident_name_fd = MapFd(loader, "vg_watch_ident_name", step, sizeof(vg_watch_ident_name_key),
                            sizeof(vg_watch_value));
  int suffix_fd = MapFd(loader, "vg_watch_suffix", step, sizeof(vg_watch_suffix_key),
                        sizeof(vg_watch_value));
  int write_fd = MapFd(loader, "vg_watch_write", step, sizeof(vg_watch_prefix_key),
                       sizeof(vg_watch_value));
  int config_fd = MapFd(loader, "vg_config", step, sizeof(uint32_t), sizeof(vg_config));
  uint32_t proclink_id = 0;
  std::vector<std::pair<vg_watch_prefix_key, vg_watch_value>> writes;
  std::set<std::string> write_set;

  std::vector<std::pair<vg_watch_suffix_key, vg_watch_value>> suffixes;
  std::set<std::string> suffix_set;
  uint32_t traversal_id = 0;
  std::vector<std::pair<vg_watch_prefix_key, vg_watch_value>> prefixes;
  std::vector<std::pair<vg_watch_name_key, vg_watch_value>> names;
  std::vector<std::pair<vg_watch_ident_key, vg_watch_value>> idents;
  std::vector<std::pair<vg_watch_ident_name_key, vg_watch_value>> ident_names;
  std::set<std::string> prefix_set, name_set, ident_set, ident_name_set;
  // identity keys are compared as (magic, bytes): the set key spells both
  auto fs_key = [](uint32_t magic, const char* p, size_t n) {
    return std::to_string(magic) + ":" + std::string(p, n);
  };
  // The prefix trie and the write trie share the key: a path matched on its first prefixlen bits.
  auto prefix_key = [](const std::string& path) {
    vg_watch_prefix_key key;
    std::memset(&key, 0, sizeof key);
    key.prefixlen = static_cast<uint32_t>(path.size() * 8);
    std::memcpy(key.path, path.data(), path.size());
    return key;
  };
  for (const WatchEntry& e : entries) {
    bool exact = e.kind == WatchKind::Exact || e.kind == WatchKind::FsExact ||
                 e.kind == WatchKind::WriteExact;
    vg_watch_value value{exact ? VG_WATCH_EXACT : 0u, e.id};
    if (e.kind == WatchKind::Traversal) {
      traversal_id = e.id;
    } else if (e.kind == WatchKind::ProcLink) {
      proclink_id = e.id;
    } else if (e.kind == WatchKind::WriteExact || e.kind == WatchKind::WritePrefix) {
      value.flags |= VG_WATCH_WRITE_ONLY;
      writes.emplace_back(prefix_key(e.path), value);
      write_set.insert(e.path);
    } else if (e.kind == WatchKind::Suffix) {
      // reversed, so the trie's longest prefix of a path's reversed tail is its longest suffix
      vg_watch_suffix_key key;
      std::memset(&key, 0, sizeof key);
      key.prefixlen = static_cast<uint32_t>(e.path.size() * 8);
      std::string rev(e.path.rbegin(), e.path.rend());
      std::memcpy(key.rev, rev.data(), rev.size());
      suffixes.emplace_back(key, value);
      suffix_set.insert(rev);
    } else if (e.kind == WatchKind::FsName) {
      vg_watch_ident_name_key key;
      std::memset(&key, 0, sizeof key);
      key.magic = e.magic;
      std::memcpy(key.name, e.path.data(), e.path.size());
      ident_names.emplace_back(key, value);
      ident_name_set.insert(fs_key(e.magic, e.path.data(), e.path.size()));
    } else if (e.kind == WatchKind::FsExact || e.kind == WatchKind::FsPrefix) {
      vg_watch_ident_key key;
      std::memset(&key, 0, sizeof key);
      key.prefixlen = static_cast<uint32_t>(32 + e.path.size() * 8);
      key.magic = e.magic;
      std::memcpy(key.path, e.path.data(), e.path.size());
      idents.emplace_back(key, value);
      ident_set.insert(fs_key(e.magic, e.path.data(), e.path.size()));
    } else if (e.kind == WatchKind::Name) {
      vg_watch_name_key key;
      std::memset(&key, 0, sizeof key);
      std::memcpy(key.name, e.path.data(), e.path.size());
      names.emplace_back(key, value);
      name_set.insert(e.path);
    } else {
      prefixes.emplace_back(prefix_key(e.path), value);
      prefix_set.insert(e.path);
    }
  }
  DeleteStale<vg_watch_prefix_key>(prefix_fd, "vg_watch_prefix", step,
                                   [&](const vg_watch_prefix_key& k) {
                                     size_t len = std::min<size_t>(k.prefixlen / 8, sizeof k.path);
                                     return prefix_set.count(std::string(k.path, len)) != 0;
                                   });
  DeleteStale<vg_watch_prefix_key>(write_fd, "vg_watch_write", step,
                                   [&](const vg_watch_prefix_key& k) {
                                     size_t len = std::min<size_t>(k.prefixlen / 8, sizeof k.path);
                                     return write_set.count(std::string(k.path, len)) != 0;
                                   });
  DeleteStale<vg_watch_name_key>(name_fd, "vg_watch_name", step, [&](const vg_watch_name_key& k) {
    return name_set.count(std::string(k.name, strnlen(k.name, VG_NAME_MAX))) != 0;
  });
  DeleteStale<vg_watch_ident_key>(ident_fd, "vg_watch_ident", step, [&](const vg_watch_ident_key& k) {
    size_t len = std::min<size_t>(k.prefixlen < 32 ? 0 : (k.prefixlen - 32) / 8, sizeof k.path);
    return ident_set.count(fs_key(k.magic, k.path, len)) != 0;
  });
  DeleteStale<vg_watch_ident_name_key>(
      ident_name_fd, "vg_watch_ident_name", step, [&](const vg_watch_ident_name_key& k) {
        return ident_name_set.count(fs_key(k.magic, k.name, strnlen(k.name, VG_NAME_MAX))) != 0;
      });
  DeleteStale<vg_watch_suffix_key>(suffix_fd, "vg_watch_suffix", step, [&](const vg_watch_suffix_key& k) {
    size_t len = std::min<size_t>(k.prefixlen / 8, sizeof k.rev);
    return suffix_set.count(std::string(k.rev, len)) != 0;
  });
  for (const auto& p : suffixes) Update(suffix_fd, &p.first, &p.second, "vg_watch_suffix", step);
  for (const auto& p : idents) Update(ident_fd, &p.first, &p.second, "vg_watch_ident", step);
  for (const auto& n : ident_names)
    Update(ident_name_fd, &n.first, &n.second, "vg_watch_ident_name", step);
  for (const auto& p : prefixes) Update(prefix_fd, &p.first, &p.second, "vg_watch_prefix", step);
  for (const auto& n : names) Update(name_fd, &n.first, &n.second, "vg_watch_name", step);
  for (const auto& p : writes) Update(write_fd, &p.first, &p.second, "vg_watch_write", step);

  // The probes compare watch_gen to notice that the table changed.
  vg_config config = ReadConfig(config_fd, step);
  config.watch_gen++;
  config.traversal_id = traversal_id;
  config.proclink_id = proclink_id;
  uint32_t zero = 0;
  Update(config_fd, &zero, &config, "vg_config", step);
}

void WriteIgnoredPids(const Loader& loader, const std::vector<uint32_t>& pids) {
  const char* step = "setIgnoredPids";
  int fd = MapFd(loader, "vg_ignore", step, sizeof(uint32_t), sizeof(uint32_t));
  std::set<uint32_t> wanted(pids.begin(), pids.end());
  if (wanted.size() > IgnoredPidsCapacity(loader)) {
    throw Failure{Code::MapUpdateFailed, step, E2BIG,
                  "vg_ignore holds at most " + std::to_string(IgnoredPidsCapacity(loader)) +
                      " pids",
                  ""};
  }
  DeleteStale<uint32_t>(fd, "vg_ignore", step,
                        [&](const uint32_t& pid) { return wanted.count(pid) != 0; });
  uint32_t one = 1;
  for (uint32_t pid : wanted) Update(fd, &pid, &one, "vg_ignore", step);
}

void WriteConfigFlags(const Loader& loader, uint32_t flags) {
  const char* step = "setConfigFlags";
  int fd = MapFd(loader, "vg_config", step, sizeof(uint32_t), sizeof(vg_config));
  vg_config config = ReadConfig(fd, step);
  config.flags = flags;
  uint32_t zero = 0;
  Update(fd, &zero, &config, "vg_config", step);
}

Counters ReadCounters(const Loader& loader) {
  const char* step = "stats";
  int fd = MapFd(loader, "vg_counters", step, sizeof(uint32_t), sizeof(vg_counters));
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) throw SystemFailure(Code::MapUpdateFailed, step, -cpus, "counting possible CPUs");
  // A per-CPU lookup returns one value per possible CPU, each rounded up to 8 bytes.
  std::vector<vg_counters> per_cpu(cpus);
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(fd, &zero, per_cpu.data()) != 0)
    throw SystemFailure(Code::MapUpdateFailed, step, errno, "reading vg_counters");
  Counters sum;
  std::memset(&sum, 0, sizeof sum);
  for (const vg_counters& c : per_cpu) {
    for (int k = 0; k < VG_KIND_MAX; k++) {
      sum.emitted[k] += c.emitted[k];
      sum.dropped[k] += c.dropped[k];
      sum.shed[k] += c.shed[k];
      sum.coalesced[k] += c.coalesced[k];
    }
  }
  return sum;
}

void WriteEnforce(const Loader& loader, const std::vector<EnforceEntry>& entries) {
  const char* step = "setEnforce";
  int fd = MapFd(loader, "vg_enforce", step, sizeof(uint32_t), sizeof(vg_enforce_entry));
  uint32_t size = bpf_map__max_entries(loader.FindMap("vg_enforce"));
  std::vector<uint32_t> keys(size);
  std::vector<vg_enforce_entry> values(size);
  std::memset(values.data(), 0, values.size() * sizeof(vg_enforce_entry));
  for (uint32_t i = 0; i < size; i++) keys[i] = i;
  for (const EnforceEntry& e : entries) {
    if (e.nr >= size) {
      throw Failure{Code::MapUpdateFailed, step, 0,
                    "syscall " + std::to_string(e.nr) + " is beyond vg_enforce (" +
                        std::to_string(size) + " entries)",
                    ""};
    }
    values[e.nr] = e.value;
  }
  uint32_t count = size;
  if (bpf_map_update_batch(fd, keys.data(), values.data(), &count, nullptr) == 0) return;
  for (uint32_t i = 0; i < size; i++) Update(fd, &keys[i], &values[i], "vg_enforce", step);
}

void WriteEnforceCgroups(const Loader& loader, const std::vector<uint64_t>& ids) {
  const char* step = "setEnforceCgroups";
  int fd = MapFd(loader, "vg_enforce_cgroups", step, sizeof(uint64_t), sizeof(uint32_t));
  std::set<uint64_t> wanted(ids.begin(), ids.end());
  if (wanted.size() > VG_ENFORCE_CGROUPS_MAX) {
    throw Failure{Code::MapUpdateFailed, step, E2BIG,
                  "vg_enforce_cgroups holds at most " + std::to_string(VG_ENFORCE_CGROUPS_MAX) +
                      " cgroups",
                  ""};
  }
  DeleteStale<uint64_t>(fd, "vg_enforce_cgroups", step,
                        [&](const uint64_t& id) { return wanted.count(id) != 0; });
  uint32_t one = 1;
  for (uint64_t id : wanted) Update(fd, &id, &one, "vg_enforce_cgroups", step);
}

bool ReadEnforceCounters(const Loader& loader, vg_enforce_counters* out) {
  std::memset(out, 0, sizeof *out);
  if (loader.FindMap("vg_enforce_counters") == nullptr) return false;
  const char* step = "stats";
  int fd = MapFd(loader, "vg_enforce_counters", step, sizeof(uint32_t), sizeof(vg_enforce_counters));
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) throw SystemFailure(Code::MapUpdateFailed, step, -cpus, "counting possible CPUs");
  std::vector<vg_enforce_counters> per_cpu(cpus);
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(fd, &zero, per_cpu.data()) != 0)
    throw SystemFailure(Code::MapUpdateFailed, step, errno, "reading vg_enforce_counters");
  for (const vg_enforce_counters& c : per_cpu) {
    out->signalled += c.signalled;
    out->signal_failed += c.signal_failed;
    out->spoiled += c.spoiled;
    out->spoil_failed += c.spoil_failed;
  }
  return true;
}

std::vector<std::pair<uint64_t, uint64_t>> ReadDroppedCgroups(const Loader& loader) {
  const char* step = "stats";
  int fd = MapFd(loader, "vg_dropped_cgroups", step, sizeof(uint64_t), sizeof(uint64_t));
  std::vector<std::pair<uint64_t, uint64_t>> out;
  uint64_t key = 0;
  uint64_t next = 0;
  // Bounded by the map's size; an LRU entry evicted while we walk just ends the walk early.
  for (int err = bpf_map_get_next_key(fd, nullptr, &next); err == 0 && out.size() < VG_DROPPED_CGROUPS_MAX;
       err = bpf_map_get_next_key(fd, &key, &next)) {
    uint64_t count = 0;
    if (bpf_map_lookup_elem(fd, &next, &count) == 0) out.emplace_back(next, count);
    key = next;
  }
  return out;
}

uint32_t IgnoredPidsCapacity(const Loader& loader) {
  struct bpf_map* map = loader.FindMap("vg_ignore");
  return map != nullptr ? bpf_map__max_entries(map) : 0;
}

}  // namespace vg

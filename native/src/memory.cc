#include "memory.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace vg {

bool TrimMalloc() { return malloc_trim(0) != 0; }

namespace {

struct Mapping {
  uintptr_t start = 0;
  uintptr_t end = 0;
  bool candidate = false;
  uint64_t rss_kb = 0;
  uint64_t anon_kb = UINT64_MAX;  // unknown until its Anonymous: line is read
};

std::string ExecutablePath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  return buf;
}

}  // namespace

uint64_t ReleaseExecutablePages() {
  uint64_t released = 0;
  const std::string path = ExecutablePath();
  if (path.empty()) return 0;
  FILE* f = fopen("/proc/self/smaps", "re");
  if (!f) return 0;
  std::vector<Mapping> found;
  char line[4352];
  while (fgets(line, sizeof line, f)) {
    uintptr_t start;
    uintptr_t end;
    char perms[5];
    int name_at = 0;
    // A mapping's header: "start-end perms offset dev inode [path]"; other lines are "Key: value".
    if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s %*s %*s %*s %n", &start, &end, perms, &name_at) == 3 && name_at > 0) {
      char* name = line + name_at;
      name[strcspn(name, "\n")] = '\0';
      Mapping m;
      m.start = start;
      m.end = end;
      // Readable, not writable, private: text, read-only data, the loader's tables.
      m.candidate = perms[0] == 'r' && perms[1] != 'w' && perms[3] == 'p' && path == name;
      found.push_back(m);
      continue;
    }
    if (found.empty() || !found.back().candidate) continue;
    uint64_t kb;
    if (sscanf(line, "Rss: %" SCNu64 " kB", &kb) == 1) found.back().rss_kb = kb;
    else if (sscanf(line, "Anonymous: %" SCNu64 " kB", &kb) == 1) found.back().anon_kb = kb;
  }
  fclose(f);
  for (const Mapping& m : found) {
    // RELRO (relocated, then made read-only) has anonymous pages: discarding them would undo the
    // relocations. Only a mapping known to have none is released.
    if (!m.candidate || m.anon_kb != 0 || m.rss_kb == 0) continue;
    if (madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED) != 0) continue;
    released += m.rss_kb * 1024;
  }
  return released;
}

}  // namespace vg

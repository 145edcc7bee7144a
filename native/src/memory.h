// Gives an idle daemon's memory back to the system: malloc's free pages, and the page mappings of
// the node executable that start-up touched and the daemon no longer uses.
#pragma once

#include <cstdint>

namespace vg {

// glibc's malloc_trim(0) over every arena; true when some pages were returned.
bool TrimMalloc();

// Drops this process's page-table entries for the clean, read-only, private file mappings of its
// own executable (text, read-only data, symbol tables), read from /proc/self/smaps. The pages stay
// in the page cache, where the kernel may reclaim them; those still in use come back on the next
// touch as minor faults. A mapping with any anonymous (copied-on-write) page is left alone, as is
// every writable or shared mapping, so no data can be lost. Returns the resident bytes released.
uint64_t ReleaseExecutablePages();

}  // namespace vg

// The probe objects compiled into the addon (from dist/probes/<name>.skel.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace vg {

struct ProbeObject {
  const char* name;                   // the probe's name: probes/<name>.bpf.c
  const void* (*elf_bytes)(size_t*);  // <name>_bpf__elf_bytes from the skeleton
  // Loaded only when named in open({objects}), never by default (enforce: it acts, not observes).
  bool on_request = false;
};

// In load order: the first object that declares a shared vg_ map creates it.
const std::vector<ProbeObject>& ProbeObjects();
const ProbeObject* FindProbeObject(const std::string& name);

}  // namespace vg

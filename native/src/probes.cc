// Only the ELF bytes of each skeleton are used: the loader opens them with bpf_object__open_mem so
// that it can share maps between objects and attach programs one by one.
#include "probes.h"

#include "cgroup.skel.h"
#include "enforce.skel.h"
#include "enforce_kill.skel.h"
#include "process.skel.h"
#include "syscalls.skel.h"

namespace vg {

const std::vector<ProbeObject>& ProbeObjects() {
  // Adding a probe: include its skeleton above and add one line here.
  static const std::vector<ProbeObject> table = {
      {"process", process_bpf__elf_bytes},
      {"syscalls", syscalls_bpf__elf_bytes},
      {"cgroup", cgroup_bpf__elf_bytes},
      {"enforce", enforce_bpf__elf_bytes, /*on_request=*/true},
      // enforce without bpf_probe_write_user: loaded in its place where the kernel refuses that helper
      {"enforce_kill", enforce_kill_bpf__elf_bytes, /*on_request=*/true},
  };
  return table;
}

const ProbeObject* FindProbeObject(const std::string& name) {
  for (const ProbeObject& object : ProbeObjects()) {
    if (name == object.name) return &object;
  }
  return nullptr;
}

}  // namespace vg

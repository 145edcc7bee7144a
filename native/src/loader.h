// Opens the compiled-in probe objects, shares the vg_ maps between them, loads them (feature-probing
// each program by trial load) and attaches each program on its own.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_map;
struct bpf_link;

namespace vg {

struct ProgramState {
  std::string object;
  std::string program;
  std::string section;
  bool attached = false;
  std::string reason;  // why not attached; empty when attached
};

class Loader {
 public:
  Loader() = default;
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;
  ~Loader() { Close(); }

  // Loads and attaches `objects` (names from ProbeObjects(), loaded in table order). Throws Failure;
  // on failure nothing stays loaded.
  std::vector<ProgramState> Open(uint32_t ring_buffer_bytes, const std::vector<std::string>& objects);
  // Detaches every program and frees every object; idempotent.
  void Close();
  bool IsOpen() const { return !objects_.empty(); }

  // A map by name in the loaded objects (shared maps are found in the object that created them);
  // nullptr when no loaded object declares it.
  struct bpf_map* FindMap(const char* name) const;

 private:
  struct Loaded {
    std::string name;
    struct bpf_object* object;
  };

  // bpf_object__open_mem plus everything set before load: pin paths cleared (no bpffs needed), ring
  // buffer size, reuse of shared maps, disabled programs.
  struct bpf_object* OpenObject(const std::string& name, uint32_t ring_buffer_bytes,
                                const std::map<std::string, std::string>& disabled);
  // Loads one object, dropping programs the kernel refuses (disabled gets their reasons).
  struct bpf_object* LoadObject(const std::string& name, uint32_t ring_buffer_bytes,
                                std::map<std::string, std::string>& disabled);
  void AttachPrograms(const Loaded& loaded, const std::map<std::string, std::string>& disabled,
                      std::vector<ProgramState>& states);

  std::vector<Loaded> objects_;
  std::vector<struct bpf_link*> links_;
  std::map<std::string, int> shared_maps_;  // vg_ map name -> fd of the map its first object created
};

}  // namespace vg

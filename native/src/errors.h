// Failures of the native layer and the capture of libbpf's log.
//
// The loader, map and poller code is plain C++ and reports a failed step by throwing vg::Failure; the
// binding (addon.cc) turns it into a JavaScript Error with the stable code of native.ts
// (NativeErrorCode), the step, the errno and, for verifier refusals, the verifier's last lines.
#pragma once

#include <string>

namespace vg {

enum class Code {
  ProbeLoadFailed,
  ProbeAttachFailed,
  BtfMissing,
  NotPermitted,
  MapUpdateFailed,
  RingbufFailed,
  InvalidState,
};

const char* CodeName(Code code);

struct Failure {
  Code code;
  std::string step;     // what failed: open, load, attach, setWatches, ...
  int err;              // positive errno of the failing call, 0 when there was none
  std::string message;
  std::string verifierLog;  // PROBE_LOAD_FAILED: the verifier's last lines
};

// A failure of a libbpf or bpf(2) call: EPERM/EACCES become NOT_PERMITTED, anything else `fallback`.
Failure SystemFailure(Code fallback, const std::string& step, int err, const std::string& what);

std::string ErrnoName(int err);  // "EPERM", "ENOENT", ... or "errno 524"

// libbpf's log. Installed once with libbpf_set_print; messages go to a bounded buffer while a
// capture is active, and to stderr only when VIGIL_LIBBPF_LOG is set (warn, info or debug).
namespace libbpf_log {
void Install();
void Begin();          // start a fresh capture
std::string Take();    // end the capture, return what was written
// The last `lines` lines of the last verifier log in `captured` (or of `captured` itself when it
// holds none).
std::string VerifierTail(const std::string& captured, size_t lines = 24);
// The last line of a capture: libbpf's own words on what failed.
std::string LastLine(const std::string& captured);
}  // namespace libbpf_log

}  // namespace vg

#include "errors.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <mutex>

namespace vg {

const char* CodeName(Code code) {
  switch (code) {
    case Code::ProbeLoadFailed: return "PROBE_LOAD_FAILED";
    case Code::ProbeAttachFailed: return "PROBE_ATTACH_FAILED";
    case Code::BtfMissing: return "BTF_MISSING";
    case Code::NotPermitted: return "NOT_PERMITTED";
    case Code::MapUpdateFailed: return "MAP_UPDATE_FAILED";
    case Code::RingbufFailed: return "RINGBUF_FAILED";
    case Code::InvalidState: return "INVALID_STATE";
  }
  return "INVALID_STATE";
}

std::string ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case E2BIG: return "E2BIG";
    case ENOMEM: return "ENOMEM";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENOSPC: return "ENOSPC";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case 524: return "ENOTSUPP";
    default: return "errno " + std::to_string(err);
  }
}

Failure SystemFailure(Code fallback, const std::string& step, int err, const std::string& what) {
  Code code = (err == EPERM || err == EACCES) ? Code::NotPermitted : fallback;
  std::string message = what + ": " + std::strerror(err) + " (" + ErrnoName(err) + ")";
  if (code == Code::NotPermitted) message += "; vigil needs root, or CAP_BPF and CAP_PERFMON";
  return Failure{code, step, err, message, ""};
}

namespace libbpf_log {
namespace {

constexpr size_t kCaptureMax = 1 << 20;  // keep the newest MiB of a capture

std::mutex mu;
std::atomic<bool> capturing{false};  // read unlocked on the fast path
std::string captured;
int echo_level = -1;  // highest libbpf_print_level echoed to stderr; -1: none

int Print(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (!(capturing && level == LIBBPF_WARN) && static_cast<int>(level) > echo_level) return 0;
  char stack[1024];
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(stack, sizeof stack, fmt, copy);
  va_end(copy);
  if (n < 0) return 0;
  std::string text;
  if (static_cast<size_t>(n) < sizeof stack) {
    text.assign(stack, n);
  } else {
    text.resize(n + 1);
    std::vsnprintf(&text[0], text.size(), fmt, args);
    text.resize(n);
  }
  std::lock_guard<std::mutex> lock(mu);
  // Warnings carry what an error needs (the failing step, the verifier log); debug lines are many.
  if (capturing && level == LIBBPF_WARN) {
    captured += text;
    if (captured.size() > kCaptureMax) captured.erase(0, captured.size() - kCaptureMax);
  }
  if (static_cast<int>(level) <= echo_level) std::fputs(text.c_str(), stderr);
  return n;
}

}  // namespace

void Install() {
  const char* env = std::getenv("VIGIL_LIBBPF_LOG");
  if (env != nullptr) {
    if (std::strcmp(env, "debug") == 0) echo_level = LIBBPF_DEBUG;
    else if (std::strcmp(env, "info") == 0) echo_level = LIBBPF_INFO;
    else if (*env != '\0') echo_level = LIBBPF_WARN;
  }
  libbpf_set_print(Print);
}

void Begin() {
  std::lock_guard<std::mutex> lock(mu);
  capturing = true;
  captured.clear();
}

std::string Take() {
  std::lock_guard<std::mutex> lock(mu);
  capturing = false;
  std::string out;
  out.swap(captured);
  return out;
}

std::string LastLine(const std::string& text) {
  // The last line that says something: libbpf ends every failure with "failed to load object".
  size_t end = text.size();
  while (end > 0) {
    size_t begin = text.rfind('\n', end - 1);
    begin = begin == std::string::npos ? 0 : begin + 1;
    std::string line = text.substr(begin, end - begin);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    if (!line.empty() && line.find("failed to load object") == std::string::npos)
      return line.size() > 240 ? line.substr(0, 240) + "..." : line;
    end = begin == 0 ? 0 : begin - 1;
  }
  return "";
}

std::string VerifierTail(const std::string& text, size_t lines) {
  static const char kBegin[] = "-- BEGIN PROG LOAD LOG --\n";
  static const char kEnd[] = "-- END PROG LOAD LOG --";
  std::string body = text;
  size_t begin = text.rfind(kBegin);
  if (begin != std::string::npos) {
    begin += sizeof kBegin - 1;
    size_t end = text.find(kEnd, begin);
    body = text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  }
  while (!body.empty() && body.back() == '\n') body.pop_back();
  size_t pos = body.size();
  for (size_t i = 0; i < lines && pos != std::string::npos && pos > 0; i++) {
    pos = body.rfind('\n', pos - 1);
  }
  if (pos == std::string::npos || pos == 0) return body;
  return body.substr(pos + 1);
}

}  // namespace libbpf_log
}  // namespace vg

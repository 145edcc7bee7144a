// Argument checks of the binding: each failure is a TypeError with a plain message.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace vg {

[[noreturn]] inline void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

inline Napi::Object ObjectArg(Napi::Env env, Napi::Value value, const std::string& what) {
  if (!value.IsObject() || value.IsArray() || value.IsFunction())
    ThrowType(env, what + " must be an object");
  return value.As<Napi::Object>();
}

inline Napi::Array ArrayArg(Napi::Env env, Napi::Value value, const std::string& what) {
  if (!value.IsArray()) ThrowType(env, what + " must be an array");
  return value.As<Napi::Array>();
}

// An integer in [min, max] (all bounds fit a double exactly).
inline uint64_t IntegerArg(Napi::Env env, Napi::Value value, const std::string& what, uint64_t min,
                           uint64_t max) {
  if (!value.IsNumber()) ThrowType(env, what + " must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d)
    ThrowType(env, what + " must be an integer");
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowType(env, what + " must be between " + std::to_string(min) + " and " +
                       std::to_string(max));
  }
  return static_cast<uint64_t>(d);
}

inline std::string StringArg(Napi::Env env, Napi::Value value, const std::string& what) {
  if (!value.IsString()) ThrowType(env, what + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

}  // namespace vg

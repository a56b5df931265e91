// common: the vocabulary every module shares — Result<T> for errors a user, peer or disk can
// cause, VIGIL_ASSERT for our own bugs, Millis for time passed into cores, and Rng, the seeded
// generator that keeps simulation runs replayable.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vigil {

// Milliseconds on some monotonic clock chosen by the caller. Cores never read a clock.
using Millis = std::int64_t;

// What kind of error it is: callers act on the code, never on the message's words.
enum class ErrorCode : std::uint8_t {
  invalid,   // what was asked is wrong or cannot be done (most errors)
  conflict,  // made against a CIB version that has moved on: read again and redo it
};

// An error a caller must handle. `message` names the place: file:line, element id, peer, argument.
struct Error {
  std::string message;
  ErrorCode code = ErrorCode::invalid;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

// Escapes text for an XML attribute value or element content (&, <, >, ").
std::string xml_escape(std::string_view text);

inline Error fail(std::string message, ErrorCode code = ErrorCode::invalid) {
  return Error{std::move(message), code};
}

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line);

// A broken invariant is a bug in vigil: abort loudly, in every build.
#define VIGIL_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::vigil::assertion_failed(#expr, __FILE__, __LINE__))

// xoshiro256** seeded through splitmix64. Our own, with our own uniform(), because the standard
// distributions differ between standard libraries and a simulator seed must replay everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  // Uniform in [0, bound); bound > 0.
  std::uint64_t uniform(std::uint64_t bound);
  // Uniform in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  // True with probability p (0..1).
  bool chance(double p);

 private:
  std::uint64_t s_[4];
};

}  // namespace vigil

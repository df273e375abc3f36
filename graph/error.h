// Errors. A user error (bad input, bad flag, shape mismatch, out-of-range index) exits 1 with one
// line on stderr; anything else that escapes is an internal error and exits 2.
#pragma once
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace sf {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct InternalError : std::logic_error {
  using std::logic_error::logic_error;
};

template <class... A>
[[noreturn]] void fail(fmt::format_string<A...> f, A&&... a) {
  throw Error(fmt::format(f, std::forward<A>(a)...));
}

template <class... A>
[[noreturn]] void internal_error(fmt::format_string<A...> f, A&&... a) {
  throw InternalError(fmt::format(f, std::forward<A>(a)...));
}

}  // namespace sf

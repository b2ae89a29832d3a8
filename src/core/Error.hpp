#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nurec {

// Base of every error nurec throws on purpose. The message names what was wrong (file, dataset,
// option, expected value) so that the command line can print it as it is and exit non-zero.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Unreadable or invalid input data (missing file, wrong schema, NaN, bad shape, corrupt HepMC3).
class InputError : public Error {
 public:
  using Error::Error;
};
// Impossible or inconsistent configuration (negative resolution, empty mass window, ...).
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Throws ConfigError(what) unless cond holds; for validate() methods of config structs.
inline void require(bool cond, const std::string& what) {
  if (!cond) throw ConfigError(what);
}

// Throws ConfigError("<what> must be 'a', 'b' or 'c' (got '<value>')") unless value is one of
// names: one list of the accepted names serves every place that checks a string option.
inline void requireOneOf(const std::string& value, const std::vector<std::string>& names,
                         const std::string& what) {
  for (const auto& name : names) {
    if (value == name) return;
  }
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) list += i + 1 == names.size() ? " or " : ", ";
    list += "'" + names[i] + "'";
  }
  throw ConfigError(what + " must be " + list + " (got '" + value + "')");
}

// A piece of a damaged input to quote in an error message: at most maxChars characters, every
// byte that is not printable ASCII shown as \xNN, so that random bytes of a broken file never
// reach the terminal as control sequences; "..." marks a cut.
inline std::string printableExcerpt(std::string_view text, std::size_t maxChars = 60) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= maxChars) return out + "...";
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace nurec

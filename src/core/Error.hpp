#pragma once
#include <stdexcept>
#include <string>

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

}  // namespace nurec

#include "nurec/core/OutputPath.hpp"

#include <unistd.h>

#include <filesystem>

#include "nurec/core/Error.hpp"

namespace nurec {

namespace fs = std::filesystem;

bool samePath(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) {
    const bool same = fs::equivalent(a, b, ec);
    if (!ec) return same;
  }
  return fs::weakly_canonical(fs::absolute(a, ec), ec) ==
         fs::weakly_canonical(fs::absolute(b, ec), ec);
}

namespace {

// The nearest existing folder of `path` (the folder itself for a directory output).
fs::path nearestExistingFolder(fs::path p) {
  std::error_code ec;
  p = fs::absolute(p, ec);
  while (!p.empty() && !fs::exists(p, ec)) {
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  return p;
}

}  // namespace

void checkOutputPath(const std::string& option, const std::string& path, OutputKind kind,
                     const std::vector<std::string>& inputs,
                     const std::vector<std::string>& derived) {
  if (path.empty()) throw ConfigError(option + ": empty path");
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (kind == OutputKind::File) {
    if (path.back() == '/' || (exists && fs::is_directory(path, ec)))
      throw ConfigError(option + " " + path + ": is a directory; give a file name");
  } else if (exists && !fs::is_directory(path, ec)) {
    throw ConfigError(option + " " + path + ": is an existing file; give a folder for the output");
  }
  // The folder that will hold the output: it (or its nearest existing ancestor, which the
  // command creates the rest under) must be a writable directory.
  const fs::path holder = nearestExistingFolder(
      kind == OutputKind::Directory ? fs::path(path) : fs::path(path).parent_path());
  if (!holder.empty()) {
    if (!fs::is_directory(holder, ec))
      throw ConfigError(option + " " + path + ": " + holder.string() + " is not a directory");
    if (::access(holder.c_str(), W_OK | X_OK) != 0)
      throw ConfigError(option + " " + path + ": cannot write in " + holder.string() +
                        " (permission denied)");
  }
  std::vector<std::string> written{path};
  written.insert(written.end(), derived.begin(), derived.end());
  for (const auto& out : written)
    for (const auto& in : inputs)
      if (!in.empty() && samePath(out, in))
        throw ConfigError(option + " " + path + ": would overwrite the input " + in +
                          "; choose another output path");
}

}  // namespace nurec

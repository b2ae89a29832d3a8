#include "nurec/core/ShippedFiles.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace nurec {

namespace fs = std::filesystem;

namespace {

std::string executableDirectory() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

// The folder of the shared library this function was linked into (empty when nurec_core is a
// static library: then it is the executable, already covered).
std::string libraryDirectory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&libraryDirectory), &info) == 0 || !info.dli_fname)
    return {};
  std::error_code ec;
  const fs::path lib = fs::canonical(info.dli_fname, ec);
  if (ec || lib.extension() != ".so") return {};
  return lib.parent_path().string();
}

}  // namespace

std::vector<std::string> shippedFileCandidates(const std::string& relative,
                                               const std::string& envDataDir,
                                               const std::string& executableDir,
                                               const std::string& libraryDir,
                                               const std::string& sourceDir) {
  std::vector<std::string> out;
  const auto besideBinaries = [&](const std::string& dir) {
    const std::string c = (fs::path(dir).parent_path() / "share" / "nurec" / relative).string();
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  };
  if (!envDataDir.empty()) out.push_back((fs::path(envDataDir) / relative).string());
  if (!executableDir.empty()) besideBinaries(executableDir);
  if (!libraryDir.empty()) besideBinaries(libraryDir);
  out.push_back((fs::path(sourceDir) / relative).string());
  return out;
}

std::vector<std::string> shippedFileCandidates(const std::string& relative) {
  const char* env = std::getenv("NUREC_DATA_DIR");
  return shippedFileCandidates(relative, env ? env : "", executableDirectory(), libraryDirectory(),
                               NUREC_SOURCE_TREE);
}

std::string shippedFile(const std::string& relative) {
  const auto candidates = shippedFileCandidates(relative);
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::exists(c, ec)) return c;
  }
  return candidates.back();
}

std::string shippedFileSearchText(const std::string& relative) {
  std::string text = "looked in: ";
  const auto candidates = shippedFileCandidates(relative);
  for (std::size_t i = 0; i < candidates.size(); ++i) text += (i ? ", " : "") + candidates[i];
  return text + " (set NUREC_DATA_DIR to a folder with data/ and models/)";
}

}  // namespace nurec

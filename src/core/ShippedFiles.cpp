#include "core/ShippedFiles.hpp"

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

}  // namespace

std::vector<std::string> shippedFileCandidates(const std::string& relative,
                                               const std::string& envDataDir,
                                               const std::string& executableDir,
                                               const std::string& sourceDir) {
  std::vector<std::string> out;
  if (!envDataDir.empty()) out.push_back((fs::path(envDataDir) / relative).string());
  if (!executableDir.empty())
    out.push_back((fs::path(executableDir).parent_path() / "share" / "nurec" / relative).string());
  out.push_back((fs::path(sourceDir) / relative).string());
  return out;
}

std::vector<std::string> shippedFileCandidates(const std::string& relative) {
  const char* env = std::getenv("NUREC_DATA_DIR");
  return shippedFileCandidates(relative, env ? env : "", executableDirectory(), NUREC_SOURCE_TREE);
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

#include "core/AtomicFile.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/Error.hpp"

namespace nurec {

void writeTextFileAtomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code dirError;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), dirError);
  if (dirError)
    throw Error("cannot write " + path + ": cannot create its folder (" + dirError.message() + ")");
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (out) out << text;
    // A full disk often shows only when the buffer is flushed: close and check before renaming.
    if (out) out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error("cannot write " + path);
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot write " + path + ": " + ec.message());
  }
}

}  // namespace nurec

#pragma once
// Shared by the reader fuzz harnesses: the readers take a path, so each input is written to one
// scratch file per process (in $TMPDIR, removed at exit) before it is read. See
// docs/reliability.md for how the harnesses are built and run.
#include <unistd.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace nurec::fuzz {

class ScratchFile {
 public:
  explicit ScratchFile(const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/nurec-fuzz-" + std::to_string(::getpid()) +
            suffix;
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Replaces the scratch file's content with the fuzz input; aborts if the scratch file cannot be
  // written (a harness problem, not a reader finding).
  const std::string& write(const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) std::abort();
    return path_;
  }

 private:
  std::string path_;
};

}  // namespace nurec::fuzz

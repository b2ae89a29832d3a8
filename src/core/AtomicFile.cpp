#include "nurec/core/AtomicFile.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "nurec/core/Error.hpp"

namespace nurec {

namespace fs = std::filesystem;

namespace {

// Removes the entries of `folder` named <prefix><pid> whose process no longer exists (only such a
// process is certainly done with them); returns how many were removed.
int removeEntriesOfDeadProcesses(const fs::path& folder, const std::string& prefix) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pidText = name.substr(prefix.size());
    if (pidText.find_first_not_of("0123456789") != std::string::npos || pidText.size() > 9)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pidText));
    if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
      std::error_code removeError;
      if (fs::remove_all(it->path(), removeError) > 0) ++removed;
    }
  }
  return removed;
}

}  // namespace

int removeStaleTemporaries(const std::string& path) {
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  return removeEntriesOfDeadProcesses(folder, target.filename().string() + ".tmp.");
}

std::string temporaryFileFor(const std::string& path) {
  const fs::path target(path);
  std::error_code dirError;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), dirError);
  if (dirError)
    throw Error("cannot write " + path + ": cannot create its folder (" + dirError.message() + ")");
  removeStaleTemporaries(path);
  return path + ".tmp." + std::to_string(::getpid());
}

void commitTemporaryFile(const std::string& temporary, const std::string& path) {
  const int fd = ::open(temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS)) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    throw Error("cannot write " + path + ": write failed (" + std::strerror(err) + ")");
  }
  ::close(fd);
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    std::error_code removeError;
    fs::remove(temporary, removeError);
    throw Error("cannot write " + path + ": " + ec.message());
  }
}

FileSizeLimitAsError::FileSizeLimitAsError() {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGXFSZ, &ignore, &previous_);
}

FileSizeLimitAsError::~FileSizeLimitAsError() {
  ::sigaction(SIGXFSZ, &previous_, nullptr);
}

void writeBytesAtomically(const std::string& path, const char* data, std::size_t size) {
  const std::string tmp = temporaryFileFor(path);
  const FileSizeLimitAsError sizeLimit;
  auto fail = [&](const char* what, int err) {
    ::unlink(tmp.c_str());
    throw Error("cannot write " + path + ": " + what + " (" + std::strerror(err) + ")");
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create the temporary file", errno);
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      fail("write failed", err);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) fail("write failed", errno);
  commitTemporaryFile(tmp, path);
}

StagedDirectory::StagedDirectory(const std::string& finalDir) : final_(finalDir) {
  std::error_code ec;
  createdFinal_ = !fs::exists(final_, ec);
  fs::create_directories(final_, ec);
  if (ec)
    throw Error("cannot write " + final_ + ": cannot create the folder (" + ec.message() + ")");
  // Staging folders of runs that were killed (their process no longer exists).
  const std::string prefix = ".staging.";
  removeEntriesOfDeadProcesses(final_, prefix);
  staging_ = (fs::path(final_) / (prefix + std::to_string(::getpid()))).string();
  fs::remove_all(staging_, ec);
  fs::create_directories(staging_, ec);
  if (ec)
    throw Error("cannot write " + final_ + ": cannot create " + staging_ + " (" + ec.message() +
                ")");
}

void StagedDirectory::commit() {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(staging_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path relative = fs::relative(it->path(), staging_);
    const fs::path target = fs::path(final_) / relative;
    if (it->is_directory()) {
      fs::create_directories(target, ec);
    } else {
      fs::rename(it->path(), target, ec);
    }
    if (ec) throw Error("cannot write " + target.string() + ": " + ec.message());
  }
  if (ec) throw Error("cannot write " + final_ + ": " + ec.message());
  fs::remove_all(staging_, ec);
  committed_ = true;
}

StagedDirectory::~StagedDirectory() {
  std::error_code ec;
  fs::remove_all(staging_, ec);
  if (!committed_ && createdFinal_ && fs::is_empty(final_, ec)) fs::remove(final_, ec);
}

}  // namespace nurec

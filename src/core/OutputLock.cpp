#include "nurec/core/OutputLock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "nurec/core/Error.hpp"

namespace nurec {

namespace fs = std::filesystem;

namespace {

// "model/" and "model" name one output: the lock of a directory given with a trailing slash is the
// sidecar beside it, never a file inside it (which the directory's writer would find there).
std::string withoutTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

OutputLock::OutputLock(const std::string& outputPathGiven, Wait wait)
    : lockPath_(withoutTrailingSlashes(outputPathGiven) + ".lock") {
  const std::string outputPath = withoutTrailingSlashes(outputPathGiven);
  const fs::path target(outputPath);
  std::error_code dirError;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), dirError);
  bool announced = false;
  // The holder removes the lock file when it is done; a process that was waiting on the removed
  // file then holds a lock nobody else sees, so it checks that the path still names the file it
  // locked and starts over if not (the usual flock + unlink protocol).
  for (;;) {
    const int fd = ::open(lockPath_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw Error("cannot lock " + outputPath + ": cannot create " + lockPath_ + " (" +
                  std::strerror(errno) + ")");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err != EWOULDBLOCK && err != EINTR) {
        ::close(fd);
        throw Error("cannot lock " + outputPath + " (" + std::strerror(err) + ")");
      }
      if (wait == Wait::No) {
        ::close(fd);
        throw Error("another process is writing " + outputPath + " (it holds " + lockPath_ + ")");
      }
      if (!announced) {
        std::fprintf(stderr, "nurec: waiting for another process that is writing %s\n",
                     outputPath.c_str());
        announced = true;
      }
      int rc;
      do rc = ::flock(fd, LOCK_EX);
      while (rc != 0 && errno == EINTR);
      if (rc != 0) {
        const int e = errno;
        ::close(fd);
        throw Error("cannot lock " + outputPath + " (" + std::strerror(e) + ")");
      }
    }
    struct stat held {
    }, named{};
    if (::fstat(fd, &held) == 0 && ::stat(lockPath_.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      fd_ = fd;
      return;
    }
    ::close(fd);  // the file we locked was removed by its previous holder: try again
  }
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  // Remove while still holding the lock, so a waiter sees the removal when it gets the lock.
  ::unlink(lockPath_.c_str());
  ::close(fd_);
}

}  // namespace nurec

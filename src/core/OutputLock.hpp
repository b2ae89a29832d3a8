#pragma once
// An advisory lock that serialises the nurec processes writing one output path, so that two
// in-place updates of the same file (`reconstruct nu.h5 --out nu.h5` with two methods at once)
// cannot lose one another's result: the second waits until the first has renamed its output into
// place and then reads the updated file (docs/reliability.md).
//
// The lock is flock(2) on a sidecar file `<path>.lock`, taken before the command reads its inputs
// and held until its output is in place. flock is released by the kernel when a process dies, so
// kill -9 never leaves a stale lock; the sidecar file itself is removed on release (a left-over
// one from a killed run is simply taken over). Other programs that write the file ignore the lock.
#include <string>

namespace nurec {

class OutputLock {
 public:
  enum class Wait { Yes, No };
  // Takes the lock for `outputPath`. With Wait::Yes a held lock is waited for (printing one line
  // to stderr that says so); with Wait::No a held lock throws nurec::Error naming the path. The
  // folder of `outputPath` is created if missing. Throws nurec::Error if the lock file cannot be
  // created (e.g. a read-only folder).
  explicit OutputLock(const std::string& outputPath, Wait wait = Wait::Yes);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  const std::string& lockPath() const { return lockPath_; }

 private:
  std::string lockPath_;
  int fd_ = -1;
};

}  // namespace nurec

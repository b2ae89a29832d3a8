#pragma once
#include <signal.h>

#include <cstddef>
#include <string>

namespace nurec {

// Writes bytes to `path` through a temporary file beside it (<path>.tmp.<pid>) that is renamed
// when complete, so a crash never leaves a half-written file under the final name. Creates the
// parent directory. Every write error (a full disk, a file-size limit, EIO) throws nurec::Error
// naming the file and the system's reason, and the temporary is removed; no signal or crash.
// Temporaries of earlier runs that were killed (their process no longer exists) are removed
// first, so they do not accumulate. io::writeEventFile writes its HDF5 image through this.
void writeBytesAtomically(const std::string& path, const char* data, std::size_t size);

inline void writeTextFileAtomically(const std::string& path, const std::string& text) {
  writeBytesAtomically(path, text.data(), text.size());
}

// Removes <path>.tmp.<pid> files left by processes that no longer exist; returns how many.
int removeStaleTemporaries(const std::string& path);

// The two halves of an atomic write, for writers that fill the temporary themselves
// (io::EventFileWriter through HDF5). temporaryFileFor creates path's folder, removes stale
// temporaries and returns <path>.tmp.<pid>; commitTemporaryFile syncs the complete temporary to
// disk (a rename of unsynced data can leave an empty file under the final name after a crash)
// and renames it to path. Both throw Error naming path; a failed commit removes the temporary.
std::string temporaryFileFor(const std::string& path);
void commitTemporaryFile(const std::string& temporary, const std::string& path);

// While alive, a file-size limit (ulimit -f) shows up as the write error EFBIG instead of the
// signal SIGXFSZ, which kills the process by default.
class FileSizeLimitAsError {
 public:
  FileSizeLimitAsError();
  ~FileSizeLimitAsError();
  FileSizeLimitAsError(const FileSizeLimitAsError&) = delete;
  FileSizeLimitAsError& operator=(const FileSizeLimitAsError&) = delete;

 private:
  struct sigaction previous_ {};
};

// A folder of files written all or nothing (an evaluation report: README, JSON, plots, data/).
// Everything is written below path(), a hidden staging folder inside finalDir
// (.staging.<pid>); commit() then moves each file to its place in finalDir by rename, which needs
// no free space, so a full disk during the writes leaves finalDir as it was. Files of finalDir
// that the report does not write are kept. Without commit() (an exception) the destructor
// removes the staging folder, and finalDir too if it was created here and is still empty. Staging
// folders of killed runs are removed by the next StagedDirectory in the same finalDir.
class StagedDirectory {
 public:
  explicit StagedDirectory(const std::string& finalDir);
  ~StagedDirectory();
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;

  const std::string& path() const { return staging_; }
  void commit();

 private:
  std::string final_, staging_;
  bool createdFinal_ = false, committed_ = false;
};

}  // namespace nurec

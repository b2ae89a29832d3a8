#pragma once
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

}  // namespace nurec

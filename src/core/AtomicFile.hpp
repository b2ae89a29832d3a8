#pragma once
#include <string>

namespace nurec {

// Writes text to `path` through a temporary file beside it (<path>.tmp.<pid>) that is renamed
// when complete, so a crash never leaves a half-written file under the final name. Creates the
// parent directory. Throws nurec::Error naming the file when it cannot be written; the temporary
// is removed on failure. (io::writeEventFile does the same for HDF5 files.)
void writeTextFileAtomically(const std::string& path, const std::string& text);

}  // namespace nurec

#pragma once
// Reading a whole (small) file: run cards, model configs, calibration JSON, logs.
#include <optional>
#include <string>

namespace nurec {

// The file's bytes, or nullopt if it cannot be opened or read (a missing file, a directory, no
// permission, an I/O error). Callers turn nullopt into their own error, naming the file and what
// it was for: a detector card and a model directory fail with different advice.
std::optional<std::string> readWholeFile(const std::string& path);

}  // namespace nurec

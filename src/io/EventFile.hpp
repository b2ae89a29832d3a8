#pragma once
// Reading and writing the HDF5 event file, schema "events" version 1 (docs/data-format.md).
#include <string>

#include "nurec/io/EventTable.hpp"

namespace nurec::io {

inline constexpr const char* kSchemaName = "events";
inline constexpr std::int64_t kSchemaVersion = 1;

// Reads every dataset and file attribute. Throws InputError naming the file (and dataset) when
// the file is missing, not HDF5, truncated or corrupt, not a nurec event file, of another schema
// version, or when a dataset's first dimension differs from n_events.
EventTable readEventFile(const std::string& path);

// Writes the table (chunked, shuffled and deflate-compressed datasets; the attributes; and
// nurec_schema / schema_version / n_events) to a temporary file beside `path`, then renames it:
// a crash never leaves a half-written file under the final name. Creates the parent directory.
void writeEventFile(const std::string& path, const EventTable& table);

}  // namespace nurec::io

#pragma once
// Reading and writing the HDF5 event file, schema "events" version 2 (docs/data-format.md).
//
// Files are read and written in row ranges ("chunks") so that memory is bounded by a chunk, not by
// the file (docs/data-format.md "Reading and writing in chunks"): EventFileReader reads any rows
// of any datasets, EventFileWriter appends rows and makes the file appear under its name only
// when complete. readEventFile / writeEventFile are the one-piece forms.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"

namespace nurec::io {

inline constexpr const char* kSchemaName = "events";
// Version 2 added the file attribute "process", which names the physics process whose layout the
// /truth, /reco and /nu groups follow (docs/data-format.md "Processes"). Version 1 files, and
// files without the attribute, hold Z/gamma* -> tau tau events; both versions are read.
inline constexpr std::int64_t kSchemaVersion = 2;
inline constexpr std::int64_t kOldestSchemaVersion = 1;
inline constexpr const char* kProcessAttribute = "process";
inline constexpr const char* kDefaultProcess = "ztautau";
// The semileptonic t tbar process (generator/ttbar/TTbarTable.hpp): named here once for the
// libraries that read its files without linking the generator (the unfolding models in ml).
inline constexpr const char* kTTbarProcess = "ttbar-semilep";
// The process of a file from its attributes: "process", or kDefaultProcess when absent.
// InputError when the attribute is not a string.
std::string processOf(const std::map<std::string, AttributeValue>& attributes,
                      const std::string& source);

// Rows per chunk of the commands that stream files: about 0.3-0.5 GB of memory for the widest
// (generation with the ISR shower and underlying event holds ~18 kB per event).
inline constexpr std::size_t kDefaultChunkEvents = 16384;

struct DatasetInfo {
  DType dtype = DType::F64;
  std::vector<std::size_t> rowShape;  // shape of one row; {} for a scalar per event
};

// An open event file. The constructor checks everything about the file that does not need its
// data: exists, is HDF5, survives libhdf5 (a damaged structure is refused, docs/reliability.md),
// nurec schema and version, n_events, every dataset's element type, row count and chunk layout.
// Errors are InputError naming the file (and the dataset). read() errors name the rows too.
class EventFileReader {
 public:
  explicit EventFileReader(const std::string& path);
  ~EventFileReader();
  EventFileReader(const EventFileReader&) = delete;
  EventFileReader& operator=(const EventFileReader&) = delete;

  const std::string& path() const;
  std::size_t nEvents() const;
  const std::map<std::string, AttributeValue>& attributes() const;
  const std::map<std::string, DatasetInfo>& datasets() const;
  bool has(const std::string& dataset) const;

  // Rows [first, first + count) of every dataset, with the file's attributes, as a table whose
  // firstRow() is `first`. count is cut at the end of the file.
  EventTable read(std::size_t first, std::size_t count) const;
  // The same for the named datasets only (each must exist).
  EventTable read(std::size_t first, std::size_t count,
                  const std::vector<std::string>& datasets) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes an event file by appending rows. Everything goes to a temporary file beside `path`
// (<path>.tmp.<pid>; temporaries of killed runs are removed first), which commit() renames to
// `path`: a crash or an error never leaves a half-written file under the final name, and an
// existing file there stays intact until commit(). A write error of any kind (a full disk, a
// file-size limit, EIO) is an Error naming the file and the system's reason, thrown by the
// append() or commit() that met it; the temporary is then removed (SafeFileDriver.hpp says why
// this needs a file driver of its own).
class EventFileWriter {
 public:
  // expectedEvents: a size hint for the chunk shape of small files (0 = unknown).
  explicit EventFileWriter(const std::string& path, std::size_t expectedEvents = 0);
  // Without commit(): closes and deletes the temporary file.
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  // File attributes, written by commit() (a later value replaces an earlier one).
  void setAttribute(const std::string& name, const AttributeValue& value);
  void setAttributes(const std::map<std::string, AttributeValue>& values);
  // Appends the table's rows. The first call defines the datasets (chunked, shuffled and
  // deflate-compressed); every later call must have the same dataset names, element types and
  // row shapes (ConfigError otherwise: a programming error, not bad input).
  void append(const EventTable& rows);
  std::size_t rowsWritten() const;
  // A dataset written whole by commit(), for values that need the totals of all rows (the
  // generator's /weight). It must not be among the appended datasets, and must hold
  // rowsWritten() rows when commit() runs (ConfigError otherwise).
  void setColumnAtCommit(const std::string& name, Column column);
  // Writes nurec_schema / schema_version / n_events and the attributes, closes and renames.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the named datasets of every row, chunkEvents rows at a time, and keeps the rows `select`
// picks: it sees each chunk (the named datasets; source "<path> (rows a-b)", firstRow a) and
// returns the chunk rows to keep, increasing (an empty function keeps all). The kept rows of the
// datasets in `keep` (empty: all named ones) are concatenated in file order, with the file's
// attributes, so that memory is bounded by the kept rows plus one chunk, not by the file.
// fileRows (if given) receives each kept row's index in the file.
using ChunkSelector = std::function<std::vector<std::size_t>(const EventTable& chunk)>;
EventTable readRowsInChunks(const EventFileReader& reader, const std::vector<std::string>& datasets,
                            std::size_t chunkEvents, const ChunkSelector& select = {},
                            const std::vector<std::string>& keep = {},
                            std::vector<std::size_t>* fileRows = nullptr);

// Reads every dataset and file attribute (EventFileReader::read of all rows).
EventTable readEventFile(const std::string& path);

// Writes the table and its attributes in one piece through EventFileWriter.
void writeEventFile(const std::string& path, const EventTable& table);

}  // namespace nurec::io

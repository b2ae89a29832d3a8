#pragma once
// Column-oriented, in-memory form of a nurec event file (docs/data-format.md). Every column is
// row-aligned: row i is event i. A column has a per-row shape (e.g. {2, 4} for /truth/tau_p4) and
// holds its values flat, row-major, in one of the schema's element types.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace nurec::io {

enum class DType { F64, F32, I8, U8, I32, I64 };
const char* dtypeName(DType t);  // "f8", "f4", "i1", "u1", "i4", "i8" (numpy codes)

using ColumnValues =
    std::variant<std::vector<double>, std::vector<float>, std::vector<std::int8_t>,
                 std::vector<std::uint8_t>, std::vector<std::int32_t>, std::vector<std::int64_t>>;

struct Column {
  std::vector<std::size_t> rowShape;  // shape of one row; {} for a scalar per event
  ColumnValues values;
  DType dtype() const;
  std::size_t rowSize() const;  // product of rowShape
  std::size_t size() const;     // number of stored values
};

using AttributeValue = std::variant<std::string, double, std::int64_t>;

class EventTable {
 public:
  EventTable() = default;
  explicit EventTable(std::size_t nEvents) : nEvents_(nEvents) {}

  std::size_t nEvents() const { return nEvents_; }
  // Where the table was read from (for error messages); empty for a new table.
  const std::string& source() const { return source_; }
  void setSource(std::string s) { source_ = std::move(s); }
  // Index in its file of this table's row 0: non-zero for a chunk of a file read in parts
  // (io::EventFileReader). Per-event random streams are seeded with firstRow() + row, so a file
  // processed in chunks gives the same result as in one piece (docs/design.md "Randomness").
  std::size_t firstRow() const { return firstRow_; }
  void setFirstRow(std::size_t row) { firstRow_ = row; }

  bool has(const std::string& name) const { return columns_.count(name) > 0; }
  const std::map<std::string, Column>& columns() const { return columns_; }
  void erase(const std::string& name) { columns_.erase(name); }
  // Removes every column whose name starts with prefix (e.g. "/reco/").
  void eraseGroup(const std::string& prefix);

  // Adds or replaces a column; checks that values.size() == nEvents * prod(rowShape).
  template <class T>
  void set(const std::string& name, std::vector<std::size_t> rowShape, std::vector<T> values);

  // The column converted to T, after checking that it exists, that its row shape equals
  // expectedRowShape (an entry of 0 there matches any length) and, for floating types, that every
  // value is finite. Errors name the file, the dataset and what was expected.
  template <class T>
  std::vector<T> get(const std::string& name, const std::vector<std::size_t>& expectedRowShape,
                     bool requireFinite = true) const;
  const Column& column(const std::string& name) const;

  // Attributes (file-level).
  void setAttribute(const std::string& name, AttributeValue v) { attributes_[name] = std::move(v); }
  bool hasAttribute(const std::string& name) const { return attributes_.count(name) > 0; }
  const std::map<std::string, AttributeValue>& attributes() const { return attributes_; }
  std::string stringAttribute(const std::string& name) const;
  // The string attribute, or "" when it is missing or not a string (optional records).
  std::string stringAttributeOr(const std::string& name) const;
  double numberAttribute(const std::string& name) const;

  // Keeps only the rows listed (in that order); for selections and splits. The result's
  // firstRow() is 0: its rows are no longer a contiguous range of the file.
  EventTable selectRows(const std::vector<std::size_t>& rows) const;

 private:
  std::size_t nEvents_ = 0;
  std::size_t firstRow_ = 0;
  std::string source_;
  std::map<std::string, Column> columns_;
  std::map<std::string, AttributeValue> attributes_;
};

}  // namespace nurec::io

#include "nurec/io/EventFile.hpp"

#include <H5Cpp.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Isolated.hpp"
#include "nurec/core/Memory.hpp"
#include "nurec/io/SafeFileDriver.hpp"

namespace nurec::io {

namespace fs = std::filesystem;

namespace {

// HDF5 prints its own error stack on failure; we turn failures into one clear message instead.
void silenceHdf5() {
  static const bool once = [] {
    H5::Exception::dontPrint();
    return true;
  }();
  (void)once;
}

// libhdf5 1.10 walks the objects of a global heap collection (where variable-length strings such
// as our file attributes live) by their sizes, and a damaged free-space object of size 0 makes it
// loop forever (a fuzzing finding, docs/reliability.md). Before HDF5 opens a file, every block
// that looks like a collection (signature "GCOL", version 1, a size of at least 4 kB that fits in
// the file) is walked the same way, and a walk that does not advance is refused. Layout of a
// collection (HDF5 file format specification, "Global Heap"): signature, version, 3 reserved
// bytes, 8-byte collection size, then objects of [2-byte index, 2-byte reference count, 4
// reserved bytes, 8-byte size, data padded to 8 bytes]; index 0 is the free space, whose size
// counts its header. Little-endian, 8-byte lengths (the sizes nurec and HDF5 write by default).
void refuseLoopingGlobalHeaps(const std::string& path) {
  std::error_code ec;
  const std::uint64_t fileSize = fs::file_size(path, ec);
  if (ec) return;  // HDF5 reports unreadable files itself
  std::ifstream scan(path, std::ios::binary), heap(path, std::ios::binary);
  auto le = [](const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  };
  auto checkCollection = [&](std::uint64_t at) {
    unsigned char header[16];
    heap.clear();
    heap.seekg(static_cast<std::streamoff>(at));
    if (!heap.read(reinterpret_cast<char*>(header), 16) || header[4] != 1) return;
    const std::uint64_t size = le(header + 8, 8);
    if (size < 4096 || size > fileSize - at || size > (std::uint64_t{1} << 30)) return;
    std::vector<unsigned char> data(size - 16);
    if (!heap.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size())))
      return;
    std::uint64_t p = 0;
    while (p + 16 <= data.size()) {
      const std::uint64_t index = le(&data[p], 2), objectSize = le(&data[p + 8], 8);
      const std::uint64_t need = index > 0 ? 16 + (objectSize + 7) / 8 * 8 : objectSize;
      if (need == 0 || need < objectSize) {
        throw InputError(fmt::format(
            "{}: damaged file: the global heap at byte {} has an object of size 0 (index {}) "
            "that HDF5 would read forever",
            path, at, index));
      }
      p += need;
    }
  };
  constexpr std::size_t kBlock = std::size_t{1} << 22;
  const std::string_view signature("GCOL");
  std::string buffer;
  std::uint64_t bufferStart = 0;  // file offset of buffer[0]
  std::vector<char> block(kBlock);
  while (scan.read(block.data(), kBlock) || scan.gcount() > 0) {
    buffer.append(block.data(), static_cast<std::size_t>(scan.gcount()));
    const std::string_view view(buffer);
    for (std::size_t hit = view.find(signature); hit != std::string_view::npos;
         hit = view.find(signature, hit + 1))
      checkCollection(bufferStart + hit);
    // Keep the last 3 bytes: a signature may straddle two blocks.
    const std::size_t keep = std::min<std::size_t>(3, buffer.size());
    bufferStart += buffer.size() - keep;
    buffer.erase(0, buffer.size() - keep);
  }
}

const H5::PredType& memType(DType t) {
  switch (t) {
    case DType::F64:
      return H5::PredType::NATIVE_DOUBLE;
    case DType::F32:
      return H5::PredType::NATIVE_FLOAT;
    case DType::I8:
      return H5::PredType::NATIVE_INT8;
    case DType::U8:
      return H5::PredType::NATIVE_UINT8;
    case DType::I32:
      return H5::PredType::NATIVE_INT32;
    case DType::I64:
      return H5::PredType::NATIVE_INT64;
  }
  return H5::PredType::NATIVE_DOUBLE;
}

// Little-endian on-disk types, so files are the same on every machine.
const H5::PredType& fileType(DType t) {
  switch (t) {
    case DType::F64:
      return H5::PredType::IEEE_F64LE;
    case DType::F32:
      return H5::PredType::IEEE_F32LE;
    case DType::I8:
      return H5::PredType::STD_I8LE;
    case DType::U8:
      return H5::PredType::STD_U8LE;
    case DType::I32:
      return H5::PredType::STD_I32LE;
    case DType::I64:
      return H5::PredType::STD_I64LE;
  }
  return H5::PredType::IEEE_F64LE;
}

bool dtypeOf(const H5::DataSet& ds, DType& out) {
  const H5T_class_t cls = ds.getTypeClass();
  if (cls == H5T_FLOAT) {
    const size_t size = ds.getFloatType().getSize();
    if (size == 8)
      out = DType::F64;
    else if (size == 4)
      out = DType::F32;
    else
      return false;
    return true;
  }
  if (cls == H5T_INTEGER) {
    const H5::IntType it = ds.getIntType();
    const bool isSigned = it.getSign() != H5T_SGN_NONE;
    switch (it.getSize()) {
      case 1:
        out = isSigned ? DType::I8 : DType::U8;
        return true;
      case 4:
        if (!isSigned) return false;
        out = DType::I32;
        return true;
      case 8:
        if (!isSigned) return false;
        out = DType::I64;
        return true;
      default:
        return false;
    }
  }
  return false;
}

void createGroups(H5::H5File& file, const std::string& datasetPath) {
  std::size_t pos = 1;
  while ((pos = datasetPath.find('/', pos)) != std::string::npos) {
    const std::string group = datasetPath.substr(0, pos);
    if (!file.nameExists(group)) file.createGroup(group);
    ++pos;
  }
}

void writeAttribute(H5::H5File& file, const std::string& name, const AttributeValue& v) {
  H5::DataSpace scalar(H5S_SCALAR);
  if (file.attrExists(name)) file.removeAttr(name);
  if (auto* s = std::get_if<std::string>(&v)) {
    H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
    type.setCset(H5T_CSET_UTF8);
    file.createAttribute(name, type, scalar).write(type, *s);
  } else if (auto* d = std::get_if<double>(&v)) {
    file.createAttribute(name, H5::PredType::IEEE_F64LE, scalar)
        .write(H5::PredType::NATIVE_DOUBLE, d);
  } else if (auto* i = std::get_if<std::int64_t>(&v)) {
    file.createAttribute(name, H5::PredType::STD_I64LE, scalar)
        .write(H5::PredType::NATIVE_INT64, i);
  }
}

// Recursively lists the datasets below a group.
void listDatasets(const H5::Group& group, const std::string& prefix,
                  std::vector<std::string>& out) {
  const hsize_t n = group.getNumObjs();
  for (hsize_t i = 0; i < n; ++i) {
    const std::string name = group.getObjnameByIdx(i);
    const std::string full = prefix + "/" + name;
    const H5G_obj_t type = group.getObjTypeByIdx(i);
    if (type == H5G_GROUP)
      listDatasets(group.openGroup(name), full, out);
    else if (type == H5G_DATASET)
      out.push_back(full);
  }
}

AttributeValue readAttribute(const H5::Attribute& attr) {
  const H5T_class_t cls = attr.getTypeClass();
  if (cls == H5T_STRING) {
    std::string s;
    attr.read(attr.getStrType(), s);
    return s;
  }
  if (cls == H5T_FLOAT) {
    double d = 0;
    attr.read(H5::PredType::NATIVE_DOUBLE, &d);
    return d;
  }
  if (cls == H5T_INTEGER) {
    std::int64_t i = 0;
    attr.read(H5::PredType::NATIVE_INT64, &i);
    return i;
  }
  return std::string("<unsupported attribute type>");
}

// Reads everything libhdf5 decodes from a file's structure (attributes and their values, the
// group tree, every dataset's type, shape, layout and attributes) and nothing of the data.
void walkStructure(const std::string& path) {
  H5::H5File file(path, H5F_ACC_RDONLY);
  for (int i = 0; i < file.getNumAttrs(); ++i)
    (void)readAttribute(file.openAttribute(static_cast<unsigned>(i)));
  std::vector<std::string> names;
  listDatasets(file.openGroup("/"), "", names);
  for (const auto& name : names) {
    H5::DataSet ds = file.openDataSet(name);
    DType dtype{};
    (void)dtypeOf(ds, dtype);
    H5::DataSpace space = ds.getSpace();
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(space.getSimpleExtentNdims(), 0)));
    if (!dims.empty()) space.getSimpleExtentDims(dims.data());
    (void)ds.getCreatePlist().getLayout();
    for (int i = 0; i < ds.getNumAttrs(); ++i)
      (void)readAttribute(ds.openAttribute(static_cast<unsigned>(i)));
  }
}

// libhdf5 1.10 crashes inside itself on some damaged files while it reads their attribute tables,
// object headers or global heaps (fuzzing findings, docs/reliability.md), and nothing a caller
// does before can tell. The structure is therefore read once in a child process first: a crash or
// a hang there is reported as a damaged file, and only a file whose structure libhdf5 survived is
// opened here. A failed fork() (process limit, no memory) skips the check.
void refuseFilesThatCrashHdf5(const std::string& path) {
  using namespace std::chrono_literals;
  constexpr auto kTimeout = 60s;
  const IsolatedRun run = runIsolated([&] { walkStructure(path); }, kTimeout);
  if (run.outcome == IsolatedRun::Outcome::Crashed ||
      run.outcome == IsolatedRun::Outcome::TimedOut) {
    throw InputError(fmt::format(
        "{}: damaged file: libhdf5 {} while reading the file's structure (attributes, groups, "
        "dataset headers) in a separate process",
        path, run.describe(kTimeout)));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading

struct EventFileReader::Impl {
  std::string path;
  std::size_t nEvents = 0;
  std::map<std::string, AttributeValue> attributes;
  std::map<std::string, DatasetInfo> datasets;
  H5::H5File file;
};

std::string processOf(const std::map<std::string, AttributeValue>& attributes,
                      const std::string& source) {
  const auto it = attributes.find(kProcessAttribute);
  if (it == attributes.end()) return kDefaultProcess;
  if (!std::holds_alternative<std::string>(it->second) || std::get<std::string>(it->second).empty())
    throw InputError(
        fmt::format("{}: attribute '{}' must be a non-empty string (the physics "
                    "process of the events, e.g. \"{}\")",
                    source, kProcessAttribute, kDefaultProcess));
  return std::get<std::string>(it->second);
}

namespace {

// Checks the file attributes of a nurec event file; returns n_events.
std::size_t checkSchema(const std::string& path,
                        const std::map<std::string, AttributeValue>& attrs) {
  auto schemaIt = attrs.find("nurec_schema");
  if (schemaIt == attrs.end() || !std::holds_alternative<std::string>(schemaIt->second)) {
    throw InputError(
        fmt::format("{}: attribute 'nurec_schema' is missing: not a nurec event file "
                    "(expected nurec_schema = \"{}\")",
                    path, kSchemaName));
  }
  if (std::get<std::string>(schemaIt->second) != kSchemaName) {
    throw InputError(fmt::format("{}: nurec_schema is \"{}\", expected \"{}\"", path,
                                 std::get<std::string>(schemaIt->second), kSchemaName));
  }
  auto versionIt = attrs.find("schema_version");
  if (versionIt == attrs.end() || !std::holds_alternative<std::int64_t>(versionIt->second)) {
    throw InputError(fmt::format("{}: integer attribute 'schema_version' is missing (expected {})",
                                 path, kSchemaVersion));
  }
  const std::int64_t version = std::get<std::int64_t>(versionIt->second);
  if (version < kOldestSchemaVersion || version > kSchemaVersion) {
    throw InputError(fmt::format("{}: schema_version is {}, this nurec reads versions {} to {}",
                                 path, version, kOldestSchemaVersion, kSchemaVersion));
  }
  (void)processOf(attrs, path);  // a malformed "process" attribute is refused here, once
  auto nIt = attrs.find("n_events");
  if (nIt == attrs.end() || !std::holds_alternative<std::int64_t>(nIt->second) ||
      std::get<std::int64_t>(nIt->second) < 0) {
    throw InputError(fmt::format("{}: integer attribute 'n_events' is missing or negative", path));
  }
  return static_cast<std::size_t>(std::get<std::int64_t>(nIt->second));
}

// Type, shape and layout of one dataset, checked against n_events.
DatasetInfo inspectDataset(const std::string& path, const std::string& name, const H5::DataSet& ds,
                           std::size_t nEvents) {
  DatasetInfo info;
  if (!dtypeOf(ds, info.dtype)) {
    throw InputError(fmt::format(
        "{}: dataset {} has an unsupported element type (expected f8, f4, i1, u1, i4 or i8)", path,
        name));
  }
  H5::DataSpace space = ds.getSpace();
  const int rank = space.getSimpleExtentNdims();
  if (rank < 1)
    throw InputError(
        fmt::format("{}: dataset {} is a scalar, expected one row per event", path, name));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), maxDims(dims.size());
  space.getSimpleExtentDims(dims.data(), maxDims.data());
  if (dims[0] != nEvents) {
    throw InputError(
        fmt::format("{}: dataset {} has {} rows, but n_events = {}", path, name, dims[0], nEvents));
  }
  // A damaged chunk shape larger than a fixed dimension makes libhdf5 read out of bounds
  // (crash); nurec never writes one, so it is refused (fuzz/findings/, docs/reliability.md).
  // Growable dimensions (the rows of a streamed file) may have chunks longer than the data.
  const H5::DSetCreatPropList layout = ds.getCreatePlist();
  if (layout.getLayout() == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(dims.size());
    if (layout.getChunk(rank, chunk.data()) != rank) {
      throw InputError(fmt::format("{}: dataset {} has a damaged chunk layout", path, name));
    }
    for (std::size_t d = 0; d < chunk.size(); ++d) {
      const bool growable = maxDims[d] == H5S_UNLIMITED;
      if (chunk[d] == 0 || (!growable && chunk[d] > std::max<hsize_t>(dims[d], 1))) {
        throw InputError(fmt::format(
            "{}: dataset {} has a damaged chunk layout (chunk {} in dimension {} of size {})", path,
            name, chunk[d], d, dims[d]));
      }
    }
  }
  for (int d = 1; d < rank; ++d)
    info.rowShape.push_back(static_cast<std::size_t>(dims[static_cast<std::size_t>(d)]));
  return info;
}

std::size_t dtypeBytes(DType t) {
  return H5Tget_size(memType(t).getId());
}

std::size_t rowValues(const std::vector<std::size_t>& rowShape) {
  std::size_t n = 1;
  for (auto d : rowShape) n *= d;
  return n;
}

// Rows [first, first + count) of one dataset.
ColumnValues readRows(const H5::DataSet& ds, const DatasetInfo& info, std::size_t first,
                      std::size_t count) {
  std::vector<hsize_t> start{first}, extent{count};
  for (auto d : info.rowShape) {
    start.push_back(0);
    extent.push_back(d);
  }
  const std::size_t total = count * rowValues(info.rowShape);
  auto readAs = [&](auto tag) -> ColumnValues {
    std::vector<decltype(tag)> v(total);
    if (total > 0) {
      H5::DataSpace fileSpace = ds.getSpace();
      fileSpace.selectHyperslab(H5S_SELECT_SET, extent.data(), start.data());
      H5::DataSpace memSpace(static_cast<int>(extent.size()), extent.data());
      ds.read(v.data(), memType(info.dtype), memSpace, fileSpace);
    }
    return v;
  };
  switch (info.dtype) {
    case DType::F64:
      return readAs(double{});
    case DType::F32:
      return readAs(float{});
    case DType::I8:
      return readAs(std::int8_t{});
    case DType::U8:
      return readAs(std::uint8_t{});
    case DType::I32:
      return readAs(std::int32_t{});
    case DType::I64:
      return readAs(std::int64_t{});
  }
  return std::vector<double>{};
}

}  // namespace

EventFileReader::EventFileReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  silenceHdf5();
  impl_->path = path;
  if (!fs::exists(path)) throw InputError(fmt::format("{}: no such file", path));
  if (fs::is_directory(path))
    throw InputError(fmt::format("{}: is a directory, expected an HDF5 event file", path));
  std::string stage = "opening the file";
  try {
    if (!H5::H5File::isHdf5(path)) {
      throw InputError(fmt::format(
          "{}: not an HDF5 file (expected a nurec event file, schema '{}')", path, kSchemaName));
    }
    refuseLoopingGlobalHeaps(path);
    refuseFilesThatCrashHdf5(path);
    impl_->file.openFile(path, H5F_ACC_RDONLY);
    stage = "reading the file attributes";
    const int nAttrs = impl_->file.getNumAttrs();
    for (int i = 0; i < nAttrs; ++i) {
      H5::Attribute a = impl_->file.openAttribute(static_cast<unsigned>(i));
      impl_->attributes[a.getName()] = readAttribute(a);
    }
    impl_->nEvents = checkSchema(path, impl_->attributes);
    stage = "listing the datasets";
    std::vector<std::string> names;
    listDatasets(impl_->file.openGroup("/"), "", names);
    for (const auto& name : names) {
      stage = "reading dataset " + name;
      impl_->datasets[name] =
          inspectDataset(path, name, impl_->file.openDataSet(name), impl_->nEvents);
    }
  } catch (const H5::Exception& e) {
    throw InputError(fmt::format("{}: HDF5 error while {} (truncated or corrupt file?): {}", path,
                                 stage, e.getDetailMsg()));
  }
}

EventFileReader::~EventFileReader() = default;

const std::string& EventFileReader::path() const {
  return impl_->path;
}
std::size_t EventFileReader::nEvents() const {
  return impl_->nEvents;
}
const std::map<std::string, AttributeValue>& EventFileReader::attributes() const {
  return impl_->attributes;
}
const std::map<std::string, DatasetInfo>& EventFileReader::datasets() const {
  return impl_->datasets;
}
bool EventFileReader::has(const std::string& dataset) const {
  return impl_->datasets.count(dataset) > 0;
}

EventTable EventFileReader::read(std::size_t first, std::size_t count) const {
  std::vector<std::string> all;
  for (const auto& entry : impl_->datasets) all.push_back(entry.first);
  return read(first, count, all);
}

EventTable EventFileReader::read(std::size_t first, std::size_t count,
                                 const std::vector<std::string>& names) const {
  const std::string& path = impl_->path;
  if (first > impl_->nEvents) {
    throw InputError(
        fmt::format("{}: row {} requested, the file has {} events", path, first, impl_->nEvents));
  }
  count = std::min(count, impl_->nEvents - first);
  // A damaged shape can ask for terabytes (a fuzzing finding): refuse what the machine cannot
  // hold before allocating (docs/reliability.md).
  const double memory = physicalMemoryBytes();
  double bytes = 0;
  for (const auto& name : names) {
    auto it = impl_->datasets.find(name);
    if (it == impl_->datasets.end())
      throw InputError(fmt::format("{}: dataset {} is missing", path, name));
    const double datasetBytes = static_cast<double>(count) *
                                static_cast<double>(rowValues(it->second.rowShape)) *
                                static_cast<double>(dtypeBytes(it->second.dtype));
    if (memory > 0 && datasetBytes > 0.8 * memory) {
      throw InputError(fmt::format(
          "{}: dataset {} would need {:.3g} GB in memory for rows {}-{}, more than this machine "
          "has ({:.3g} GB): the file is damaged, or too large to read at once",
          path, name, datasetBytes / 1e9, first, first + count, memory / 1e9));
    }
    bytes += datasetBytes;
  }
  if (memory > 0 && bytes > 0.8 * memory) {
    throw InputError(fmt::format(
        "{}: rows {}-{} would need {:.3g} GB in memory, more than this machine has ({:.3g} GB): "
        "the file is damaged, or too large to read at once",
        path, first, first + count, bytes / 1e9, memory / 1e9));
  }
  EventTable table(count);
  table.setSource(path);
  table.setFirstRow(first);
  for (const auto& [k, v] : impl_->attributes) table.setAttribute(k, v);
  for (const auto& name : names) {
    const DatasetInfo& info = impl_->datasets.at(name);
    try {
      ColumnValues values = readRows(impl_->file.openDataSet(name), info, first, count);
      std::visit([&](auto& v) { table.set(name, info.rowShape, std::move(v)); }, values);
    } catch (const H5::Exception& e) {
      throw InputError(fmt::format(
          "{}: HDF5 error while reading dataset {} (rows {}-{}; truncated or corrupt file?): {}",
          path, name, first, first + count, e.getDetailMsg()));
    }
  }
  return table;
}

EventTable readRowsInChunks(const EventFileReader& reader, const std::vector<std::string>& datasets,
                            std::size_t chunkEvents, const ChunkSelector& select,
                            const std::vector<std::string>& keep,
                            std::vector<std::size_t>* fileRows) {
  if (chunkEvents == 0) throw ConfigError("readRowsInChunks: chunkEvents must be positive");
  const std::vector<std::string>& kept = keep.empty() ? datasets : keep;
  std::map<std::string, Column> columns;
  std::size_t nKept = 0;
  if (fileRows) fileRows->clear();
  for (std::size_t first = 0; first == 0 || first < reader.nEvents(); first += chunkEvents) {
    EventTable chunk = reader.read(first, chunkEvents, datasets);
    const std::size_t n = chunk.nEvents();
    std::vector<std::size_t> rows;
    if (select) {
      chunk.setSource(n == 0 ? reader.path()
                             : fmt::format("{} (rows {}-{})", reader.path(), first, first + n - 1));
      rows = select(chunk);
      chunk.setSource(reader.path());
    } else {
      rows.resize(n);
      for (std::size_t i = 0; i < n; ++i) rows[i] = i;
    }
    for (const auto& name : kept) {
      const Column& col = chunk.column(name);
      const std::size_t rs = col.rowSize();
      // Not a structured binding: clang 14 (the fuzzing build) cannot capture one in a lambda.
      const auto inserted = columns.try_emplace(name);
      const auto it = inserted.first;
      if (inserted.second) {
        it->second.rowShape = col.rowShape;
        std::visit([&](const auto& v) { it->second.values = std::decay_t<decltype(v)>{}; },
                   col.values);
      }
      std::visit(
          [&](const auto& v) {
            auto& out = std::get<std::decay_t<decltype(v)>>(it->second.values);
            for (const std::size_t r : rows) {
              if (r >= n) throw Error(fmt::format("internal: row {} out of range", r));
              out.insert(out.end(), v.begin() + static_cast<std::ptrdiff_t>(r * rs),
                         v.begin() + static_cast<std::ptrdiff_t>((r + 1) * rs));
            }
          },
          col.values);
    }
    if (fileRows)
      for (const std::size_t r : rows) fileRows->push_back(first + r);
    nKept += rows.size();
    if (n == 0) break;
  }
  EventTable out(nKept);
  out.setSource(reader.path());
  for (const auto& [k, v] : reader.attributes()) out.setAttribute(k, v);
  for (auto& entry : columns) {  // no structured binding: the lambda captures the name
    const std::string& name = entry.first;
    const std::vector<std::size_t> shape = entry.second.rowShape;
    std::visit([&](auto& v) { out.set(name, shape, std::move(v)); }, entry.second.values);
  }
  return out;
}

EventTable readEventFile(const std::string& path) {
  const EventFileReader reader(path);
  return reader.read(0, reader.nEvents());
}

// ---------------------------------------------------------------------------------------------
// Writing

struct EventFileWriter::Impl {
  std::string path, temporary;
  std::size_t expectedEvents = 0;
  std::size_t rows = 0;
  bool defined = false, committed = false;
  std::map<std::string, AttributeValue> attributes;
  std::map<std::string, DatasetInfo> layout;
  std::map<std::string, H5::DataSet> datasets;  // the growable ones
  std::map<std::string, Column> atCommit;       // setColumnAtCommit
  std::unique_ptr<H5::H5File> file;
  FileSizeLimitAsError sizeLimit;  // while the writer lives

  // Throws the first write error the file driver met, after closing and deleting the temporary.
  void checkWrites() {
    const std::string error = safeFileWriteError(file->getId());
    if (!error.empty()) throw Error(fmt::format("cannot write {}: {}", path, error));
  }
  void abandon() noexcept {
    try {
      datasets.clear();
      if (file) file->close();
    } catch (...) {  // the driver drops writes after an error, so close succeeds; be safe anyway
    }
    ::unlink(temporary.c_str());
  }
};

namespace {

// A row shape with a zero extent cannot be chunked (HDF5 needs chunk extents >= 1 and <= a fixed
// dimension): such a dataset holds no values and is created at its final size by commit().
bool holdsNoValues(const DatasetInfo& info) {
  return rowValues(info.rowShape) == 0;
}

H5::DataSet createGrowable(H5::H5File& file, const std::string& name, const DatasetInfo& info,
                           std::size_t expectedEvents) {
  createGroups(file, name);
  // Row dimensions grow too: the schema's ragged arrays (/truth/products_*, /truth/recoil_*) are
  // zero-padded to the widest event, which a later chunk may widen (docs/data-format.md).
  std::vector<hsize_t> dims{0}, maxDims{H5S_UNLIMITED};
  for (auto d : info.rowShape) {
    dims.push_back(d);
    maxDims.push_back(H5S_UNLIMITED);
  }
  H5::DataSpace space(static_cast<int>(dims.size()), dims.data(), maxDims.data());
  // Chunks of whole rows, about 256 KiB, for compression and partial reads by row range.
  const std::size_t rowBytes =
      std::max<std::size_t>(1, rowValues(info.rowShape) * dtypeBytes(info.dtype));
  std::vector<hsize_t> chunk = dims;
  const hsize_t rowsCap = expectedEvents > 0 ? expectedEvents : std::numeric_limits<hsize_t>::max();
  chunk[0] = std::clamp<hsize_t>(static_cast<hsize_t>((256 * 1024) / rowBytes), 1,
                                 std::max<hsize_t>(rowsCap, 1));
  H5::DSetCreatPropList props;
  props.setChunk(static_cast<int>(chunk.size()), chunk.data());
  props.setShuffle();
  // Level 1: writing is bound by deflate (benchmarks/io/write_benchmark: chunking and appends cost
  // little), and level 4 took 30 % longer for files 2 % smaller (docs/data-format.md "Write
  // throughput").
  props.setDeflate(1);
  return file.createDataSet(name, fileType(info.dtype), space, props);
}

void appendRows(H5::DataSet& ds, const Column& col, std::size_t first, std::size_t count) {
  std::vector<hsize_t> extent{first + count}, start{first}, block{count};
  for (auto d : col.rowShape) {
    extent.push_back(d);
    start.push_back(0);
    block.push_back(d);
  }
  ds.extend(extent.data());
  if (count == 0) return;
  H5::DataSpace fileSpace = ds.getSpace();
  fileSpace.selectHyperslab(H5S_SELECT_SET, block.data(), start.data());
  H5::DataSpace memSpace(static_cast<int>(block.size()), block.data());
  std::visit([&](const auto& v) { ds.write(v.data(), memType(col.dtype()), memSpace, fileSpace); },
             col.values);
}

// The rows of `col` zero-padded to the row shape `to` (each extent >= the column's).
Column padRows(const Column& col, std::size_t nRows, const std::vector<std::size_t>& to) {
  Column out;
  out.rowShape = to;
  const std::size_t fromRow = rowValues(col.rowShape), toRow = rowValues(to);
  std::visit(
      [&](const auto& v) {
        std::decay_t<decltype(v)> padded(nRows * toRow);
        for (std::size_t e = 0; e < fromRow; ++e) {
          // Offset of element e (row-major in col.rowShape) in a row of shape `to`.
          std::size_t rest = e, offset = 0, stride = 1;
          for (std::size_t d = to.size(); d-- > 0;) {
            offset += (rest % col.rowShape[d]) * stride;
            rest /= col.rowShape[d];
            stride *= to[d];
          }
          for (std::size_t r = 0; r < nRows; ++r) padded[r * toRow + offset] = v[r * fromRow + e];
        }
        out.values = std::move(padded);
      },
      col.values);
  return out;
}

}  // namespace

EventFileWriter::EventFileWriter(const std::string& path, std::size_t expectedEvents)
    : impl_(std::make_unique<Impl>()) {
  silenceHdf5();
  Impl& w = *impl_;
  w.path = path;
  w.expectedEvents = expectedEvents;
  w.temporary = temporaryFileFor(path);
  const hid_t access = safeFileAccessList();
  try {
    if (access < 0) throw Error(fmt::format("cannot write {}: HDF5 file driver unavailable", path));
    const H5::FileAccPropList accessList(access);
    H5Pclose(access);
    w.file = std::make_unique<H5::H5File>(w.temporary, H5F_ACC_TRUNC,
                                          H5::FileCreatPropList::DEFAULT, accessList);
  } catch (const H5::Exception& e) {
    ::unlink(w.temporary.c_str());
    throw Error(fmt::format("cannot write {}: cannot create the temporary file {} ({})", path,
                            w.temporary, e.getDetailMsg()));
  }
}

EventFileWriter::~EventFileWriter() {
  if (!impl_->committed) impl_->abandon();
}

void EventFileWriter::setAttribute(const std::string& name, const AttributeValue& value) {
  impl_->attributes[name] = value;
}

void EventFileWriter::setAttributes(const std::map<std::string, AttributeValue>& values) {
  for (const auto& [k, v] : values) impl_->attributes[k] = v;
}

std::size_t EventFileWriter::rowsWritten() const {
  return impl_->rows;
}

void EventFileWriter::setColumnAtCommit(const std::string& name, Column column) {
  if (impl_->layout.count(name) > 0)
    throw ConfigError(fmt::format("{}: dataset {} is appended already", impl_->path, name));
  impl_->atCommit[name] = std::move(column);
}

void EventFileWriter::append(const EventTable& rows) {
  Impl& w = *impl_;
  if (w.committed) throw ConfigError(fmt::format("{}: append after commit", w.path));
  if (!w.defined) {
    for (const auto& [name, col] : rows.columns())
      w.layout[name] = DatasetInfo{col.dtype(), col.rowShape};
  } else {
    bool same = rows.columns().size() == w.layout.size();
    for (const auto& [name, col] : rows.columns()) {
      auto it = w.layout.find(name);
      same = same && it != w.layout.end() && it->second.dtype == col.dtype() &&
             it->second.rowShape.size() == col.rowShape.size() &&
             (!holdsNoValues(it->second) || rowValues(col.rowShape) == 0);
    }
    if (!same)
      throw ConfigError(fmt::format(
          "{}: the rows appended have other datasets, types or row ranks than the first ones",
          w.path));
  }
  try {
    if (!w.defined) {
      for (const auto& [name, info] : w.layout)
        if (!holdsNoValues(info))
          w.datasets[name] = createGrowable(*w.file, name, info, w.expectedEvents);
      w.defined = true;
      w.checkWrites();
    }
    for (auto& [name, ds] : w.datasets) {
      const Column& col = rows.column(name);
      std::vector<std::size_t>& width = w.layout[name].rowShape;
      if (col.rowShape != width) {
        std::vector<std::size_t> wider = width;
        for (std::size_t d = 0; d < wider.size(); ++d)
          wider[d] = std::max(wider[d], col.rowShape[d]);
        if (wider != width) {  // a wider chunk: the rows written so far are padded with zeros
          std::vector<hsize_t> extent{w.rows};
          extent.insert(extent.end(), wider.begin(), wider.end());
          ds.extend(extent.data());
          width = wider;
        }
      }
      if (col.rowShape == width)
        appendRows(ds, col, w.rows, rows.nEvents());
      else
        appendRows(ds, padRows(col, rows.nEvents(), width), w.rows, rows.nEvents());
      w.checkWrites();
    }
  } catch (const H5::Exception& e) {
    throw Error(
        fmt::format("cannot write {}: HDF5 error while writing: {}", w.path, e.getDetailMsg()));
  }
  w.rows += rows.nEvents();
}

void EventFileWriter::commit() {
  Impl& w = *impl_;
  if (w.committed) return;
  for (const auto& [name, col] : w.atCommit) {
    if (col.size() != w.rows * col.rowSize())
      throw ConfigError(fmt::format("{}: dataset {} has {} values for {} rows", w.path, name,
                                    col.size(), w.rows));
  }
  try {
    for (const auto& [name, col] : w.atCommit) {
      const DatasetInfo info{col.dtype(), col.rowShape};
      if (holdsNoValues(info)) {
        w.layout[name] = info;  // created below with the other empty ones
        continue;
      }
      H5::DataSet ds = createGrowable(*w.file, name, info, w.rows);
      appendRows(ds, col, 0, w.rows);
      w.checkWrites();
    }
    for (const auto& [name, info] : w.layout) {
      if (!holdsNoValues(info)) continue;
      createGroups(*w.file, name);
      std::vector<hsize_t> dims{w.rows};
      for (auto d : info.rowShape) dims.push_back(d);
      H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
      w.file->createDataSet(name, fileType(info.dtype), space);
    }
    for (const auto& [name, value] : w.attributes) writeAttribute(*w.file, name, value);
    writeAttribute(*w.file, "nurec_schema", std::string(kSchemaName));
    writeAttribute(*w.file, "schema_version", kSchemaVersion);
    writeAttribute(*w.file, "n_events", static_cast<std::int64_t>(w.rows));
    w.datasets.clear();
    w.file->flush(H5F_SCOPE_GLOBAL);
    w.checkWrites();
    w.file->close();
  } catch (const H5::Exception& e) {
    throw Error(
        fmt::format("cannot write {}: HDF5 error while writing: {}", w.path, e.getDetailMsg()));
  }
  commitTemporaryFile(w.temporary, w.path);
  w.committed = true;
}

void writeEventFile(const std::string& path, const EventTable& table) {
  EventFileWriter writer(path, table.nEvents());
  writer.setAttributes(table.attributes());
  writer.append(table);
  writer.commit();
}

}  // namespace nurec::io

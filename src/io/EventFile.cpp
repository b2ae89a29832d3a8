#include "nurec/io/EventFile.hpp"

#include <H5Cpp.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string_view>
#include <vector>

#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Isolated.hpp"
#include "nurec/core/Memory.hpp"

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

void writeColumn(H5::H5File& file, const std::string& name, const Column& col, std::size_t n) {
  createGroups(file, name);
  std::vector<hsize_t> dims{static_cast<hsize_t>(n)};
  for (auto d : col.rowShape) dims.push_back(static_cast<hsize_t>(d));
  H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
  H5::DSetCreatPropList props;
  const bool empty = std::any_of(dims.begin(), dims.end(), [](hsize_t d) { return d == 0; });
  if (!empty) {
    // Chunks of whole rows, about 256 KiB, for compression and partial reads by row range.
    const std::size_t rowBytes =
        std::max<std::size_t>(1, col.rowSize() * H5Tget_size(memType(col.dtype()).getId()));
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::clamp<hsize_t>(static_cast<hsize_t>((256 * 1024) / rowBytes), 1, dims[0]);
    props.setChunk(static_cast<int>(chunk.size()), chunk.data());
    props.setShuffle();
    props.setDeflate(4);
  }
  H5::DataSet ds = file.createDataSet(name, fileType(col.dtype()), space, props);
  if (!empty) {
    std::visit([&](const auto& v) { ds.write(v.data(), memType(col.dtype())); }, col.values);
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

EventTable readEventFile(const std::string& path) {
  silenceHdf5();
  if (!fs::exists(path)) throw InputError(fmt::format("{}: no such file", path));
  if (fs::is_directory(path))
    throw InputError(fmt::format("{}: is a directory, expected an HDF5 event file", path));
  std::string stage = "opening the file";
  std::string dataset;
  try {
    if (!H5::H5File::isHdf5(path)) {
      throw InputError(fmt::format(
          "{}: not an HDF5 file (expected a nurec event file, schema '{}')", path, kSchemaName));
    }
    refuseLoopingGlobalHeaps(path);
    refuseFilesThatCrashHdf5(path);
    H5::H5File file(path, H5F_ACC_RDONLY);
    stage = "reading the file attributes";
    std::map<std::string, AttributeValue> attrs;
    const int nAttrs = file.getNumAttrs();
    for (int i = 0; i < nAttrs; ++i) {
      H5::Attribute a = file.openAttribute(static_cast<unsigned>(i));
      attrs[a.getName()] = readAttribute(a);
    }
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
      throw InputError(fmt::format(
          "{}: integer attribute 'schema_version' is missing (expected {})", path, kSchemaVersion));
    }
    if (std::get<std::int64_t>(versionIt->second) != kSchemaVersion) {
      throw InputError(fmt::format("{}: schema_version is {}, this nurec reads version {}", path,
                                   std::get<std::int64_t>(versionIt->second), kSchemaVersion));
    }
    auto nIt = attrs.find("n_events");
    if (nIt == attrs.end() || !std::holds_alternative<std::int64_t>(nIt->second) ||
        std::get<std::int64_t>(nIt->second) < 0) {
      throw InputError(
          fmt::format("{}: integer attribute 'n_events' is missing or negative", path));
    }
    const auto nEvents = static_cast<std::size_t>(std::get<std::int64_t>(nIt->second));
    EventTable table(nEvents);
    table.setSource(path);
    for (auto& [k, v] : attrs) table.setAttribute(k, v);

    std::vector<std::string> names;
    stage = "listing the datasets";
    listDatasets(file.openGroup("/"), "", names);
    for (const auto& name : names) {
      dataset = name;
      stage = "reading dataset " + name;
      H5::DataSet ds = file.openDataSet(name);
      DType dtype{};
      if (!dtypeOf(ds, dtype)) {
        throw InputError(
            fmt::format("{}: dataset {} has an unsupported element type (expected f8, "
                        "f4, i1, u1, i4 or i8)",
                        path, name));
      }
      H5::DataSpace space = ds.getSpace();
      const int rank = space.getSimpleExtentNdims();
      if (rank < 1)
        throw InputError(
            fmt::format("{}: dataset {} is a scalar, expected one row per event", path, name));
      std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
      space.getSimpleExtentDims(dims.data());
      if (dims[0] != nEvents) {
        throw InputError(fmt::format("{}: dataset {} has {} rows, but n_events = {}", path, name,
                                     dims[0], nEvents));
      }
      // A damaged chunk shape larger than the dataset makes libhdf5 read out of bounds (crash);
      // nurec never writes one, so it is refused (fuzz/findings/, docs/reliability.md).
      const H5::DSetCreatPropList layout = ds.getCreatePlist();
      if (layout.getLayout() == H5D_CHUNKED) {
        std::vector<hsize_t> chunk(static_cast<std::size_t>(rank));
        if (layout.getChunk(rank, chunk.data()) != rank) {
          throw InputError(fmt::format("{}: dataset {} has a damaged chunk layout", path, name));
        }
        for (std::size_t d = 0; d < chunk.size(); ++d) {
          if (chunk[d] == 0 || chunk[d] > std::max<hsize_t>(dims[d], 1)) {
            throw InputError(fmt::format(
                "{}: dataset {} has a damaged chunk layout (chunk {} in dimension {} of size {})",
                path, name, chunk[d], d, dims[d]));
          }
        }
      }
      Column col;
      std::size_t total = nEvents;
      for (int d = 1; d < rank; ++d) {
        col.rowShape.push_back(static_cast<std::size_t>(dims[static_cast<std::size_t>(d)]));
        total *= col.rowShape.back();
      }
      // A damaged shape can ask for terabytes (a fuzzing finding): refuse what the machine
      // cannot hold before allocating (docs/reliability.md).
      double bytes = static_cast<double>(ds.getDataType().getSize());
      for (const hsize_t extent : dims) bytes *= static_cast<double>(extent);
      const double memory = physicalMemoryBytes();
      if (memory > 0 && bytes > 0.8 * memory) {
        throw InputError(
            fmt::format("{}: dataset {} would need {:.3g} GB in memory, more than this machine has "
                        "({:.3g} GB): "
                        "the file is damaged, or too large to read at once",
                        path, name, bytes / 1e9, memory / 1e9));
      }
      auto readAs = [&](auto tag) {
        std::vector<decltype(tag)> v(total);
        if (total > 0) ds.read(v.data(), memType(dtype));
        col.values = std::move(v);
      };
      switch (dtype) {
        case DType::F64:
          readAs(double{});
          break;
        case DType::F32:
          readAs(float{});
          break;
        case DType::I8:
          readAs(std::int8_t{});
          break;
        case DType::U8:
          readAs(std::uint8_t{});
          break;
        case DType::I32:
          readAs(std::int32_t{});
          break;
        case DType::I64:
          readAs(std::int64_t{});
          break;
      }
      std::vector<std::size_t> shape = col.rowShape;
      std::visit([&](auto& v) { table.set(name, shape, std::move(v)); }, col.values);
    }
    return table;
  } catch (const H5::Exception& e) {
    throw InputError(fmt::format("{}: HDF5 error while {} (truncated or corrupt file?): {}", path,
                                 stage, e.getDetailMsg()));
  }
}

void writeEventFile(const std::string& path, const EventTable& table) {
  silenceHdf5();
  // The file is built in memory (HDF5's core driver, no backing store) and its image written with
  // plain POSIX calls. A full disk or a file-size limit is then an ordinary write error here: an
  // HDF5 file that fails to flush stays in HDF5's open-file table and crashes the library at exit
  // (H5F__close_cb in HDF5 1.10), whatever the caller does (docs/reliability.md).
  std::vector<char> image;
  try {
    H5::FileAccPropList access;
    H5Pset_fapl_core(access.getId(), std::size_t{64} << 20, /*backing_store=*/0);
    H5::H5File file(path, H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, access);
    for (const auto& [name, value] : table.attributes()) writeAttribute(file, name, value);
    writeAttribute(file, "nurec_schema", std::string(kSchemaName));
    writeAttribute(file, "schema_version", kSchemaVersion);
    writeAttribute(file, "n_events", static_cast<std::int64_t>(table.nEvents()));
    for (const auto& [name, col] : table.columns()) writeColumn(file, name, col, table.nEvents());
    file.flush(H5F_SCOPE_GLOBAL);
    const ssize_t size = H5Fget_file_image(file.getId(), nullptr, 0);
    if (size <= 0) throw Error(fmt::format("{}: HDF5 could not build the file image", path));
    image.resize(static_cast<std::size_t>(size));
    if (H5Fget_file_image(file.getId(), image.data(), image.size()) != size)
      throw Error(fmt::format("{}: HDF5 could not build the file image", path));
    file.close();
  } catch (const H5::Exception& e) {
    throw Error(fmt::format("{}: HDF5 error while writing: {}", path, e.getDetailMsg()));
  }
  writeBytesAtomically(path, image.data(), image.size());
}

}  // namespace nurec::io

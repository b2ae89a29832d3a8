// Write throughput of the event file (docs/data-format.md "Write throughput"): N generated events
// (the truth table of `nurec generate`) written
//   * through io::EventFileWriter, appending chunks of io::kDefaultChunkEvents rows, as the
//     streaming commands do (and in one append, as io::writeEventFile does);
//   * with plain sequential HDF5: the same datasets, contiguous, one H5Dwrite of each whole
//     array, no compression -- the peer the ratio is printed against;
//   * diagnostic peers between the two: plain HDF5 with the writer's chunk shape, then with its
//     filters, so that the cost of each is visible.
// Times are wall clock including the close and the fsync of the writer (each file is synced, so
// that the page cache does not hide the disk). Usage: write_benchmark [--events N] [--out-dir D]
#include <fcntl.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <variant>

#include "nurec/generator/ZTauTau.hpp"
#include "nurec/io/EventFile.hpp"

using namespace nurec;

namespace {

double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void syncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

hid_t memType(io::DType t) {
  switch (t) {
    case io::DType::F64:
      return H5T_NATIVE_DOUBLE;
    case io::DType::F32:
      return H5T_NATIVE_FLOAT;
    case io::DType::I8:
      return H5T_NATIVE_INT8;
    case io::DType::U8:
      return H5T_NATIVE_UINT8;
    case io::DType::I32:
      return H5T_NATIVE_INT32;
    case io::DType::I64:
      return H5T_NATIVE_INT64;
  }
  return H5T_NATIVE_DOUBLE;
}

std::size_t dtypeBytes(io::DType t) {
  return H5Tget_size(memType(t));
}

struct PlainLayout {
  bool chunked = false;  // the writer's chunk shape (whole rows, about chunkBytes)
  std::size_t chunkBytes = 256 * 1024;
  bool shuffle = false;
  int deflate = 0;             // 0: none
  std::size_t appendRows = 0;  // > 0: growable datasets written by appends of this many rows
};

// Every column of `table` as one dataset written whole; returns false on an HDF5 error.
bool writePlain(const std::string& path, const io::EventTable& table, const PlainLayout& l) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return false;
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  bool ok = true;
  for (const auto& [name, col] : table.columns()) {
    std::vector<hsize_t> dims{table.nEvents()};
    for (auto d : col.rowShape) dims.push_back(d);
    const bool growable = l.appendRows > 0 && col.rowSize() > 0;
    std::vector<hsize_t> start = dims, maxDims = dims;
    start[0] = 0;
    if (growable) maxDims[0] = H5S_UNLIMITED;
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()),
                                         growable ? start.data() : dims.data(), maxDims.data());
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const std::size_t rowBytes = std::max<std::size_t>(1, col.rowSize() * dtypeBytes(col.dtype()));
    if ((l.chunked || growable) && table.nEvents() > 0 && col.rowSize() > 0) {
      std::vector<hsize_t> chunk = dims;
      chunk[0] = std::clamp<hsize_t>(l.chunkBytes / rowBytes, 1, table.nEvents());
      H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
      if (l.shuffle) H5Pset_shuffle(dcpl);
      if (l.deflate > 0) H5Pset_deflate(dcpl, static_cast<unsigned>(l.deflate));
    }
    const hid_t ds =
        H5Dcreate2(file, name.c_str(), H5Tget_native_type(memType(col.dtype()), H5T_DIR_DEFAULT),
                   space, lcpl, dcpl, H5P_DEFAULT);
    if (ds < 0) {
      ok = false;
    } else {
      std::visit(
          [&](const auto& v) {
            if (v.empty()) return;
            if (!growable) {
              if (H5Dwrite(ds, memType(col.dtype()), H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
                ok = false;
              return;
            }
            // As a streaming writer does: extend, then write the new rows as a hyperslab.
            for (std::size_t first = 0; first < table.nEvents(); first += l.appendRows) {
              const std::size_t count = std::min(l.appendRows, table.nEvents() - first);
              std::vector<hsize_t> extent = dims, offset(dims.size(), 0), block = dims;
              extent[0] = first + count;
              offset[0] = first;
              block[0] = count;
              H5Dset_extent(ds, extent.data());
              const hid_t fileSpace = H5Dget_space(ds);
              H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, offset.data(), nullptr, block.data(),
                                  nullptr);
              const hid_t memSpace =
                  H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr);
              if (H5Dwrite(ds, memType(col.dtype()), memSpace, fileSpace, H5P_DEFAULT,
                           v.data() + first * col.rowSize()) < 0)
                ok = false;
              H5Sclose(memSpace);
              H5Sclose(fileSpace);
            }
          },
          col.values);
      H5Dclose(ds);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
  }
  H5Pclose(lcpl);
  H5Fclose(file);
  syncFile(path);
  return ok;
}

struct Result {
  std::string name;
  double seconds = 0, bytes = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write throughput of io::EventFileWriter against plain sequential HDF5"};
  std::size_t n = 200000;
  std::string outDir = "/tmp/nurec-write-benchmark";
  int repeats = 2;
  app.add_option("--events", n, "Generated events written by every variant")->capture_default_str();
  app.add_option("--out-dir", outDir, "Where the files are written (and removed)")
      ->capture_default_str();
  app.add_option("--repeats", repeats, "Runs of each variant (the fastest counts)")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(outDir);

  generator::ZTauTauConfig config;
  config.nEvents = n;
  config.seed = 7;
  const double g0 = wallSeconds();
  const generator::GeneratedSample sample = generator::generateZTauTauEvents(config, 1);
  const io::EventTable table = generator::makeTruthTable(sample, config);
  std::printf("write_benchmark: %zu generated events (%.1f s to generate), %zu datasets\n", n,
              wallSeconds() - g0, table.columns().size());
  // The chunks the streaming commands append, sliced before the clock starts.
  std::vector<io::EventTable> chunks;
  for (std::size_t first = 0; first < n; first += io::kDefaultChunkEvents) {
    std::vector<std::size_t> rows;
    for (std::size_t r = first; r < std::min(n, first + io::kDefaultChunkEvents); ++r)
      rows.push_back(r);
    chunks.push_back(table.selectRows(rows));
  }
  double rawBytes = 0;
  for (const auto& [name, col] : table.columns())
    rawBytes += static_cast<double>(col.size() * dtypeBytes(col.dtype()));

  const std::string path = outDir + "/bench.h5";
  auto measure = [&](const std::string& name, const std::function<void()>& write) {
    Result r{name, 1e300, 0};
    for (int k = 0; k < repeats; ++k) {
      std::filesystem::remove(path);
      const double t0 = wallSeconds();
      write();
      r.seconds = std::min(r.seconds, wallSeconds() - t0);
      r.bytes = static_cast<double>(std::filesystem::file_size(path));
    }
    std::filesystem::remove(path);
    return r;
  };
  std::vector<Result> results;
  results.push_back(measure("plain HDF5: contiguous, whole arrays, no compression", [&] {
    if (!writePlain(path, table, {})) throw std::runtime_error("plain HDF5 write failed");
  }));
  results.push_back(measure("  + the writer's chunk shape (256 KiB of whole rows)", [&] {
    writePlain(path, table, {true, 256 * 1024, false, 0});
  }));
  results.push_back(measure("  + shuffle + deflate 1", [&] {
    writePlain(path, table, {true, 256 * 1024, true, 1});
  }));
  results.push_back(measure("  + shuffle + deflate 4", [&] {
    writePlain(path, table, {true, 256 * 1024, true, 4});
  }));
  results.push_back(measure(
      fmt::format("  + appends of {} rows (extend + hyperslab)", io::kDefaultChunkEvents), [&] {
        writePlain(path, table, {true, 256 * 1024, true, 4, io::kDefaultChunkEvents});
      }));
  results.push_back(measure("io::EventFileWriter, one append (io::writeEventFile)",
                            [&] { io::writeEventFile(path, table); }));
  results.push_back(measure(
      fmt::format("io::EventFileWriter, appends of {} rows (streaming)", io::kDefaultChunkEvents),
      [&] {
        io::EventFileWriter w(path, n);
        w.setAttributes(table.attributes());
        for (const auto& c : chunks) w.append(c);
        w.commit();
      }));
  std::printf("  raw data %.0f B/event; wall time, the fastest of %d runs, file synced\n",
              rawBytes / static_cast<double>(n), repeats);
  std::printf("  %-62s %9s %11s %10s %10s\n", "variant", "seconds", "events/s", "MB/s (raw)",
              "B/event");
  for (const auto& r : results)
    std::printf("  %-62s %9.2f %11.0f %10.1f %10.0f\n", r.name.c_str(), r.seconds,
                static_cast<double>(n) / r.seconds, rawBytes / r.seconds / 1e6,
                r.bytes / static_cast<double>(n));
  const Result& plain = results.front();
  std::printf("ratios (events/s of the variant over plain sequential HDF5):\n");
  for (std::size_t i = 1; i < results.size(); ++i)
    std::printf("  %-62s %6.2f\n", results[i].name.c_str(), plain.seconds / results[i].seconds);
  return 0;
}

#include <H5Cpp.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/EventFile.hpp"

using namespace nurec;
using namespace nurec::io;

namespace {

EventTable sampleTable(std::size_t n) {
  EventTable t(n);
  std::vector<double> f8(n * 8);
  std::vector<float> f4(n * 3);
  std::vector<std::int8_t> i1(n);
  std::vector<std::uint8_t> u1(n);
  std::vector<std::int32_t> i4(n);
  std::vector<std::int64_t> i8(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < 8; ++j) f8[i * 8 + j] = 0.5 * i + j * 1e-3;
    for (std::size_t j = 0; j < 3; ++j) f4[i * 3 + j] = static_cast<float>(i) - 0.25f * j;
    i1[i] = static_cast<std::int8_t>(static_cast<int>(i % 9) - 1);
    u1[i] = static_cast<std::uint8_t>(i % 2);
    i4[i] = static_cast<std::int32_t>(i * 3);
    i8[i] = -static_cast<std::int64_t>(i);
  }
  t.set("/truth/tau_p4", {2, 4}, f8);
  t.set("/reco/particles", {1, 3}, f4);
  t.set("/reco/channel", {}, i1);
  t.set("/reco/pass_sr", {}, u1);
  t.set("/reco/n_jets", {}, i4);
  t.set("/extra/i8", {}, i8);
  t.setAttribute("seed", std::int64_t{12345});
  t.setAttribute("sqrt_s", 13000.0);
  t.setAttribute("config", std::string("process: ztautau\nevents: 10\n"));
  return t;
}

void writeRawHdf5(const std::string& path, const std::string& schema, std::int64_t version) {
  H5::H5File f(path, H5F_ACC_TRUNC);
  H5::DataSpace scalar(H5S_SCALAR);
  H5::StrType st(H5::PredType::C_S1, H5T_VARIABLE);
  f.createAttribute("nurec_schema", st, scalar).write(st, schema);
  f.createAttribute("schema_version", H5::PredType::STD_I64LE, scalar)
      .write(H5::PredType::NATIVE_INT64, &version);
  std::int64_t n = 0;
  f.createAttribute("n_events", H5::PredType::STD_I64LE, scalar)
      .write(H5::PredType::NATIVE_INT64, &n);
}

void expectInputError(const std::string& path, const std::string& mustContain) {
  try {
    readEventFile(path);
    FAIL() << "expected an InputError for " << path;
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(mustContain), std::string::npos) << msg;
  }
}

}  // namespace

TEST(EventFile, RoundTripOfEveryDatasetType) {
  TempDir dir;
  const auto path = dir.file("round.h5");
  const EventTable in = sampleTable(1000);
  writeEventFile(path, in);
  const EventTable out = readEventFile(path);
  ASSERT_EQ(out.nEvents(), 1000u);
  ASSERT_EQ(out.columns().size(), in.columns().size());
  for (const auto& [name, col] : in.columns()) {
    ASSERT_TRUE(out.has(name)) << name;
    EXPECT_EQ(out.column(name).rowShape, col.rowShape) << name;
    EXPECT_EQ(out.column(name).dtype(), col.dtype()) << name;
    EXPECT_TRUE(out.column(name).values == col.values) << name;
  }
  EXPECT_EQ(out.stringAttribute("nurec_schema"), "events");
  EXPECT_EQ(out.numberAttribute("schema_version"), kSchemaVersion);
  EXPECT_EQ(out.numberAttribute("seed"), 12345);
  EXPECT_EQ(out.numberAttribute("sqrt_s"), 13000.0);
  EXPECT_EQ(out.stringAttribute("config"), "process: ztautau\nevents: 10\n");
}

TEST(EventFile, EmptyFileRoundTrips) {
  TempDir dir;
  const auto path = dir.file("empty.h5");
  writeEventFile(path, sampleTable(0));
  const EventTable out = readEventFile(path);
  EXPECT_EQ(out.nEvents(), 0u);
  EXPECT_EQ(out.get<double>("/truth/tau_p4", {2, 4}).size(), 0u);
}

TEST(EventFile, WritesAtomicallyAndLeavesNoTemporary) {
  TempDir dir;
  const auto path = dir.file("sub/dir/out.h5");
  writeEventFile(path, sampleTable(10));
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

// Found by fuzz_eventfile_reader: a bit-flipped chunk shape (3 x 10 x 4259853 for a 3 x 10 x 13
// dataset) made libhdf5 read out of bounds and the process die with SIGSEGV.
TEST(EventFileErrors, DamagedChunkShapeIsAnErrorNotACrash) {
  expectInputError(NUREC_SOURCE_DIR "/fuzz/findings/eventfile-H5Dread-segv.h5",
                   "damaged chunk layout");
}

// Fuzzing finding: a global heap whose free-space object has size 0 made libhdf5 loop forever
// (nurec info did not finish); it is refused before HDF5 reads it.
TEST(EventFileErrors, LoopingGlobalHeapIsAnErrorNotAHang) {
  expectInputError(NUREC_SOURCE_DIR "/fuzz/findings/eventfile-libhdf5-H5C_protect-hang.h5",
                   "global heap at byte 2048 has an object of size 0");
}

// Fuzzing finding: a damaged shape asked for 9,000 GB (ASan: allocation-size-too-big); refused
// against the machine's memory before allocating.
TEST(EventFileErrors, ImpossibleDatasetSizeIsRefusedBeforeAllocating) {
  expectInputError(NUREC_SOURCE_DIR "/fuzz/findings/eventfile-huge-dataset-shape.h5",
                   "dataset /reco/tau_p3 would need");
}

// Fuzzing finding: a damaged global heap makes libhdf5 1.10 crash inside itself (memcpy with
// overlapping ranges in H5HG_read, SIGSEGV in the release build) while it reads an attribute. The
// structure is read in a child process first, and its crash becomes an error naming the file.
TEST(EventFileErrors, FileThatCrashesLibhdf5IsAnErrorNotACrash) {
  expectInputError(NUREC_SOURCE_DIR "/fuzz/findings/eventfile-libhdf5-H5HG_read-memcpy-overlap.h5",
                   "damaged file: libhdf5");
}

TEST(EventFileErrors, MissingFile) {
  expectInputError("/nonexistent/dir/x.h5", "no such file");
}

TEST(EventFileErrors, NotHdf5) {
  TempDir dir;
  const auto path = dir.file("text.h5");
  std::ofstream(path) << "this is not an HDF5 file\n";
  expectInputError(path, "not an HDF5 file");
}

TEST(EventFileErrors, TruncatedFile) {
  TempDir dir;
  const auto path = dir.file("trunc.h5");
  writeEventFile(path, sampleTable(20000));
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  expectInputError(path, "HDF5 error");
}

TEST(EventFileErrors, WrongSchemaName) {
  TempDir dir;
  const auto path = dir.file("schema.h5");
  writeRawHdf5(path, "jets", 1);
  expectInputError(path, "nurec_schema is \"jets\"");
}

TEST(EventFileErrors, WrongSchemaVersion) {
  TempDir dir;
  const auto path = dir.file("version.h5");
  writeRawHdf5(path, "events", 7);
  expectInputError(path, "schema_version is 7, this nurec reads versions 1 to 2");
}

// docs/data-format.md "Processes": version 1 files are Z -> tau tau files and stay readable.
TEST(EventFile, ReadsVersionOneFilesAsZTauTau) {
  TempDir dir;
  const auto path = dir.file("v1.h5");
  writeRawHdf5(path, "events", 1);
  const EventTable t = readEventFile(path);
  EXPECT_EQ(t.numberAttribute("schema_version"), 1);
  EXPECT_EQ(processOf(t.attributes(), path), "ztautau");
  EventTable named = sampleTable(3);
  named.setAttribute(kProcessAttribute, std::string("ttbar-semilep"));
  const auto path2 = dir.file("v2.h5");
  writeEventFile(path2, named);
  EXPECT_EQ(processOf(EventFileReader(path2).attributes(), path2), "ttbar-semilep");
}

TEST(EventFileErrors, ProcessAttributeMustBeAString) {
  TempDir dir;
  const auto path = dir.file("process.h5");
  EventTable t = sampleTable(3);
  t.setAttribute(kProcessAttribute, std::int64_t{2});
  writeEventFile(path, t);
  expectInputError(path, "attribute 'process' must be a non-empty string");
}

TEST(EventFileErrors, ForeignHdf5WithoutSchema) {
  TempDir dir;
  const auto path = dir.file("foreign.h5");
  { H5::H5File f(path, H5F_ACC_TRUNC); }
  expectInputError(path, "not a nurec event file");
}

TEST(EventFileErrors, MissingDatasetWrongShapeAndNaN) {
  TempDir dir;
  const auto path = dir.file("bad.h5");
  EventTable t = sampleTable(5);
  std::vector<double> met(10, 1.0);
  met[7] = std::nan("");
  t.set("/reco/met", {2}, met);
  writeEventFile(path, t);
  const EventTable in = readEventFile(path);
  try {
    in.get<double>("/truth/vis_p4", {2, 4});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/truth/vis_p4 is missing"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  try {
    in.get<double>("/truth/tau_p4", {2, 3});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has shape (5,2,4), expected (5,2,3)"), std::string::npos)
        << e.what();
  }
  try {
    in.get<double>("/reco/met", {2});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite value (nan) in event 3"), std::string::npos)
        << e.what();
  }
}

TEST(EventFileErrors, RowCountDisagreesWithNEvents) {
  TempDir dir;
  const auto path = dir.file("rows.h5");
  writeRawHdf5(path, "events", 1);  // n_events = 0
  {
    H5::H5File f(path, H5F_ACC_RDWR);
    hsize_t dims[1] = {3};
    H5::DataSpace space(1, dims);
    double v[3] = {1, 2, 3};
    f.createDataSet("weight", H5::PredType::IEEE_F64LE, space)
        .write(v, H5::PredType::NATIVE_DOUBLE);
  }
  expectInputError(path, "has 3 rows, but n_events = 0");
}

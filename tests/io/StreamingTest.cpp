// EventFileReader / EventFileWriter (row ranges, appends, write failures) and shards + merge.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Shards.hpp"

using namespace nurec;
using namespace nurec::io;

namespace {

EventTable rowsTable(std::size_t first, std::size_t n) {
  EventTable t(n);
  std::vector<double> p4(n * 8);
  std::vector<std::int8_t> status(n);
  std::vector<float> empty;  // a row shape with a zero extent holds no values
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < 8; ++j) p4[i * 8 + j] = 0.5 * static_cast<double>(first + i) + j;
    status[i] = static_cast<std::int8_t>((first + i) % 7);
  }
  t.set("/nu/x/p4", {2, 4}, p4);
  t.set("/nu/x/status", {}, status);
  t.set("/reco/none", {0}, empty);
  t.setAttribute("producer", std::string("test"));
  return t;
}

void expectSameColumns(const EventTable& a, const EventTable& b) {
  ASSERT_EQ(a.nEvents(), b.nEvents());
  ASSERT_EQ(a.columns().size(), b.columns().size());
  for (const auto& [name, col] : a.columns()) {
    ASSERT_TRUE(b.has(name)) << name;
    EXPECT_EQ(b.column(name).rowShape, col.rowShape) << name;
    EXPECT_TRUE(b.column(name).values == col.values) << name;
  }
}

std::size_t filesIn(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

}  // namespace

TEST(EventFileWriter, AppendedChunksReadBackAsOneTable) {
  TempDir dir;
  const auto path = dir.file("chunks.h5");
  {
    EventFileWriter w(path);
    w.append(rowsTable(0, 70));
    w.append(rowsTable(70, 0));
    w.append(rowsTable(70, 1000));
    w.setAttribute("seed", std::int64_t{7});
    w.commit();
    EXPECT_EQ(w.rowsWritten(), 1070u);
  }
  const EventTable back = readEventFile(path);
  expectSameColumns(rowsTable(0, 1070), back);
  EXPECT_EQ(back.numberAttribute("seed"), 7);
  EXPECT_EQ(back.numberAttribute("n_events"), 1070);
  EXPECT_EQ(filesIn(dir.path), 1u);
}

TEST(EventFileWriter, WithoutCommitLeavesNothingAndKeepsTheOldFile) {
  TempDir dir;
  const auto path = dir.file("keep.h5");
  writeEventFile(path, rowsTable(0, 5));
  {
    EventFileWriter w(path);
    w.append(rowsTable(0, 50));
  }  // an exception between append and commit ends like this
  EXPECT_EQ(readEventFile(path).nEvents(), 5u);
  EXPECT_EQ(filesIn(dir.path), 1u);
}

TEST(EventFileWriter, AppendOfOtherDatasetsIsRefused) {
  TempDir dir;
  EventFileWriter w(dir.file("x.h5"));
  w.append(rowsTable(0, 3));
  EventTable other = rowsTable(3, 3);
  other.erase("/nu/x/status");
  EXPECT_THROW(w.append(other), ConfigError);
}

TEST(EventFileWriter, ColumnAtCommitMustCoverEveryRow) {
  TempDir dir;
  const auto path = dir.file("w.h5");
  {
    EventFileWriter w(path);
    w.append(rowsTable(0, 10));
    Column weights;
    weights.values = std::vector<double>(10, 0.25);
    w.setColumnAtCommit("/weight", weights);
    w.commit();
  }
  EXPECT_EQ(readEventFile(path).get<double>("/weight", {}), std::vector<double>(10, 0.25));
  EventFileWriter bad(dir.file("bad.h5"));
  bad.append(rowsTable(0, 10));
  Column weights;
  weights.values = std::vector<double>(9, 1.0);
  bad.setColumnAtCommit("/weight", weights);
  EXPECT_THROW(bad.commit(), ConfigError);
}

// A file-size limit mid-stream (what a full disk does too): an Error naming the file and the
// reason, no temporary left, and no crash of libhdf5 at exit (it did with HDF5's own driver).
TEST(EventFileWriter, WriteFailureIsAnErrorAndTheProcessExitsCleanly) {
  TempDir dir;
  const auto path = dir.file("big.h5");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit limit{1 << 20, 1 << 20};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 3;
    try {
      EventFileWriter w(path);
      for (std::size_t first = 0; first < 2000000; first += 100000) {
        EventTable t(100000);
        std::vector<double> noise(100000 * 8);
        for (std::size_t i = 0; i < noise.size(); ++i)
          noise[i] = static_cast<double>((i * 2654435761u) % 1000003) / 7.0;
        t.set("/noise", {8}, noise);
        w.append(t);
      }
      w.commit();
      code = 4;  // the limit did not stop the writes
    } catch (const Error& e) {
      const std::string what = e.what();
      code = what.find("big.h5") != std::string::npos &&
                     what.find("File too large") != std::string::npos
                 ? 0
                 : 5;
    }
    std::exit(code);  // runs libhdf5's exit handlers, where the crash was
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the writer process died from signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(filesIn(dir.path), 0u);
}

TEST(EventFileReader, ReadsAnyRowRangeAndSubsetOfDatasets) {
  TempDir dir;
  const auto path = dir.file("r.h5");
  writeEventFile(path, rowsTable(0, 500));
  const EventFileReader r(path);
  EXPECT_EQ(r.nEvents(), 500u);
  EXPECT_TRUE(r.has("/nu/x/p4"));
  EXPECT_EQ(r.datasets().at("/nu/x/p4").rowShape, (std::vector<std::size_t>{2, 4}));
  const EventTable mid = r.read(123, 77);
  EXPECT_EQ(mid.firstRow(), 123u);
  expectSameColumns(rowsTable(123, 77), mid);
  EXPECT_EQ(r.read(490, 100).nEvents(), 10u);  // cut at the end
  const EventTable one = r.read(0, 5, {"/nu/x/status"});
  EXPECT_EQ(one.columns().size(), 1u);
  EXPECT_THROW(r.read(501, 1), InputError);
  EXPECT_THROW(r.read(0, 1, {"/nu/y/p4"}), InputError);
}

TEST(Shards, RowsTileTheFileExactly) {
  for (std::size_t n : {0u, 1u, 7u, 1000u, 1001u, 5000u}) {
    for (std::size_t shards : {1u, 2u, 3u, 8u}) {
      std::size_t next = 0;
      for (std::size_t i = 0; i < shards; ++i) {
        const ShardRange r = shardRows(std::to_string(i) + "/" + std::to_string(shards), n);
        EXPECT_EQ(r.first, next);
        EXPECT_EQ(r.first % kRowBlock, 0u);
        EXPECT_LE(r.count, (n / kRowBlock / shards + 1) * kRowBlock);
        next = r.first + r.count;
      }
      EXPECT_EQ(next, n);
    }
  }
  EXPECT_EQ(shardRows("", 10).count, 10u);
  for (const char* bad : {"1", "2/2", "-1/2", "0/0", "a/2", "1/2x", "0/100001"})
    EXPECT_THROW(shardRows(bad, 10), ConfigError) << bad;
}

TEST(Shards, MergeOfShardsInAnyOrderEqualsTheWhole) {
  TempDir dir;
  const std::size_t n = 2003;  // 4 blocks of io::kRowBlock rows
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < 3; ++i) {
    const ShardRange r = shardRows(std::to_string(i) + "/3", n);
    EventTable t = rowsTable(r.first, r.count);
    t.setAttribute(kShardAttribute, std::to_string(i) + "/3");
    t.setAttribute(kShardFirstRowAttribute, static_cast<std::int64_t>(r.first));
    t.setAttribute(kShardSourceEventsAttribute, static_cast<std::int64_t>(n));
    parts.push_back(dir.file("p" + std::to_string(i) + ".h5"));
    writeEventFile(parts.back(), t);
  }
  const auto out = dir.file("merged.h5");
  const MergeSummary s = mergeEventFiles({parts[2], parts[0], parts[1]}, out, 100);
  EXPECT_TRUE(s.shardsChecked);
  const EventTable merged = readEventFile(out);
  expectSameColumns(rowsTable(0, n), merged);
  EXPECT_FALSE(merged.hasAttribute(kShardAttribute));
  EXPECT_EQ(merged.stringAttribute("producer"), "test");

  try {
    mergeEventFiles({parts[0], parts[2]}, dir.file("gap.h5"), 100);
    FAIL() << "a missing shard must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("every shard is needed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mergeEventFiles({parts[0], parts[0], parts[1]}, dir.file("twice.h5"), 100),
               InputError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("gap.h5")));
}

TEST(Shards, MergeRefusesPartsOfDifferentRuns) {
  TempDir dir;
  EventTable a = rowsTable(0, 10), b = rowsTable(10, 10);
  b.setAttribute("producer", std::string("another"));
  writeEventFile(dir.file("a.h5"), a);
  writeEventFile(dir.file("b.h5"), b);
  try {
    mergeEventFiles({dir.file("a.h5"), dir.file("b.h5")}, dir.file("m.h5"), 4);
    FAIL() << "attributes that differ must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("producer"), std::string::npos) << e.what();
  }
  // Same attributes: plain concatenation.
  writeEventFile(dir.file("b.h5"), rowsTable(10, 10));
  mergeEventFiles({dir.file("a.h5"), dir.file("b.h5")}, dir.file("m.h5"), 4);
  expectSameColumns(rowsTable(0, 20), readEventFile(dir.file("m.h5")));
}

// The schema's ragged arrays (decay products, recoil) are zero-padded to the widest event of the
// table; a chunk wider or narrower than the ones before must give the whole-file result.
TEST(EventFileWriter, RaggedWidthsArePaddedAcrossChunks) {
  TempDir dir;
  const auto path = dir.file("ragged.h5");
  auto chunk = [](std::size_t n, std::size_t width, std::int32_t base) {
    EventTable t(n);
    std::vector<std::int32_t> v(n * 2 * width);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = base + static_cast<std::int32_t>(i) + 1;
    t.set("/truth/products_pdg", {2, width}, v);
    return t;
  };
  {
    EventFileWriter w(path);
    w.append(chunk(2, 2, 0));
    w.append(chunk(1, 3, 100));
    w.append(chunk(1, 1, 200));
    w.commit();
  }
  const auto got = readEventFile(path).get<std::int32_t>("/truth/products_pdg", {2, 3});
  const std::vector<std::int32_t> expected{1,   2,   0,   3,   4,   0,    // event 0 (width 2)
                                           5,   6,   0,   7,   8,   0,    // event 1
                                           101, 102, 103, 104, 105, 106,  // event 2 (width 3)
                                           201, 0,   0,   202, 0,   0};   // event 3 (width 1)
  EXPECT_EQ(got, expected);
}

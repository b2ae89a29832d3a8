// Whole-table reconstruction: output datasets, status codes, determinism vs threads, bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "TestTables.hpp"
#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/reco/Reconstruct.hpp"

using namespace nurec;
using namespace nurec::reco;

namespace {

io::EventTable sampleTable(std::size_t n) {
  ConstructedEventsConfig c;
  c.channel = -2;  // includes channel -1 events (other, lep-lep)
  c.metNoiseGeV = 5;
  c.sumEtGeV = 100;
  c.visibleResolution = 0.03;
  return constructedTable(constructEvents(c, n, 31));
}

ClassicalRecoConfig testConfig(const std::string& pdfPath) {
  ClassicalRecoConfig c;
  c.mmc.pdfPath = pdfPath;
  c.mmc.points = 1000;
  c.progress = false;
  return c;
}

}  // namespace

TEST(Reconstruct, AllMethodsWriteTheSchema) {
  TempDir dir;
  const std::string pdfPath = dir.file("pdfs.json");
  constructedPdfTable()->save(pdfPath, "test", "constructed");
  io::EventTable table = sampleTable(300);
  const auto reco = io::getReco(table);
  for (const std::string method : {"collinear", "mmc", "fastmtt"}) {
    reconstructClassical(table, method, testConfig(pdfPath), 2);
    const io::NuEstimate nu = io::getNu(table, method);
    const auto mtt = table.get<double>(mtautauName(method), {});
    const auto counts = statusCounts(table, method);
    std::int64_t total = 0;
    for (auto c : counts) total += c;
    EXPECT_EQ(total, 300);
    EXPECT_GT(counts[0], 0) << method;
    for (std::size_t i = 0; i < reco.size(); ++i) {
      const auto s = static_cast<RecoStatus>(nu.status[i]);
      if (reco[i].channel == Channel::None) {
        EXPECT_EQ(s, RecoStatus::NotReconstructed);
      }
      if (s != RecoStatus::Ok) {
        EXPECT_EQ(nu.p4[i][0], FourVector{});
        EXPECT_EQ(nu.p4[i][1], FourVector{});
        EXPECT_EQ(mtt[i], 0.0);
      } else {
        EXPECT_GT(mtt[i], 0.0);
      }
    }
    EXPECT_TRUE(table.hasAttribute("reco_" + method + "_config"));
  }
}

TEST(Reconstruct, MmcIndependentOfThreads) {
  TempDir dir;
  const std::string pdfPath = dir.file("pdfs.json");
  constructedPdfTable()->save(pdfPath, "test", "constructed");
  for (const bool markov : {false, true}) {
    ClassicalRecoConfig c = testConfig(pdfPath);
    c.mmc.scan = markov ? MmcScan::Markov : MmcScan::Random;
    io::EventTable a = sampleTable(200), b = sampleTable(200);
    reconstructClassical(a, "mmc", c, 1);
    reconstructClassical(b, "mmc", c, 2);
    EXPECT_EQ(a.get<double>("/nu/mmc/p4", {2, 4}), b.get<double>("/nu/mmc/p4", {2, 4}));
    EXPECT_EQ(a.get<double>("/nu/mmc/mtautau", {}), b.get<double>("/nu/mmc/mtautau", {}));
    EXPECT_EQ(a.get<std::int8_t>("/nu/mmc/status", {}), b.get<std::int8_t>("/nu/mmc/status", {}));
    // Another seed changes the random scan.
    c.seed = 2;
    io::EventTable d = sampleTable(200);
    reconstructClassical(d, "mmc", c, 2);
    EXPECT_NE(a.get<double>("/nu/mmc/mtautau", {}), d.get<double>("/nu/mmc/mtautau", {}));
  }
}

TEST(Reconstruct, NanInputIsAnErrorNotACrash) {
  io::EventTable table = sampleTable(20);
  auto met = table.get<double>(io::ds::recoMet, {2});
  met[7] = std::nan("");
  table.set(io::ds::recoMet, {2}, met);
  try {
    reconstructClassical(table, "collinear", testConfig(""), 1);
    FAIL() << "NaN MET accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/reco/met"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(table.has("/nu/collinear/p4"));
}

TEST(Reconstruct, UnknownMethodAndMissingTable) {
  io::EventTable table = sampleTable(5);
  EXPECT_THROW(reconstructClassical(table, "svfit", testConfig(""), 1), ConfigError);
  EXPECT_THROW(reconstructClassical(table, "mmc", testConfig("/nonexistent/pdfs.json"), 1),
               InputError);
}

#include <gtest/gtest.h>

#include <fstream>

#include "TestTables.hpp"
#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"

using namespace nurec;
using namespace nurec::reco;

TEST(AngularPdf, SlicesAreNormalisedInDtheta) {
  const auto pdfs = constructedPdfTable();
  const auto& c = pdfs->config();
  for (int type = 0; type < kNumPdfTypes; ++type) {
    EXPECT_GT(pdfs->entries(static_cast<PdfType>(type)), 1000);
    for (const double p : {15.0, 40.0, 120.0}) {
      // Integral of P(dtheta | p) over dtheta by the midpoint rule on a fine grid.
      const double thetaMax = c.uMax * constants::mTau / p;
      const int n = 20000;
      double sum = 0;
      for (int i = 0; i < n; ++i) {
        sum += pdfs->angleDensity(static_cast<PdfType>(type), p, (i + 0.5) * thetaMax / n);
      }
      EXPECT_NEAR(sum * thetaMax / n, 1.0, 0.02)
          << pdfTypeName(static_cast<PdfType>(type)) << " p " << p;
    }
  }
  // P(m_nunu) of the leptons integrates to 1 on [0, m_tau].
  double s = 0;
  for (int i = 0; i < 1000; ++i)
    s += pdfs->massDensity(PdfType::Muon, (i + 0.5) * constants::mTau / 1000);
  EXPECT_NEAR(s * constants::mTau / 1000, 1.0, 1e-6);
}

TEST(AngularPdf, TwoBodyOpeningAngleAboveKinematicMinimum) {
  // pi nu at p_tau = 45 GeV (gamma ~ 25): the nu-pi opening angle of a two-body decay is at
  // least ~2/gamma (u = dtheta p/m_tau >= ~2, reached at x = 1/2), so the table is empty below
  // and filled just above.
  const auto pdfs = constructedPdfTable();
  EXPECT_EQ(pdfs->scaledAngleDensity(PdfType::Pi, 45, 1.5), 0);
  EXPECT_GT(pdfs->scaledAngleDensity(PdfType::Pi, 45, 2.5), 0);
}

TEST(AngularPdf, SaveLoadRoundTrip) {
  TempDir dir;
  const auto pdfs = constructedPdfTable();
  const std::string path = dir.file("pdfs.json");
  pdfs->save(path, "test", "constructed events");
  const AngularPdfTable back = AngularPdfTable::load(path);
  EXPECT_EQ(back.source(), "constructed events");
  for (int type = 0; type < kNumPdfTypes; ++type) {
    const auto t = static_cast<PdfType>(type);
    EXPECT_EQ(back.entries(t), pdfs->entries(t));
    for (const double p : {12.0, 50.0, 300.0})
      for (const double th : {0.001, 0.01, 0.05, 0.2})
        EXPECT_NEAR(back.angleDensity(t, p, th), pdfs->angleDensity(t, p, th),
                    1e-9 * (1 + pdfs->angleDensity(t, p, th)));
  }
}

TEST(AngularPdf, BadFilesAreRejectedClearly) {
  TempDir dir;
  EXPECT_THROW(AngularPdfTable::load(dir.file("missing.json")), InputError);
  { std::ofstream(dir.file("junk.json")) << "{not json"; }
  EXPECT_THROW(AngularPdfTable::load(dir.file("junk.json")), InputError);
  {
    std::ofstream(dir.file("other.json")) << R"({"format": "something-else", "format_version": 1})";
  }
  EXPECT_THROW(AngularPdfTable::load(dir.file("other.json")), InputError);
  { std::ofstream(dir.file("v9.json")) << R"({"format": "nurec-mmc-pdfs", "format_version": 9})"; }
  try {
    AngularPdfTable::load(dir.file("v9.json"));
    FAIL() << "version 9 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("version 9"), std::string::npos) << e.what();
  }
}

TEST(AngularPdf, MissingTypeIsAnError) {
  ConstructedEventsConfig c;
  c.channel = 0;  // pi pi only: no rho, lepton or other entries
  const auto events = constructEvents(c, 100, 1);
  std::vector<TruthEvent> truth;
  for (const auto& e : events) truth.push_back(e.truth);
  EXPECT_THROW(AngularPdfTable::fromTruth(truth, AngularPdfConfig{}), InputError);
}

TEST(AngularPdf, ShippedTableLoads) {
  const std::string path = std::string(NUREC_SOURCE_DIR) + "/data/mmc/mmc_pdfs_v1.json";
  const AngularPdfTable t = AngularPdfTable::load(path);
  for (int type = 0; type < kNumPdfTypes; ++type)
    EXPECT_GT(t.entries(static_cast<PdfType>(type)), 10000)
        << pdfTypeName(static_cast<PdfType>(type));
}

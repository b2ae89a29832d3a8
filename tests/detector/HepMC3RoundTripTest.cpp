// Round trip: nurec's generator -> its HepMC3 writer -> io::readHepMC3 gives back the truth.
#include <gtest/gtest.h>

#include "common/TempDir.hpp"
#include "nurec/generator/HepMC3Writer.hpp"
#include "nurec/generator/ZTauTau.hpp"
#include "nurec/io/HepMC3Reader.hpp"

using namespace nurec;

namespace {
void expectNear(const FourVector& a, const FourVector& b, double tol, std::size_t i) {
  EXPECT_NEAR(a.px, b.px, tol) << "event " << i;
  EXPECT_NEAR(a.py, b.py, tol) << "event " << i;
  EXPECT_NEAR(a.pz, b.pz, tol) << "event " << i;
  EXPECT_NEAR(a.e, b.e, tol) << "event " << i;
}
}  // namespace

TEST(HepMC3RoundTrip, GeneratorWriterToReader) {
  generator::ZTauTauConfig c;
  c.nEvents = 300;
  c.seed = 11;
  c.pilotPoints = 5000;
  const auto sample = generator::generateZTauTauEvents(c, 1);
  TempDir dir;
  for (const char* name : {"gen.hepmc3", "gen.hepmc3.gz"}) {
    const std::string path = dir.file(name);
    generator::writeHepMC3(path, sample.events, c.sqrtS, sample.summary.crossSectionPb,
                           sample.summary.crossSectionErrPb);
    const auto in = io::readHepMC3(path);
    ASSERT_EQ(in.events.size(), sample.events.size()) << name;
    EXPECT_EQ(in.statusCounts[0], sample.events.size()) << name;
    EXPECT_NEAR(in.sqrtSGeV, c.sqrtS, 1e-6 * c.sqrtS);
    EXPECT_NEAR(in.crossSectionPb, sample.summary.crossSectionPb,
                1e-6 * sample.summary.crossSectionPb);
    const double tol = 1e-6;  // the ASCII format keeps 16 significant digits
    double sumWeight = 0;
    for (std::size_t i = 0; i < in.events.size(); ++i) {
      const auto& a = in.events[i];
      const auto& b = sample.events[i];
      sumWeight += a.weightPb;
      EXPECT_NEAR(a.weightPb, b.weightPb, 1e-6 * std::abs(b.weightPb))
          << i;  // sigma in the file: 8 digits
      for (int t = 0; t < 2; ++t) {
        EXPECT_EQ(a.decayMode[t], b.decayMode[t]) << "event " << i << " tau " << t;
        expectNear(a.tau[t], b.tau[t], tol, i);
        expectNear(a.visible[t], b.visible[t], tol, i);
        expectNear(a.neutrinos[t], b.neutrinos[t], tol, i);
        expectNear(a.chargedPion[t], b.chargedPion[t], tol, i);
        expectNear(a.neutralPion[t], b.neutralPion[t], tol, i);
        EXPECT_EQ(a.tauProducts[t].size(), b.tauProducts[t].size()) << i;
        EXPECT_EQ(a.tauNeutrinos[t].size(), b.tauNeutrinos[t].size()) << i;
      }
      EXPECT_EQ(a.recoil.size(), b.recoil.size()) << i;
      EXPECT_EQ(a.partonPdg, b.partonPdg) << i;
      EXPECT_NEAR(a.partonX[0], b.partonX[0], 1e-9) << i;
      EXPECT_NEAR(a.partonX[1], b.partonX[1], 1e-9) << i;
      expectNear(a.boson, b.boson, tol, i);
      // Vertex positions [mm] (docs/data-format.md): written and read back.
      ASSERT_TRUE(a.hasVertices) << i;
      EXPECT_NEAR((a.primaryVertex - b.primaryVertex).mag(), 0, 1e-9) << i;
      for (int t = 0; t < 2; ++t)
        EXPECT_NEAR((a.tauDecayVertex[t] - b.tauDecayVertex[t]).mag(), 0, 1e-9) << i;
    }
    EXPECT_NEAR(sumWeight, sample.summary.crossSectionPb, 1e-6 * sample.summary.crossSectionPb);
  }
}

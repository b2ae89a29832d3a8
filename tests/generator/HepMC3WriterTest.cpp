// HepMC3 writer: the file reads back with the HepMC3 library (plain and gzip), with the full
// record, and is written atomically.
#include <gtest/gtest.h>

#include <HepMC3/GenEvent.h>
#include <HepMC3/GenParticle.h>
#include <HepMC3/ReaderAscii.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/generator/HepMC3Writer.hpp"
#include "nurec/generator/ZTauTau.hpp"
#include "nurec/io/HepMC3Reader.hpp"

using namespace nurec;
using namespace nurec::generator;

namespace {
std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string out;
  char buf[1 << 15];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

void checkFile(std::istream& in, const std::vector<TruthEvent>& events) {
  HepMC3::ReaderAscii reader(in);
  std::size_t i = 0;
  while (true) {
    HepMC3::GenEvent evt;
    reader.read_event(evt);
    if (reader.failed()) break;
    ASSERT_LT(i, events.size());
    const TruthEvent& ev = events[i];
    int nTau = 0, nFinal = 0, nBeam = 0;
    double sumPx = 0, sumPy = 0;
    for (const auto& p : evt.particles()) {
      if (std::abs(p->pid()) == 15) {
        EXPECT_EQ(p->status(), 2);
        const int t = p->pid() < 0 ? 0 : 1;  // tau+ is index 0
        EXPECT_NEAR(p->momentum().e(), ev.tau[t].e, 1e-9 * ev.tau[t].e);
        ++nTau;
      }
      if (p->status() == 4) ++nBeam;
      if (p->status() == 1) {
        ++nFinal;
        sumPx += p->momentum().px();
        sumPy += p->momentum().py();
      }
    }
    EXPECT_EQ(nTau, 2);
    EXPECT_EQ(nBeam, 2);
    const std::size_t expectedFinal = ev.recoil.size() + ev.tauProducts[0].size() +
                                      ev.tauProducts[1].size() + ev.tauNeutrinos[0].size() +
                                      ev.tauNeutrinos[1].size();
    EXPECT_EQ(static_cast<std::size_t>(nFinal), expectedFinal);
    EXPECT_NEAR(sumPx, 0, 1e-6);  // the final state balances in the transverse plane
    EXPECT_NEAR(sumPy, 0, 1e-6);
    ASSERT_EQ(evt.weights().size(), 1u);
    EXPECT_DOUBLE_EQ(evt.weights()[0], ev.weightPb);
    ++i;
  }
  EXPECT_EQ(i, events.size());
}
}  // namespace

TEST(HepMC3Writer, PlainAndGzipReadBack) {
  ZTauTauConfig c;
  c.nEvents = 50;
  c.pilotPoints = 5000;
  const GeneratedSample s = generateZTauTauEvents(c, 1);
  TempDir dir;
  writeHepMC3(dir.file("a.hepmc3"), s.events, c.sqrtS, s.summary.crossSectionPb,
              s.summary.crossSectionErrPb);
  writeHepMC3(dir.file("sub/b.hepmc3.gz"), s.events, c.sqrtS);
  {
    std::ifstream in(dir.file("a.hepmc3"));
    checkFile(in, s.events);
  }
  {
    std::istringstream in(gunzip(dir.file("sub/b.hepmc3.gz")));
    checkFile(in, s.events);
  }
  // Nothing but the two outputs is left behind (no temporary files).
  std::size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path))
    files += e.is_regular_file();
  EXPECT_EQ(files, 2u);
}

TEST(HepMC3Writer, UnwritablePathIsAnError) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("blocked"));
  // A path whose parent is a regular file cannot be created.
  { std::ofstream(dir.file("file")) << "x"; }
  try {
    writeHepMC3(dir.file("file/x.hepmc3"), {}, 13000);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("file/x.hepmc3"), std::string::npos) << e.what();
  }
}

// Killed runs leave <path>.tmp.<pid>; the next run removes them, as for every nurec output.
TEST(HepMC3Writer, TemporariesOfKilledRunsAreRemoved) {
  TempDir dir;
  const std::string stale = dir.file("x.hepmc3.tmp.999999999");
  { std::ofstream(stale) << "half a file"; }
  writeHepMC3(dir.file("x.hepmc3"), {}, 13000);
  EXPECT_TRUE(std::filesystem::exists(dir.file("x.hepmc3")));
  EXPECT_FALSE(std::filesystem::exists(stale));
}

// Round trip through nurec's own HepMC3 reader (io/HepMC3Reader.hpp): the truth record comes back.
TEST(HepMC3Writer, RoundTripThroughTheNurecReader) {
  ZTauTauConfig c;
  c.nEvents = 300;
  c.pilotPoints = 5000;
  const GeneratedSample s = generateZTauTauEvents(c, 1);
  TempDir dir;
  writeHepMC3(dir.file("rt.hepmc3.gz"), s.events, c.sqrtS, s.summary.crossSectionPb,
              s.summary.crossSectionErrPb);
  const io::HepMC3Input in = io::readHepMC3(dir.file("rt.hepmc3.gz"));
  ASSERT_EQ(in.events.size(), s.events.size());
  EXPECT_NEAR(in.crossSectionPb, s.summary.crossSectionPb, 1e-6 * s.summary.crossSectionPb);
  EXPECT_NEAR(in.sqrtSGeV, c.sqrtS, 1e-9);
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    ASSERT_EQ(in.status[i], io::HepMC3Status::Ok) << i;
    const TruthEvent& a = s.events[i];
    const TruthEvent& b = in.events[i];
    EXPECT_EQ(a.decayMode, b.decayMode);
    EXPECT_EQ(a.partonPdg, b.partonPdg);
    EXPECT_EQ(a.recoil.size(), b.recoil.size());
    EXPECT_NEAR(b.weightPb / a.weightPb, 1, 1e-6);
    for (int t = 0; t < 2; ++t) {
      EXPECT_EQ(a.tauProducts[t].size(), b.tauProducts[t].size());
      EXPECT_NEAR((a.tau[t] - b.tau[t]).p(), 0, 1e-6);
      EXPECT_NEAR((a.visible[t] - b.visible[t]).p(), 0, 1e-6);
      EXPECT_NEAR((a.neutrinos[t] - b.neutrinos[t]).p(), 0, 1e-6);
      EXPECT_NEAR((a.chargedPion[t] - b.chargedPion[t]).p(), 0, 1e-6);
      EXPECT_NEAR((a.neutralPion[t] - b.neutralPion[t]).p(), 0, 1e-6);
    }
  }
}

// HepMC3 reader on hand-made records that mimic real generators (Pythia-like copies, photons
// radiated by the tau line and inside the decay, rho/a1/W intermediates, pi0 -> gamma gamma),
// plus bad input: unknown units, truncated and garbage files, NaN momenta.
#include <HepMC3/GenCrossSection.h>
#include <HepMC3/GenEvent.h>
#include <HepMC3/GenParticle.h>
#include <HepMC3/GenPdfInfo.h>
#include <HepMC3/GenVertex.h>
#include <HepMC3/WriterAscii.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <sstream>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/detector/DetectorSimulation.hpp"
#include "nurec/io/HepMC3Reader.hpp"
#include "nurec/io/Schema.hpp"

using namespace nurec;
using nurec::io::HepMC3Status;

namespace {

using HepMC3::GenParticlePtr;

HepMC3::FourVector massive(double px, double py, double pz, double m) {
  return {px, py, pz, std::sqrt(px * px + py * py + pz * pz + m * m)};
}
HepMC3::FourVector sum(const std::vector<GenParticlePtr>& ps) {
  HepMC3::FourVector s;
  for (const auto& p : ps) s += p->momentum();
  return s;
}
FourVector nv(const HepMC3::FourVector& p) {
  return {p.px(), p.py(), p.pz(), p.e()};
}

// Builds one record: particles hang below their mother through a vertex made on demand.
struct Record {
  HepMC3::GenEvent evt{HepMC3::Units::GEV, HepMC3::Units::MM};
  GenParticlePtr make(int pid, const HepMC3::FourVector& p, int status) {
    return std::make_shared<HepMC3::GenParticle>(p, pid, status);
  }
  // Attaches `children` to the decay vertex of `mothers` (created if needed).
  void decay(const std::vector<GenParticlePtr>& mothers,
             const std::vector<GenParticlePtr>& children) {
    auto v = std::make_shared<HepMC3::GenVertex>();
    for (const auto& m : mothers) v->add_particle_in(m);
    for (const auto& c : children) v->add_particle_out(c);
    evt.add_vertex(v);
  }
  // A copy of p (same momentum) with a new status, as a shower or recoil step writes it.
  GenParticlePtr copy(const GenParticlePtr& p, int status) {
    auto c = make(p->pid(), p->momentum(), status);
    decay({p}, {c});
    return c;
  }
};

// Beams, partons and a hard vertex q qbar -> Z + g; returns the Z and fills the recoil of the
// event (gluon jet and beam remnants, 5 final-state particles).
GenParticlePtr hardProcess(Record& r, const HepMC3::FourVector& zMomentum) {
  auto b1 = r.make(2212, {0, 0, 6500, 6500}, 4), b2 = r.make(2212, {0, 0, -6500, 6500}, 4);
  auto q = r.make(2, {0, 0, 130, 130}, 21), qbar = r.make(-2, {0, 0, -65, 65}, 21);
  r.decay({b1}, {q, r.make(2101, {0.3, 0.1, 6000, 6000.001}, 1)});
  r.decay({b2}, {qbar, r.make(2203, {-0.2, 0.1, -6300, 6300.001}, 1)});
  const HepMC3::FourVector g =
      HepMC3::FourVector(0, 0, 65, 0) - zMomentum + HepMC3::FourVector(0, 0, 0, 195);
  auto z = r.make(23, zMomentum, 22), gluon = r.make(21, g, 23);
  r.decay({q, qbar}, {z, gluon});
  // The gluon "hadronises" into three pions.
  const HepMC3::FourVector third(g.px() / 3, g.py() / 3, g.pz() / 3, g.e() / 3);
  r.decay({gluon}, {r.make(211, third, 1), r.make(-211, third, 1), r.make(111, third, 1)});
  return r.copy(z, 44);  // recoil copy of the Z
}

struct Expected {
  FourVector tauPlusVisible, tauMinusVisible, tauMinusNu, tauMinusLast, boson, fsrPhoton;
};

// Event 1 (Pythia-like): Z -> tau+ tau-; tau- radiates a photon (QED shower), is copied, then
// decays to nu rho-, rho- -> pi- pi0, pi0 -> gamma gamma; tau+ -> nubar pi+ gamma (radiation in
// the decay).
Record piRhoRecord(Expected& x) {
  Record r;
  auto piPlus = r.make(211, massive(20, 5, 10, constants::mPiCharged), 1);
  auto gammaDecay = r.make(22, {2, 0.5, 1, std::sqrt(4 + 0.25 + 1)}, 1);
  auto nubar = r.make(-16, {10, 2, 6, std::sqrt(100 + 4 + 36)}, 1);
  auto piMinus = r.make(-211, massive(-15, -3, -8, constants::mPiCharged), 1);
  auto g1 = r.make(22, {-6, -1, -3, std::sqrt(36 + 1 + 9)}, 1);
  auto g2 = r.make(22, {-5, -2, -2, std::sqrt(25 + 4 + 4)}, 1);
  auto nu = r.make(16, {-9, -1, -4, std::sqrt(81 + 1 + 16)}, 1);
  auto fsr = r.make(22, {-1, 0.5, -0.5, std::sqrt(1 + 0.25 + 0.25)}, 1);
  const auto pi0Momentum = g1->momentum() + g2->momentum();
  const auto rhoMomentum = piMinus->momentum() + pi0Momentum;
  const auto tauMinusLast = rhoMomentum + nu->momentum();
  const auto tauMinusFirst = tauMinusLast + fsr->momentum();
  const auto tauPlus = sum({piPlus, gammaDecay, nubar});
  auto z = hardProcess(r, tauPlus + tauMinusFirst);
  auto tp = r.make(-15, tauPlus, 23), tm = r.make(15, tauMinusFirst, 23);
  r.decay({z}, {tp, tm});
  auto tm51 = r.make(15, tauMinusLast, 51);
  r.decay({tm}, {tm51, fsr});
  auto tm2 = r.copy(tm51, 2);
  auto rho = r.make(-213, rhoMomentum, 2);
  r.decay({tm2}, {nu, rho});
  auto pi0 = r.make(111, pi0Momentum, 2);
  r.decay({rho}, {piMinus, pi0});
  r.decay({pi0}, {g1, g2});
  auto tp2 = r.copy(tp, 2);
  r.decay({tp2}, {nubar, piPlus, gammaDecay});
  x.tauPlusVisible = nv(piPlus->momentum() + gammaDecay->momentum());
  x.tauMinusVisible = nv(piMinus->momentum() + pi0Momentum);
  x.tauMinusNu = nv(nu->momentum());
  x.tauMinusLast = nv(tauMinusLast);
  x.boson = nv(tauPlus + tauMinusFirst);
  x.fsrPhoton = nv(fsr->momentum());
  auto pdf = std::make_shared<HepMC3::GenPdfInfo>();
  pdf->set(2, -2, 0.01, 0.005, 91.0, 0.5, 0.6);
  r.evt.set_pdf_info(pdf);
  return r;
}

// Event 2 (MadGraph-like): tau- -> nu_tau W-, W- -> e- nubar_e, the e- radiates a photon;
// tau+ -> nubar a1+, a1+ -> rho0 pi+, rho0 -> pi+ pi- (3 prongs: "other").
Record leptonRecord() {
  Record r;
  auto e = r.make(11, massive(-20, 1, -5, constants::mElectron), 2);
  auto e1 = r.make(11, massive(-18, 1, -4.5, constants::mElectron), 1);
  auto eGamma = r.make(22, {-2, 0, -0.5, std::sqrt(4 + 0.25)}, 1);
  auto nubarE = r.make(-12, {-5, 0, -2, std::sqrt(29.0)}, 1);
  auto nuTau = r.make(16, {-6, 1, -1, std::sqrt(38.0)}, 1);
  auto w = r.make(-24, e->momentum() + nubarE->momentum(), 2);
  auto p1 = r.make(211, massive(10, 1, 3, constants::mPiCharged), 1);
  auto p2 = r.make(211, massive(8, -1, 2, constants::mPiCharged), 1);
  auto p3 = r.make(-211, massive(6, 0, 1, constants::mPiCharged), 1);
  auto nubarTau = r.make(-16, {7, 0, 2, std::sqrt(53.0)}, 1);
  const auto tauMinus = w->momentum() + nuTau->momentum();
  const auto rho0 = p2->momentum() + p3->momentum();
  const auto a1 = rho0 + p1->momentum();
  const auto tauPlus = a1 + nubarTau->momentum();
  auto z = hardProcess(r, tauPlus + tauMinus);
  auto tp = r.make(-15, tauPlus, 2), tm = r.make(15, tauMinus, 2);
  r.decay({z}, {tp, tm});
  r.decay({tm}, {nuTau, w});
  r.decay({w}, {e, nubarE});
  r.decay({e}, {e1, eGamma});
  auto a1p = r.make(20213, a1, 2), rho = r.make(113, rho0, 2);
  r.decay({tp}, {nubarTau, a1p});
  r.decay({a1p}, {rho, p1});
  r.decay({rho}, {p2, p3});
  return r;
}

// Event 3: Z -> mu+ mu- (no tau pair). Event 4: taus left undecayed (status 1).
Record muonPairRecord() {
  Record r;
  auto m1 = r.make(13, massive(30, 2, 5, constants::mMuon), 1);
  auto m2 = r.make(-13, massive(-28, -1, 9, constants::mMuon), 1);
  auto z = hardProcess(r, m1->momentum() + m2->momentum());
  r.decay({z}, {m1, m2});
  return r;
}
Record undecayedRecord() {
  Record r;
  auto t1 = r.make(15, massive(30, 2, 5, constants::mTau), 1);
  auto t2 = r.make(-15, massive(-28, -1, 9, constants::mTau), 1);
  auto z = hardProcess(r, t1->momentum() + t2->momentum());
  r.decay({z}, {t1, t2});
  return r;
}

// Event 5 (Herwig-like, pi0 left stable): tau- -> nu pi- pi0 pi0 ("other"); tau+ -> nubar K+.
Record otherRecord() {
  Record r;
  auto pim = r.make(-211, massive(-10, 0, 1, constants::mPiCharged), 1);
  auto pi0a = r.make(111, massive(-6, 1, 0, constants::mPiNeutral), 1);
  auto pi0b = r.make(111, massive(-5, -1, 1, constants::mPiNeutral), 1);
  auto nu = r.make(16, {-4, 0, 0, 4}, 1);
  auto k = r.make(321, massive(15, 2, 3, 0.4937), 1);
  auto nubar = r.make(-16, {5, 1, 1, std::sqrt(27.0)}, 1);
  const auto tm = sum({pim, pi0a, pi0b, nu}), tp = sum({k, nubar});
  auto z = hardProcess(r, tm + tp);
  auto tauM = r.make(15, tm, 2), tauP = r.make(-15, tp, 2);
  r.decay({z}, {tauP, tauM});
  r.decay({tauM}, {nu, pim, pi0a, pi0b});
  r.decay({tauP}, {nubar, k});
  return r;
}

struct Sample {
  std::string path;
  Expected expected;
};

Sample writeSample(const TempDir& dir, const std::string& name, bool mev = false) {
  Sample s;
  s.path = dir.file(name);
  HepMC3::WriterAscii writer(s.path);
  std::vector<Record> records;
  records.push_back(piRhoRecord(s.expected));
  records.push_back(leptonRecord());
  records.push_back(muonPairRecord());
  records.push_back(undecayedRecord());
  records.push_back(otherRecord());
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto& evt = records[i].evt;
    evt.set_event_number(static_cast<int>(i) + 1);
    evt.weights() = {i == 1 ? 3.0 : 1.0};
    auto cs = std::make_shared<HepMC3::GenCrossSection>();
    cs->set_cross_section(1500.0, 3.0);
    evt.set_cross_section(cs);
    if (mev) evt.set_units(HepMC3::Units::MEV, HepMC3::Units::MM);
    writer.write_event(evt);
  }
  writer.close();
  return s;
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}
void writeGzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
}

void expectNear(const FourVector& a, const FourVector& b, double tol = 1e-9) {
  EXPECT_NEAR(a.px, b.px, tol);
  EXPECT_NEAR(a.py, b.py, tol);
  EXPECT_NEAR(a.pz, b.pz, tol);
  EXPECT_NEAR(a.e, b.e, tol);
}

void checkSample(const io::HepMC3Input& in, const Expected& x, double tol = 1e-9) {
  ASSERT_EQ(in.events.size(), 5u);
  EXPECT_EQ(in.status[0], HepMC3Status::Ok);
  EXPECT_EQ(in.status[1], HepMC3Status::Ok);
  EXPECT_EQ(in.status[2], HepMC3Status::NoTauPair);
  EXPECT_EQ(in.status[3], HepMC3Status::UndecayedTau);
  EXPECT_EQ(in.status[4], HepMC3Status::Ok);
  EXPECT_EQ(in.statusCounts[0], 3u);
  EXPECT_EQ(in.statusCounts[1], 1u);
  EXPECT_EQ(in.statusCounts[2], 1u);
  EXPECT_NEAR(in.sqrtSGeV, 13000, 1e-6 * 13000);
  EXPECT_TRUE(in.hasCrossSection);
  EXPECT_NEAR(in.crossSectionPb, 1500, 1e-9);
  // Weights: sigma x w_i / sum w (w = 1, 3, 1, 1, 1).
  EXPECT_NEAR(in.events[0].weightPb, 1500.0 / 7, 1e-9);
  EXPECT_NEAR(in.events[1].weightPb, 1500.0 * 3 / 7, 1e-9);

  // Event 1: tau+ -> pi+ (+ photon radiated in the decay), tau- -> rho- through copies.
  const TruthEvent& e1 = in.events[0];
  EXPECT_EQ(e1.decayMode[0], DecayMode::Pi);
  EXPECT_EQ(e1.decayMode[1], DecayMode::Rho);
  expectNear(e1.visible[0], x.tauPlusVisible, tol);
  expectNear(e1.visible[1], x.tauMinusVisible, tol);
  expectNear(e1.neutrinos[1], x.tauMinusNu, tol);
  expectNear(e1.tau[1], x.tauMinusLast, tol);  // the last copy, after the photon
  expectNear(e1.boson, x.boson, tol);          // the first copies: the Z
  ASSERT_EQ(e1.tauProducts[0].size(), 2u);     // pi+, photon
  ASSERT_EQ(e1.tauProducts[1].size(), 2u);     // pi-, pi0 (kept whole, not its photons)
  EXPECT_EQ(e1.tauProducts[1][1].pdgId, 111);
  EXPECT_EQ(e1.tauNeutrinos[1].size(), 1u);
  EXPECT_EQ(e1.tauNeutrinos[1][0].pdgId, 16);
  EXPECT_NEAR(e1.chargedPion[0].px, 20, tol);
  EXPECT_NEAR(e1.neutralPion[1].px, -11, tol);
  EXPECT_EQ(e1.neutralPion[0], FourVector{});
  // Recoil: 2 beam remnants, 3 pions of the gluon, and the photon radiated by the tau- line.
  ASSERT_EQ(e1.recoil.size(), 6u);
  bool hasFsr = false;
  for (const auto& p : e1.recoil)
    hasFsr |= p.pdgId == 22 && std::abs(p.p4.px - x.fsrPhoton.px) < tol;
  EXPECT_TRUE(hasFsr);
  EXPECT_EQ(e1.partonPdg[0], 2);
  EXPECT_EQ(e1.partonPdg[1], -2);
  EXPECT_NEAR(e1.partonX[1], 0.005, 1e-12);

  // Event 2: electron through a W and a radiating copy; 3-prong a1 is "other".
  const TruthEvent& e2 = in.events[1];
  EXPECT_EQ(e2.decayMode[1], DecayMode::Electron);
  EXPECT_EQ(e2.decayMode[0], DecayMode::Other);
  EXPECT_EQ(e2.tauNeutrinos[1].size(), 2u);
  EXPECT_EQ(std::abs(e2.tauNeutrinos[1][0].pdgId), 16);  // nu_tau first
  EXPECT_EQ(e2.tauProducts[1].size(), 2u);               // e-, photon
  EXPECT_EQ(e2.tauProducts[0].size(), 3u);               // three charged pions
  EXPECT_NEAR(e2.visible[1].px, -20, tol);
  EXPECT_EQ(e2.chargedPion[0], FourVector{});
  EXPECT_EQ(e2.recoil.size(), 5u);

  // Events 3, 4: no (decaying) tau pair; kept, counted, all final-state particles are recoil.
  EXPECT_EQ(in.events[2].recoil.size(), 7u);
  EXPECT_EQ(in.events[2].tau[0], FourVector{});
  EXPECT_EQ(in.events[3].recoil.size(), 7u);

  // Event 5: pi- 2pi0 is "other", tau -> K nu is "other".
  EXPECT_EQ(in.events[4].decayMode[1], DecayMode::Other);
  EXPECT_EQ(in.events[4].decayMode[0], DecayMode::Other);
  EXPECT_EQ(in.events[4].tauProducts[1].size(), 3u);
}

}  // namespace

TEST(HepMC3Reader, PdgCharges) {
  EXPECT_EQ(io::pdgThreeCharge(211), 3);
  EXPECT_EQ(io::pdgThreeCharge(-211), -3);
  EXPECT_EQ(io::pdgThreeCharge(321), 3);
  EXPECT_EQ(io::pdgThreeCharge(-321), -3);
  EXPECT_EQ(io::pdgThreeCharge(111), 0);
  EXPECT_EQ(io::pdgThreeCharge(130), 0);
  EXPECT_EQ(io::pdgThreeCharge(310), 0);
  EXPECT_EQ(io::pdgThreeCharge(11), -3);
  EXPECT_EQ(io::pdgThreeCharge(-13), 3);
  EXPECT_EQ(io::pdgThreeCharge(2212), 3);
  EXPECT_EQ(io::pdgThreeCharge(2112), 0);
  EXPECT_EQ(io::pdgThreeCharge(3222), 3);
  EXPECT_EQ(io::pdgThreeCharge(3312), -3);
  EXPECT_EQ(io::pdgThreeCharge(411), 3);
  EXPECT_EQ(io::pdgThreeCharge(521), 3);
  EXPECT_EQ(io::pdgThreeCharge(-511), 0);
  EXPECT_EQ(io::pdgThreeCharge(22), 0);
  EXPECT_EQ(io::pdgThreeCharge(2), 2);
  EXPECT_EQ(io::pdgThreeCharge(1000010020), 3);  // deuteron
}

TEST(HepMC3Reader, GeneratorLikeRecordsPlainAndGzip) {
  TempDir dir;
  const Sample s = writeSample(dir, "events.hepmc3");
  checkSample(io::readHepMC3(s.path), s.expected);
  writeGzip(dir.file("events.hepmc3.gz"), readText(s.path));
  checkSample(io::readHepMC3(dir.file("events.hepmc3.gz")), s.expected);
  EXPECT_EQ(io::readHepMC3(s.path, 2).events.size(), 2u);
}

TEST(HepMC3Reader, PrefersTheTausOfTheBosonOverHarderOnesFromHadronDecays) {
  Expected x;
  Record r = piRhoRecord(x);
  // A hard B+ -> tau+ nu_tau, tau+ -> pi+ nubar (from a string, as Pythia writes hadronisation).
  auto str = r.make(92, {0, 0, 100, 200}, 2);
  auto bMeson = r.make(521, massive(80, 10, 30, 5.279), 2);
  r.decay({str}, {bMeson});
  auto tauB = r.make(-15, massive(70, 8, 25, constants::mTau), 2);
  auto nuB = r.make(16, bMeson->momentum() - tauB->momentum(), 1);
  r.decay({bMeson}, {tauB, nuB});
  auto piB = r.make(211, massive(50, 5, 20, constants::mPiCharged), 1);
  r.decay({tauB}, {piB, r.make(-16, tauB->momentum() - piB->momentum(), 1)});
  TempDir dir;
  const std::string path = dir.file("b.hepmc3");
  {
    HepMC3::WriterAscii writer(path);
    writer.write_event(r.evt);
    writer.close();
  }
  const auto in = io::readHepMC3(path);
  ASSERT_EQ(in.events.size(), 1u);
  ASSERT_EQ(in.status[0], HepMC3Status::Ok);
  expectNear(in.events[0].visible[0], x.tauPlusVisible);  // the Z's tau+, not the B's
  EXPECT_EQ(in.events[0].recoil.size(), 6u + 3u);         // + pi+, nu_tau, nubar of the B chain
}

TEST(HepMC3Reader, MevUnitsAreConverted) {
  TempDir dir;
  const Sample s = writeSample(dir, "mev.hepmc3", true);
  ASSERT_NE(readText(s.path).find("U MEV MM"), std::string::npos);
  const auto in = io::readHepMC3(s.path);
  EXPECT_TRUE(in.convertedFromMeV);
  checkSample(in, s.expected, 1e-6);
}

TEST(HepMC3Reader, BadInputGivesClearErrorsOrCountedStatus) {
  TempDir dir;
  const Sample s = writeSample(dir, "good.hepmc3");
  const std::string text = readText(s.path);
  auto errorOf = [&](const std::string& name, const std::string& content) {
    writeText(dir.file(name), content);
    try {
      io::readHepMC3(dir.file(name));
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // Unknown momentum unit (HepMC3 itself would silently assume GEV).
  std::string keV = text;
  keV.replace(keV.find("U GEV MM"), 8, "U KEV MM");
  EXPECT_NE(errorOf("kev.hepmc3", keV).find("unknown momentum unit 'KEV'"), std::string::npos);
  std::string inch = text;
  inch.replace(inch.find("U GEV MM"), 8, "U GEV IN");
  EXPECT_NE(errorOf("inch.hepmc3", inch).find("unknown length unit"), std::string::npos);
  // Garbage, empty, HepMC2, a header without events, a missing file.
  EXPECT_NE(errorOf("garbage.hepmc3", "\x89PNG\r\n\x1a\n garbage \x01\x02")
                .find("not a HepMC3 ASCII file"),
            std::string::npos);
  EXPECT_NE(errorOf("empty.hepmc3", "").find("not a HepMC3 ASCII file"), std::string::npos);
  EXPECT_NE(errorOf("v2.hepmc", "HepMC::Version 2.06.09\nHepMC::IO_GenEvent-START_EVENT_LISTING\n")
                .find("HepMC2"),
            std::string::npos);
  EXPECT_NE(errorOf("noevents.hepmc3",
                    "HepMC::Version 3.01.02\nHepMC::Asciiv3-START_EVENT_LISTING\nnot an event\n")
                .find("no events"),
            std::string::npos);
  EXPECT_THROW(io::readHepMC3(dir.file("missing.hepmc3")), InputError);

  // NaN momentum in event 2: that event gets a status, the others are read.
  std::string nan = text;
  const std::size_t e2 = nan.find("\nE 2 ");
  const std::size_t p = nan.find("\nP ", e2);
  // P id mother pid px ...: replace px (the 5th field) by nan.
  std::size_t field = p + 1;
  for (int i = 0; i < 4; ++i) field = nan.find(' ', field) + 1;
  nan.replace(field, nan.find(' ', field) - field, "nan");
  writeText(dir.file("nan.hepmc3"), nan);
  const auto withNan = io::readHepMC3(dir.file("nan.hepmc3"));
  ASSERT_EQ(withNan.events.size(), 5u);
  EXPECT_EQ(withNan.status[1], HepMC3Status::BadMomentum);
  EXPECT_EQ(withNan.status[0], HepMC3Status::Ok);
  EXPECT_EQ(withNan.statusCounts[static_cast<int>(HepMC3Status::BadMomentum)], 1u);
  EXPECT_TRUE(withNan.events[1].recoil.empty());

  // Truncated inside event 5 (plain and gzip): events 1-4 intact, the last one counted as
  // incomplete (never a crash).
  const std::size_t e5 = text.find("\nE 5 ");
  const std::string cut = text.substr(0, e5 + (text.size() - e5) / 2);
  writeText(dir.file("cut.hepmc3"), cut);
  writeGzip(dir.file("cut.hepmc3.gz"), cut);
  for (const char* name : {"cut.hepmc3", "cut.hepmc3.gz"}) {
    const auto in = io::readHepMC3(dir.file(name));
    ASSERT_EQ(in.events.size(), 5u) << name;
    EXPECT_EQ(in.status[0], HepMC3Status::Ok) << name;
    EXPECT_EQ(in.status[4], HepMC3Status::IncompleteEvent) << name;
    EXPECT_EQ(in.statusCounts[static_cast<int>(HepMC3Status::IncompleteEvent)], 1u) << name;
    EXPECT_EQ(in.events[4].weightPb, 0.0) << name;
    EXPECT_NEAR(in.events[0].weightPb, 1500.0 / 6, 1e-9) << name;  // sigma x 1 / (1 + 3 + 1 + 1)
  }
  // A gzip stream cut in the middle of its compressed bytes.
  writeGzip(dir.file("whole.gz"), text);
  const std::string gz = readText(dir.file("whole.gz"));
  writeText(dir.file("cutbytes.hepmc3.gz"), gz.substr(0, gz.size() * 2 / 3));
  const auto partial = io::readHepMC3(dir.file("cutbytes.hepmc3.gz"));
  ASSERT_GE(partial.events.size(), 1u);
  ASSERT_LE(partial.events.size(), 5u);
  EXPECT_EQ(partial.status[0], HepMC3Status::Ok);
  EXPECT_EQ(partial.status.back(), HepMC3Status::IncompleteEvent);
}

// io::HepMC3Reader in parts of k records, concatenated and normalised as readHepMC3 does.
static io::HepMC3Input readInParts(const std::string& path, std::size_t k, std::size_t* parts) {
  io::HepMC3Reader reader(path);
  io::HepMC3Input all;
  *parts = 0;
  for (;;) {
    io::HepMC3Input part = reader.read(k);
    if (part.events.empty()) break;
    ++*parts;
    for (std::size_t i = 0; i < part.events.size(); ++i) {
      all.events.push_back(part.events[i]);
      all.status.push_back(part.status[i]);
      all.eventNumbers.push_back(part.eventNumbers[i]);
    }
  }
  EXPECT_TRUE(reader.atEnd());
  for (auto& e : all.events) e.weightPb = reader.weightPb(e.weightPb);
  all.statusCounts = reader.totals().statusCounts;
  all.sumOfWeights = reader.totals().sumOfWeights;
  all.crossSectionPb = reader.totals().crossSectionPb;
  return all;
}

// Reading in parts (`nurec simulate` streams HepMC3 input) gives what reading whole gives, also
// for damaged files whose lost records add rows.
TEST(HepMC3Reader, ReadingInPartsEqualsReadingWhole) {
  TempDir dir;
  const Sample s = writeSample(dir, "events.hepmc3");
  const std::string text = readText(s.path);
  const std::size_t e5 = text.find("\nE 5 ");
  writeText(dir.file("cut.hepmc3"), text.substr(0, e5 + (text.size() - e5) / 2));
  writeGzip(dir.file("events.hepmc3.gz"), text);
  for (const std::string& path : {s.path, dir.file("cut.hepmc3"), dir.file("events.hepmc3.gz")}) {
    const io::HepMC3Input whole = io::readHepMC3(path);
    for (std::size_t k : {1u, 2u, 5u, 100u}) {
      std::size_t parts = 0;
      const io::HepMC3Input inParts = readInParts(path, k, &parts);
      EXPECT_EQ(parts, (whole.events.size() + k - 1) / k) << path << " k " << k;
      ASSERT_EQ(inParts.events.size(), whole.events.size()) << path << " k " << k;
      EXPECT_EQ(inParts.status, whole.status);
      EXPECT_EQ(inParts.eventNumbers, whole.eventNumbers);
      EXPECT_EQ(inParts.statusCounts, whole.statusCounts);
      EXPECT_EQ(inParts.sumOfWeights, whole.sumOfWeights);
      EXPECT_EQ(inParts.crossSectionPb, whole.crossSectionPb);
      for (std::size_t i = 0; i < whole.events.size(); ++i) {
        EXPECT_EQ(inParts.events[i].weightPb, whole.events[i].weightPb) << path << " row " << i;
        EXPECT_EQ(inParts.events[i].visible[0].px, whole.events[i].visible[0].px);
        EXPECT_EQ(inParts.events[i].recoil.size(), whole.events[i].recoil.size());
      }
    }
  }
  // A damaged end is reported when the reading reaches it, as for a whole read.
  writeText(dir.file("tail.hepmc3"), text + "E 9 x\ngarbage line\n");
  io::HepMC3Reader reader(dir.file("tail.hepmc3"));
  EXPECT_EQ(reader.read(2).events.size(), 2u);
  EXPECT_THROW(
      {
        while (!reader.read(2).events.empty()) {
        }
      },
      InputError);
  EXPECT_THROW(io::readHepMC3(dir.file("tail.hepmc3")), InputError);
}

TEST(HepMC3Reader, DetectorRunsOnReadEvents) {
  TempDir dir;
  const Sample s = writeSample(dir, "events.hepmc3");
  const auto in = io::readHepMC3(s.path);
  io::EventTable table(in.events.size());
  io::putTruth(table, in.events);
  detector::simulateDetector(table, detector::DetectorConfig{}, 1, 1);
  const auto reco = io::getReco(table);
  ASSERT_EQ(reco.size(), 5u);
  // No tau pair: no candidates, but MET is defined.
  EXPECT_EQ(reco[2].channel, Channel::None);
  EXPECT_TRUE(std::isfinite(reco[2].metX));
}

// What full generator records contain besides the tau pair: thousands of final-state particles
// from the underlying event with pi0 -> gamma gamma decays in the recoil, and an FSR photon at the
// boson decay vertex (Photos-like). The taus keep only their own products; every other stable
// particle is recoil, the photons of recoil pi0s included; the detector runs on the result.
TEST(HepMC3Reader, ManyRecoilParticlesPi0PhotonsAndBosonFsr) {
  Expected x;
  Record r = piRhoRecord(x);
  HepMC3::GenParticlePtr zCopy;
  for (const auto& p : r.evt.particles())
    if (p->pid() == 23 && p->status() == 44) zCopy = p;
  ASSERT_TRUE(zCopy && zCopy->end_vertex());
  auto fsr = r.make(22, {3, -2, 10, std::sqrt(9 + 4 + 100.0)}, 1);
  zCopy->end_vertex()->add_particle_out(fsr);
  // Underlying event: 1,500 charged pions and 400 pi0s out of the first beam's vertex (where
  // Pythia's beam remnants hang), each pi0 decayed to two photons.
  auto beamVertex = r.evt.beams()[0]->end_vertex();
  ASSERT_TRUE(beamVertex);
  std::vector<GenParticlePtr> ue;
  int nPi0 = 0;
  for (int i = 0; i < 1900; ++i) {
    const double pt = 0.3 + 0.001 * (i % 900), phi = 0.0031 * i, eta = -4.5 + 9.0 * (i % 97) / 97;
    const HepMC3::FourVector p(pt * std::cos(phi), pt * std::sin(phi), pt * std::sinh(eta),
                               pt * std::cosh(eta) + 0.01);
    ue.push_back(r.make(i < 1500 ? (i % 2 ? 211 : -211) : 111, p, i < 1500 ? 1 : 2));
  }
  for (const auto& p : ue) beamVertex->add_particle_out(p);
  for (const auto& p : ue) {
    if (p->pid() != 111) continue;
    ++nPi0;
    const auto& m = p->momentum();
    auto g1 = r.make(22, {0.5 * m.px(), 0.5 * m.py(), 0.5 * m.pz(), 0.5 * m.e()}, 1);
    auto g2 = r.make(22, {0.5 * m.px(), 0.5 * m.py(), 0.5 * m.pz(), 0.5 * m.e()}, 1);
    r.decay({p}, {g1, g2});
  }
  TempDir dir;
  const std::string path = dir.file("busy.hepmc3.gz");
  {
    std::ostringstream text;
    HepMC3::WriterAscii writer(text);
    writer.write_event(r.evt);
    writer.close();
    writeGzip(path, text.str());
  }
  const auto in = io::readHepMC3(path);
  ASSERT_EQ(in.events.size(), 1u);
  ASSERT_EQ(in.status[0], HepMC3Status::Ok);
  const TruthEvent& ev = in.events[0];
  EXPECT_EQ(ev.decayMode[0], DecayMode::Pi);
  EXPECT_EQ(ev.decayMode[1], DecayMode::Rho);
  expectNear(ev.visible[1], x.tauMinusVisible);
  ASSERT_EQ(ev.tauProducts[1].size(), 2u);  // pi-, pi0 (its photons are not recoil)
  // 6 of the hard process + the boson FSR photon + 1,500 pions + 2 photons per recoil pi0.
  EXPECT_EQ(ev.recoil.size(), 6u + 1u + 1500u + 2u * static_cast<std::size_t>(nPi0));
  int photons = 0;
  bool hasBosonFsr = false;
  for (const auto& p : ev.recoil) {
    photons += p.pdgId == 22 ? 1 : 0;
    hasBosonFsr |= p.pdgId == 22 && std::abs(p.p4.pz - 10) < 1e-9;
  }
  EXPECT_EQ(photons, 2 * nPi0 + 2);  // + the tau-line photon and the boson FSR photon
  EXPECT_TRUE(hasBosonFsr);
  io::EventTable table(1);
  io::putTruth(table, in.events);
  detector::simulateDetector(table, detector::DetectorConfig{}, 1, 1);
  const auto reco = io::getReco(table);
  EXPECT_GT(reco[0].sumEt, 1500 * 0.3);  // the busy underlying event is in the soft term
  EXPECT_TRUE(std::isfinite(reco[0].metX) && std::isfinite(reco[0].metY));
}

// Damage inside a file is a file-level error, never a silently shorter sample: a gzip stream
// damaged at 10, 50 or 90 % of its bytes (found by the reader stopping early, or by the gzip
// checksum), an event line with an absurd particle count, a non-numeric momentum.
// Issue 22.12: random bytes of a damaged file were echoed to the terminal inside the error
// message (escape sequences included); they are quoted as \xNN and cut.
TEST(HepMC3Reader, DamagedBytesAreNotEchoedRaw) {
  TempDir dir;
  std::string junk = "\x1b[31m\x01\xff\xfe";
  for (int i = 0; i < 200; ++i) junk += static_cast<char>((i * 37 + 11) % 256);
  writeText(dir.file("junk.hepmc3"), junk + "\n");
  try {
    io::readHepMC3(dir.file("junk.hepmc3"));
    FAIL() << "junk was read";
  } catch (const InputError& e) {
    const std::string message = e.what();
    for (char c : message)
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "raw byte " << int(static_cast<unsigned char>(c));
    EXPECT_NE(message.find("\\x1b[31m\\x01\\xff\\xfe"), std::string::npos) << message;
    EXPECT_LT(message.size(), 300u) << message;
  }
}

// A fuzzing finding: an attribute name of 64 characters or more overflowed a stack buffer inside
// HepMC3's parser (abort, exit 134). The reader refuses the line before HepMC3 sees it.
TEST(HepMC3Reader, LongAttributeNameIsAnErrorNotAStackSmash) {
  const std::string finding =
      std::string(NUREC_SOURCE_DIR) +
      "/fuzz/findings/hepmc3-ReaderAscii-parse_attribute-stack-smash.hepmc3";
  try {
    io::readHepMC3(finding);
    FAIL() << "read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("attribute name longer than 63 characters"),
              std::string::npos)
        << e.what();
  }
  TempDir dir;
  const std::string text = readText(writeSample(dir, "good.hepmc3").path);
  const std::size_t attribute = text.find("\nA 0 GenCrossSection");
  ASSERT_NE(attribute, std::string::npos);
  std::string longName = text;
  longName.insert(attribute + 6, std::string(100, 'X'));
  writeText(dir.file("long.hepmc3"), longName);
  EXPECT_THROW(io::readHepMC3(dir.file("long.hepmc3")), InputError);
  // The second fuzzing finding: a damaged id ("00000e+00") in front of a long name.
  std::string damagedId = text;
  damagedId.replace(attribute + 3, 1, "00000e+00 " + std::string(100, 'X'));
  writeText(dir.file("id.hepmc3"), damagedId);
  EXPECT_THROW(io::readHepMC3(dir.file("id.hepmc3")), InputError);
  // A third finding: a weight-name, tool or attribute line ending in a single backslash made
  // HepMC3's unescape read past the end of the line; an escaped backslash is fine.
  const std::string start = "HepMC::Asciiv3-START_EVENT_LISTING\n";
  const std::size_t header = text.find(start) + start.size();
  for (const std::string line : {"W Default", "T nurec tool"}) {  // header lines, unescaped
    std::string odd = text, even = text;
    odd.insert(header, line + "\\\n");
    even.insert(header, line + "\\\\\n");
    writeText(dir.file("odd.hepmc3"), odd);
    writeText(dir.file("even.hepmc3"), even);
    try {
      io::readHepMC3(dir.file("odd.hepmc3"));
      ADD_FAILURE() << line << ": read";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("unpaired backslash"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(io::readHepMC3(dir.file("even.hepmc3"))) << line;
  }
  // A fourth finding: a GenCrossSection value without its event counts (2 or 3 fields) made
  // HepMC3 3.1 call strchr on a null pointer; 4 fields (what HepMC3 writes) read fine.
  {
    const std::size_t valueStart = attribute + std::string("\nA 0 GenCrossSection ").size();
    const std::size_t valueEnd = text.find('\n', valueStart);
    for (const std::string value :
         {"1.9e+03 7.4e+00", "1.9e+03 7.4e+00 100", "1.9e+03 7.4e+\x01"}) {
      std::string cut = text;
      cut.replace(valueStart, valueEnd - valueStart, value);
      writeText(dir.file("xs.hepmc3"), cut);
      try {
        io::readHepMC3(dir.file("xs.hepmc3"));
        ADD_FAILURE() << value << ": read";
      } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("GenCrossSection attribute without"),
                  std::string::npos)
            << e.what();
      }
    }
    std::string four = text;
    four.replace(valueStart, valueEnd - valueStart, "1.9e+03 7.4e+00 100 200");
    writeText(dir.file("xs.hepmc3"), four);
    EXPECT_NO_THROW(io::readHepMC3(dir.file("xs.hepmc3")));
  }
  try {
    io::readHepMC3(std::string(NUREC_SOURCE_DIR) +
                   "/fuzz/findings/hepmc3-GenCrossSection-from_string-null-strchr.hepmc3");
    ADD_FAILURE() << "the fuzzing finding was read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("GenCrossSection attribute without"), std::string::npos)
        << e.what();
  }
  // A fifth finding: after damaged "E" lines HepMC3 read an event's A line as a run attribute
  // and copied its long first word (the id) into its 64-byte name buffer.
  {
    std::string longId = text;
    longId.replace(attribute + 3, 1, std::string(100, '0'));
    writeText(dir.file("longid.hepmc3"), longId);
    try {
      io::readHepMC3(dir.file("longid.hepmc3"));
      ADD_FAILURE() << "long attribute id read";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("attribute name longer than 63 characters"),
                std::string::npos)
          << e.what();
    }
    EXPECT_THROW(
        io::readHepMC3(std::string(NUREC_SOURCE_DIR) +
                       "/fuzz/findings/hepmc3-ReaderAscii-parse_run_attribute-long-id.hepmc3"),
        InputError);
  }
  std::string oddAttribute = text;  // an event attribute value
  oddAttribute.insert(oddAttribute.find('\n', attribute + 1), "\\");
  writeText(dir.file("odd.hepmc3"), oddAttribute);
  EXPECT_THROW(io::readHepMC3(dir.file("odd.hepmc3")), InputError);
  // A fifth finding: HepMC3 reads "A3 <long name> value" in the header as a run attribute.
  std::string glued = text;
  glued.insert(header, "A3 " + std::string(100, 'Y') + " value\n");
  writeText(dir.file("glued.hepmc3"), glued);
  EXPECT_THROW(io::readHepMC3(dir.file("glued.hepmc3")), InputError);
  // A fourth finding: NUL bytes inside an attribute line glued it to the next line.
  std::string nul = text;
  nul.replace(attribute + 3, 1, std::string(8, '\0'));
  writeText(dir.file("nul.hepmc3"), nul);
  try {
    io::readHepMC3(dir.file("nul.hepmc3"));
    ADD_FAILURE() << "read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a NUL byte inside the line"), std::string::npos)
        << e.what();
  }
  std::string shortName = text;  // 63 characters still fit HepMC3's buffer
  shortName.insert(attribute + 6, std::string(63 - 15, 'X'));
  writeText(dir.file("short.hepmc3"), shortName);
  EXPECT_NO_THROW(io::readHepMC3(dir.file("short.hepmc3")));
}

TEST(HepMC3Reader, DamagedFilesAreFileLevelErrors) {
  TempDir dir;
  const std::string text = readText(writeSample(dir, "good.hepmc3").path);
  const std::size_t firstEvent = text.find("\nE ") + 1;
  const std::size_t footer = text.find("HepMC::Asciiv3-END_EVENT_LISTING");
  ASSERT_NE(footer, std::string::npos);
  std::string big = text.substr(0, firstEvent);
  for (int copy = 0; copy < 40; ++copy) big += text.substr(firstEvent, footer - firstEvent);
  big += text.substr(footer);
  writeGzip(dir.file("big.hepmc3.gz"), big);
  ASSERT_EQ(io::readHepMC3(dir.file("big.hepmc3.gz")).events.size(), 200u);
  const std::string gz = readText(dir.file("big.hepmc3.gz"));
  auto throwsInputError = [&](const std::string& name, const std::string& content) {
    writeText(dir.file(name), content);
    try {
      io::readHepMC3(dir.file(name));
    } catch (const InputError& e) {
      return std::string(e.what()).find(name) != std::string::npos;
    }
    return false;
  };
  for (const double where : {0.1, 0.5, 0.9}) {
    std::string damaged = gz;
    const auto at = static_cast<std::size_t>(where * static_cast<double>(gz.size()));
    for (std::size_t i = at; i < at + 16; ++i) damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    EXPECT_TRUE(throwsInputError("damaged.hepmc3.gz", damaged)) << "damage at " << where;
  }
  // An event line announcing 99999999 particles (HepMC3 then skipped the rest of the file).
  std::string header = big;
  const std::size_t third = header.find("\nE 3 ");
  header.replace(third + 1, header.find('\n', third + 1) - third - 1, "E 3 6 99999999");
  EXPECT_TRUE(throwsInputError("header.hepmc3", header));
  // A momentum that is not a number (HepMC3's atof made it 0 and the event kept status 0).
  std::string letters = big;
  const std::size_t p = letters.find("\nP ", letters.find("\nE 2 "));
  std::size_t field = p + 1;
  for (int i = 0; i < 4; ++i) field = letters.find(' ', field) + 1;
  letters.replace(field, letters.find(' ', field) - field, "abc");
  EXPECT_TRUE(throwsInputError("letters.hepmc3", letters));
}

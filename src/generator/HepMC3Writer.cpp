#include "nurec/generator/HepMC3Writer.hpp"

#include "nurec/generator/HepMC3Records.hpp"

#include <HepMC3/GenCrossSection.h>
#include <HepMC3/GenEvent.h>
#include <HepMC3/GenParticle.h>
#include <HepMC3/GenRunInfo.h>
#include <HepMC3/GenVertex.h>
#include <HepMC3/WriterAscii.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <streambuf>

#include "nurec/Version.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::generator {

namespace {

// std::streambuf writing through zlib's gzFile.
class GzStreamBuf : public std::streambuf {
 public:
  explicit GzStreamBuf(const std::string& path) : file_(gzopen(path.c_str(), "wb6")) {
    setp(buffer_, buffer_ + sizeof(buffer_));
  }
  ~GzStreamBuf() override { close(); }
  bool ok() const { return file_ != nullptr && !failed_; }
  bool close() {
    if (!file_) return !failed_;
    sync();
    if (gzclose(file_) != Z_OK) failed_ = true;
    file_ = nullptr;
    return !failed_;
  }

 protected:
  int overflow(int ch) override {
    if (flushBuffer() < 0) return traits_type::eof();
    if (ch != traits_type::eof()) {
      *pptr() = static_cast<char>(ch);
      pbump(1);
    }
    return ch == traits_type::eof() ? 0 : ch;
  }
  int sync() override { return flushBuffer() < 0 ? -1 : 0; }

 private:
  int flushBuffer() {
    const int n = static_cast<int>(pptr() - pbase());
    if (n > 0 && file_) {
      if (gzwrite(file_, pbase(), static_cast<unsigned>(n)) != n) {
        failed_ = true;
        return -1;
      }
    }
    pbump(-n);
    return n;
  }
  gzFile file_;
  bool failed_ = false;
  char buffer_[1 << 16];
};

HepMC3::FourVector hv(const FourVector& v) {
  return {v.px, v.py, v.pz, v.e};
}

HepMC3::GenParticlePtr particle(const FourVector& v, int pdgId, int status) {
  return std::make_shared<HepMC3::GenParticle>(hv(v), pdgId, status);
}

void fillEvent(HepMC3::GenEvent& evt, const TruthEvent& ev, double sqrtS) {
  const double eBeam = sqrtS / 2;
  auto beamA = particle({0, 0, eBeam, eBeam}, pdg::proton, 4);
  auto beamB = particle({0, 0, -eBeam, eBeam}, pdg::proton, 4);
  const double pa = ev.partonX[0] * eBeam, pb = ev.partonX[1] * eBeam;
  auto partonA = particle({0, 0, pa, pa}, ev.partonPdg[0], 21);
  auto partonB = particle({0, 0, -pb, pb}, ev.partonPdg[1], 21);
  auto vA = std::make_shared<HepMC3::GenVertex>();
  vA->add_particle_in(beamA);
  vA->add_particle_out(partonA);
  auto vB = std::make_shared<HepMC3::GenVertex>();
  vB->add_particle_in(beamB);
  vB->add_particle_out(partonB);
  auto hard = std::make_shared<HepMC3::GenVertex>();
  hard->add_particle_in(partonA);
  hard->add_particle_in(partonB);
  // The resonance follows from the initial state: g g -> H, q qbar -> Z/gamma*.
  const bool higgs = ev.partonPdg[0] == pdg::gluon && ev.partonPdg[1] == pdg::gluon;
  auto boson = particle(ev.boson, higgs ? pdg::higgs : pdg::Z, 22);
  boson->set_generated_mass(ev.boson.m());
  hard->add_particle_out(boson);
  for (const auto& p : ev.recoil) hard->add_particle_out(particle(p.p4, p.pdgId, 1));
  auto vZ = std::make_shared<HepMC3::GenVertex>();
  vZ->add_particle_in(boson);
  if (ev.hasVertices) {
    const HepMC3::FourVector pv{ev.primaryVertex.x, ev.primaryVertex.y, ev.primaryVertex.z, 0};
    for (const auto& v : {vA, vB, hard, vZ}) v->set_position(pv);
  }
  evt.add_vertex(vA);
  evt.add_vertex(vB);
  evt.add_vertex(hard);
  evt.add_vertex(vZ);
  for (int t = 0; t < 2; ++t) {
    auto tau = particle(ev.tau[t], t == 0 ? -pdg::tau : pdg::tau, 2);  // index 0 = tau+
    tau->set_generated_mass(constants::mTau);
    vZ->add_particle_out(tau);
    auto vTau = std::make_shared<HepMC3::GenVertex>();
    vTau->add_particle_in(tau);
    if (ev.hasVertices) {
      // Position [mm] and c t [mm] of the decay: flight L at velocity |p|/E.
      const Vector3& d = ev.tauDecayVertex[t];
      const double flight = (d - ev.primaryVertex).mag();
      vTau->set_position({d.x, d.y, d.z, flight * ev.tau[t].e / ev.tau[t].p()});
    }
    for (const auto& p : ev.tauProducts[t]) vTau->add_particle_out(particle(p.p4, p.pdgId, 1));
    for (const auto& p : ev.tauNeutrinos[t]) vTau->add_particle_out(particle(p.p4, p.pdgId, 1));
    evt.add_vertex(vTau);
  }
}

}  // namespace

HepMC3::GenParticlePtr hepmc3Particle(const FourVector& v, int pdgId, int status) {
  return particle(v, pdgId, status);
}

struct HepMC3RecordWriter::Impl {
  std::string path, tmp;
  HepMC3RunInfo info;
  std::size_t count = 0, written = 0;
  FileSizeLimitAsError sizeLimit;  // while the writer lives
  std::unique_ptr<GzStreamBuf> gzBuf;
  std::ofstream plain;
  std::unique_ptr<std::ostream> gzStream;
  std::ostream* os = nullptr;
  std::shared_ptr<HepMC3::GenRunInfo> run;
  std::unique_ptr<HepMC3::WriterAscii> writer;
  bool ok = true, committed = false;

  void abandon() noexcept {
    try {
      if (writer) writer->close();
      if (gzBuf) gzBuf->close();
      if (plain.is_open()) plain.close();
    } catch (...) {  // the temporary is removed below whatever happened
    }
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
  }
};

HepMC3RecordWriter::HepMC3RecordWriter(const std::string& path, const HepMC3RunInfo& info,
                                       std::size_t count)
    : impl_(std::make_unique<Impl>()) {
  Impl& w = *impl_;
  w.path = path;
  w.info = info;
  w.count = count;
  // Atomic as every nurec output: <path>.tmp.<pid>, synced and renamed when complete
  // (core/AtomicFile.hpp; temporaries of killed runs are removed first).
  w.tmp = temporaryFileFor(path);
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gz) {
    w.gzBuf = std::make_unique<GzStreamBuf>(w.tmp);
    if (!w.gzBuf->ok()) throw InputError(fmt::format("{}: cannot open for writing", path));
    w.gzStream = std::make_unique<std::ostream>(w.gzBuf.get());
    w.os = w.gzStream.get();
  } else {
    w.plain.open(w.tmp, std::ios::out | std::ios::trunc);
    if (!w.plain) throw InputError(fmt::format("{}: cannot open for writing", path));
    w.os = &w.plain;
  }
  w.run = std::make_shared<HepMC3::GenRunInfo>();
  w.run->set_weight_names({"Default"});
  HepMC3::GenRunInfo::ToolInfo tool;
  tool.name = "nurec";
  tool.version = kVersion;
  tool.description = info.description;
  w.run->tools().push_back(tool);
  w.writer = std::make_unique<HepMC3::WriterAscii>(*w.os, w.run);
}

HepMC3RecordWriter::~HepMC3RecordWriter() {
  if (!impl_->committed) impl_->abandon();
}

void HepMC3RecordWriter::write(const std::function<double(HepMC3::GenEvent&)>& fill) {
  Impl& w = *impl_;
  if (!w.ok) return;  // the error is reported by commit()
  HepMC3::GenEvent evt(w.run, HepMC3::Units::GEV, HepMC3::Units::MM);
  evt.set_event_number(static_cast<int>(w.written++));
  evt.weights() = {fill(evt)};
  auto cs = std::make_shared<HepMC3::GenCrossSection>();
  evt.set_cross_section(cs);
  cs->set_cross_section(w.info.crossSectionPb, w.info.crossSectionErrPb, static_cast<long>(w.count),
                        static_cast<long>(w.count));
  w.writer->write_event(evt);
  if (!*w.os) w.ok = false;  // WriterAscii::failed() looks at its own file only, not at a stream
}

void HepMC3RecordWriter::commit() {
  Impl& w = *impl_;
  w.writer->close();
  w.os->flush();
  bool ok = w.ok && static_cast<bool>(*w.os);
  if (w.gzBuf) {
    ok = w.gzBuf->close() && ok;
  } else {
    // WriterAscii::close() already closes a std::ofstream it was given.
    ok = ok && !w.plain.fail();
    if (w.plain.is_open()) {
      w.plain.close();
      ok = ok && !w.plain.fail();
    }
  }
  if (!ok) {
    std::error_code ec;
    std::filesystem::remove(w.tmp, ec);
    w.committed = true;  // nothing left to abandon
    throw InputError(fmt::format("{}: writing the HepMC3 file failed (disk full?)", w.path));
  }
  commitTemporaryFile(w.tmp, w.path);
  w.committed = true;
}

void writeHepMC3Records(const std::string& path, std::size_t count, const HepMC3RunInfo& info,
                        const std::function<double(HepMC3::GenEvent&, std::size_t)>& fill) {
  HepMC3RecordWriter writer(path, info, count);
  for (std::size_t i = 0; i < count; ++i)
    writer.write([&](HepMC3::GenEvent& evt) { return fill(evt, i); });
  writer.commit();
}

namespace {
HepMC3RunInfo zTauTauRunInfo(double crossSectionPb, double crossSectionErrPb) {
  return {crossSectionPb, crossSectionErrPb,
          "embedded pp -> Z/gamma* -> tau tau generator (LO, CTEQ5L, exact spin correlations)"};
}
}  // namespace

void writeHepMC3(const std::string& path, const std::vector<TruthEvent>& events, double sqrtS,
                 double crossSectionPb, double crossSectionErrPb) {
  ZTauTauHepMC3Output out(path, events.size(), sqrtS, crossSectionPb, crossSectionErrPb);
  for (const auto& ev : events) out.append(ev);
  out.commit();
}

ZTauTauHepMC3Output::ZTauTauHepMC3Output(const std::string& path, std::size_t count, double sqrtS,
                                         double crossSectionPb, double crossSectionErrPb)
    : writer_(std::make_unique<HepMC3RecordWriter>(
          path, zTauTauRunInfo(crossSectionPb, crossSectionErrPb), count)),
      sqrtS_(sqrtS) {}

ZTauTauHepMC3Output::~ZTauTauHepMC3Output() = default;

void ZTauTauHepMC3Output::append(const TruthEvent& event) {
  writer_->write([&](HepMC3::GenEvent& evt) {
    fillEvent(evt, event, sqrtS_);
    return event.weightPb;
  });
}

void ZTauTauHepMC3Output::commit() {
  writer_->commit();
}

}  // namespace nurec::generator

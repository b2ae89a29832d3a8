#include "nurec/generator/ttbar/TTbarHepMC3.hpp"

#include <HepMC3/GenVertex.h>

#include <cmath>

#include "nurec/core/Units.hpp"
#include "nurec/generator/HepMC3Records.hpp"

namespace nurec::generator::ttbar {

namespace {

using HepMC3::GenVertex;

void fillEvent(HepMC3::GenEvent& evt, const TTbarEvent& ev, double sqrtS) {
  const auto& p = ev.partons;
  auto at = [&](Parton which) { return p[static_cast<int>(which)]; };
  const double eBeam = sqrtS / 2;
  auto beamA = hepmc3Particle({0, 0, eBeam, eBeam}, pdg::proton, 4);
  auto beamB = hepmc3Particle({0, 0, -eBeam, eBeam}, pdg::proton, 4);
  const double pa = ev.x1 * eBeam, pb = ev.x2 * eBeam;
  auto partonA = hepmc3Particle({0, 0, pa, pa}, ev.incomingPdgA, 21);
  auto partonB = hepmc3Particle({0, 0, -pb, pb}, ev.incomingPdgB, 21);
  auto vA = std::make_shared<GenVertex>(), vB = std::make_shared<GenVertex>();
  vA->add_particle_in(beamA);
  vA->add_particle_out(partonA);
  vB->add_particle_in(beamB);
  vB->add_particle_out(partonB);
  auto hard = std::make_shared<GenVertex>();
  hard->add_particle_in(partonA);
  hard->add_particle_in(partonB);
  auto top = hepmc3Particle(at(Parton::top), pdg::t, 22);
  auto antitop = hepmc3Particle(at(Parton::antitop), -pdg::t, 22);
  hard->add_particle_out(top);
  hard->add_particle_out(antitop);
  // Initial-state emissions: massless gluons at (px, py, y).
  for (const auto& e : ev.isr.emissions) {
    const double pt = std::hypot(e.px, e.py);
    hard->add_particle_out(
        hepmc3Particle({e.px, e.py, pt * std::sinh(e.y), pt * std::cosh(e.y)}, pdg::gluon, 1));
  }
  for (auto v : {vA, vB, hard}) evt.add_vertex(v);

  // l+ comes from the top: W+ -> l+ nu, W- -> q qbar'; l- from the antitop the other way round.
  const int leptonAbs = std::abs(ev.leptonPdg);
  const int neutrinoPdg = ev.leptonPdg < 0 ? leptonAbs + 1 : -(leptonAbs + 1);
  struct Decay {
    HepMC3::GenParticlePtr mother;
    Parton w, b;
    int wPdg, bPdg;
  };
  for (const Decay& d : {Decay{top, Parton::wPlus, Parton::b, pdg::W, pdg::b},
                         Decay{antitop, Parton::wMinus, Parton::bbar, -pdg::W, -pdg::b}}) {
    d.mother->set_generated_mass(d.mother->momentum().m());
    auto vTop = std::make_shared<GenVertex>();
    vTop->add_particle_in(d.mother);
    auto w = hepmc3Particle(at(d.w), d.wPdg, 22);
    w->set_generated_mass(at(d.w).m());
    vTop->add_particle_out(w);
    vTop->add_particle_out(hepmc3Particle(at(d.b), d.bPdg, 1));
    evt.add_vertex(vTop);
    auto vW = std::make_shared<GenVertex>();
    vW->add_particle_in(w);
    const bool leptonic = (d.wPdg > 0) == ev.leptonicTop;
    if (leptonic) {
      vW->add_particle_out(hepmc3Particle(at(Parton::lepton), ev.leptonPdg, 1));
      vW->add_particle_out(hepmc3Particle(at(Parton::neutrino), neutrinoPdg, 1));
    } else {
      vW->add_particle_out(hepmc3Particle(at(Parton::quark), ev.quarkPdg, 1));
      vW->add_particle_out(hepmc3Particle(at(Parton::antiquark), ev.antiquarkPdg, 1));
    }
    evt.add_vertex(vW);
  }
}

}  // namespace

void writeTTbarHepMC3(const std::string& path, const std::vector<TTbarEvent>& events,
                      const std::vector<double>& weightsPb, double sqrtS, double crossSectionPb,
                      double crossSectionErrPb) {
  TTbarHepMC3Output out(path, events.size(), sqrtS, crossSectionPb, crossSectionErrPb);
  for (std::size_t i = 0; i < events.size(); ++i) out.append(events[i], weightsPb[i]);
  out.commit();
}

TTbarHepMC3Output::TTbarHepMC3Output(const std::string& path, std::size_t count, double sqrtS,
                                     double crossSectionPb, double crossSectionErrPb)
    : writer_(std::make_unique<HepMC3RecordWriter>(
          path,
          HepMC3RunInfo{crossSectionPb, crossSectionErrPb,
                        "embedded pp -> t tbar -> semileptonic generator (LO, CTEQ5L, LO spin "
                        "correlations), parton level"},
          count)),
      sqrtS_(sqrtS) {}

TTbarHepMC3Output::~TTbarHepMC3Output() = default;

void TTbarHepMC3Output::append(const TTbarEvent& event, double weightPb) {
  writer_->write([&](HepMC3::GenEvent& evt) {
    fillEvent(evt, event, sqrtS_);
    return weightPb;
  });
}

void TTbarHepMC3Output::commit() {
  writer_->commit();
}

}  // namespace nurec::generator::ttbar

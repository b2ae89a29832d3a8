#pragma once
// The HepMC3 ASCII writing shared by the generators (HepMC3Writer.hpp has the Z -> tau tau record,
// generator/ttbar/TTbarHepMC3.hpp the t tbar one): gzip when the name ends in .gz, a temporary
// name renamed when complete, one "Default" weight in pb and the GenCrossSection per event, units
// GeV and mm. This header exposes HepMC3 types; the generators' own headers do not.
#include <HepMC3/GenEvent.h>
#include <HepMC3/GenParticle.h>

#include <functional>
#include <string>

#include "nurec/core/FourVector.hpp"

namespace nurec::generator {

struct HepMC3RunInfo {
  double crossSectionPb = 0, crossSectionErrPb = 0;
  std::string description;  // the generator, in the run info's tool entry
};

// Writes `count` events; fill(event, i) builds event i and returns its weight in pb. Throws
// nurec::InputError when the file cannot be written (nothing is left under `path` then).
void writeHepMC3Records(const std::string& path, std::size_t count, const HepMC3RunInfo& info,
                        const std::function<double(HepMC3::GenEvent&, std::size_t)>& fill);

HepMC3::GenParticlePtr hepmc3Particle(const FourVector& v, int pdgId, int status);

}  // namespace nurec::generator

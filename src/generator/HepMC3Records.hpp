#pragma once
// The HepMC3 ASCII writing shared by the generators (HepMC3Writer.hpp has the Z -> tau tau record,
// generator/ttbar/TTbarHepMC3.hpp the t tbar one): gzip when the name ends in .gz, a temporary
// name renamed when complete, one "Default" weight in pb and the GenCrossSection per event, units
// GeV and mm. This header exposes HepMC3 types; the generators' own headers do not.
#include <HepMC3/GenEvent.h>
#include <HepMC3/GenParticle.h>

#include <functional>
#include <memory>
#include <string>

#include "nurec/core/FourVector.hpp"

namespace nurec::generator {

struct HepMC3RunInfo {
  double crossSectionPb = 0, crossSectionErrPb = 0;
  std::string description;  // the generator, in the run info's tool entry
};

// Writes records one at a time, for generation in chunks: write() in event order (fill builds the
// event and returns its weight in pb), then commit(). `count` is the run's number of events (the
// GenCrossSection's attempted/accepted counts). Without commit() the temporary is removed. Throws
// nurec::InputError when the file cannot be written (nothing is left under `path` then).
class HepMC3RecordWriter {
 public:
  HepMC3RecordWriter(const std::string& path, const HepMC3RunInfo& info, std::size_t count);
  ~HepMC3RecordWriter();
  HepMC3RecordWriter(const HepMC3RecordWriter&) = delete;
  HepMC3RecordWriter& operator=(const HepMC3RecordWriter&) = delete;
  void write(const std::function<double(HepMC3::GenEvent&)>& fill);
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes `count` events in one go; fill(event, i) builds event i and returns its weight in pb.
void writeHepMC3Records(const std::string& path, std::size_t count, const HepMC3RunInfo& info,
                        const std::function<double(HepMC3::GenEvent&, std::size_t)>& fill);

HepMC3::GenParticlePtr hepmc3Particle(const FourVector& v, int pdgId, int status);

}  // namespace nurec::generator

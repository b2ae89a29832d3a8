#pragma once
// HepMC3 ASCII output of generator events (gzip-compressed when the name ends in .gz), written to
// a temporary name and renamed when complete. Record per event (status codes in brackets):
//   beam protons [4] -> incoming partons [21] -> hard vertex -> Z/gamma* [22] + recoil particles
//   [1] Z (or H = 25 for a g g initial state) -> tau+ tau- [2];  tau -> visible products (pi+-,
//   pi0 = 111, e, mu) [1] + neutrinos [1]
// Units GeV and mm; one weight ("Default", pb per event) and the GenCrossSection.
// The partons carry x1,2 sqrt(s)/2 along the beams (LO kinematics of the hard process); the
// pair's transverse momentum is balanced by the recoil particles, so four-momentum is conserved
// exactly in the transverse plane but not at the hard vertex. Vertex positions are not set.
#include <memory>
#include <string>
#include <vector>

#include "nurec/core/Event.hpp"

namespace nurec::generator {

// Throws nurec::InputError when the file cannot be written.
void writeHepMC3(const std::string& path, const std::vector<TruthEvent>& events, double sqrtS,
                 double crossSectionPb = 0, double crossSectionErrPb = 0);

class HepMC3RecordWriter;
// The same record by record, for generation in chunks (memory bounded by a chunk): append() the
// run's `count` events in order, with their final weights, then commit(). The file is identical
// to writeHepMC3's for the same events.
class ZTauTauHepMC3Output {
 public:
  ZTauTauHepMC3Output(const std::string& path, std::size_t count, double sqrtS,
                      double crossSectionPb, double crossSectionErrPb);
  ~ZTauTauHepMC3Output();
  void append(const TruthEvent& event);
  void commit();

 private:
  std::unique_ptr<HepMC3RecordWriter> writer_;
  double sqrtS_;
};

}  // namespace nurec::generator

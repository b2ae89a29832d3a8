#pragma once
// HepMC3 ASCII output of t tbar events (docs/ttbar.md "HepMC3 output"): a parton-level record,
//   beam protons [4] -> incoming partons [21] -> hard vertex -> t, tbar [22] + initial-state
//   gluons [1];  t -> W+ [22] b [1];  tbar -> W- [22] bbar [1];  W -> l nu [1] or q qbar' [1]
// with the Breit-Wigner masses as generated masses. Quarks and gluons are final (status 1): no
// shower and no hadronisation, as in a Les Houches event file. Units GeV and mm; weights in pb.
#include <memory>
#include <string>
#include <vector>

#include "nurec/generator/ttbar/TTbarGenerator.hpp"

namespace nurec::generator {
class HepMC3RecordWriter;
}

namespace nurec::generator::ttbar {

// Throws nurec::InputError when the file cannot be written.
void writeTTbarHepMC3(const std::string& path, const std::vector<TTbarEvent>& events,
                      const std::vector<double>& weightsPb, double sqrtS, double crossSectionPb,
                      double crossSectionErrPb);

// The same record by record, for generation in chunks: append() the run's `count` events in
// order with their final weights, then commit(); the file is identical to writeTTbarHepMC3's.
class TTbarHepMC3Output {
 public:
  TTbarHepMC3Output(const std::string& path, std::size_t count, double sqrtS, double crossSectionPb,
                    double crossSectionErrPb);
  ~TTbarHepMC3Output();
  void append(const TTbarEvent& event, double weightPb);
  void commit();

 private:
  std::unique_ptr<HepMC3RecordWriter> writer_;
  double sqrtS_;
};

}  // namespace nurec::generator::ttbar

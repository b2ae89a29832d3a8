#pragma once
// Reading HepMC3 ASCII event records (Pythia 8, MadGraph+Pythia, Herwig), plain or gzip-compressed,
// into nurec truth events (docs/detector.md "HepMC3 input").
//
// Per event: the two decaying taus (the last copy of each tau line, i.e. the one whose decay has no
// tau among its products), their visible decay products (following intermediate resonances such as
// rho, a1, W and hadron decays down to the final state, except that a pi0 is kept as one pi0),
// their neutrinos, the decay mode (0 pi, 1 rho, 2 e, 3 mu, 4 other), and as recoil every
// final-state particle that does not descend from the two taus.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nurec/core/Event.hpp"

namespace nurec::io {

// Per-event status of a HepMC3 record (stored as /truth/input_status by `nurec simulate`).
enum class HepMC3Status : std::int8_t {
  Ok = 0,
  NoTauPair = 1,        // not exactly one decaying tau+ and one tau- found
  UndecayedTau = 2,     // a tau of the pair has no decay vertex (status 1)
  BadMomentum = 3,      // NaN or infinite momentum somewhere in the record
  BadTauDecay = 4,      // a tau decay without a tau neutrino or with more than 2 neutrinos
  IncompleteEvent = 5,  // fewer particles/vertices than the event header announces
};
inline constexpr int kNumHepMC3Status = 6;
const char* hepmc3StatusName(HepMC3Status s);

struct HepMC3Input {
  std::vector<TruthEvent> events;    // one per record, truth zeroed when status != Ok
  std::vector<HepMC3Status> status;  // per record
  std::vector<std::int64_t> eventNumbers;
  double sqrtSGeV = 0;        // from the beam particles of the first record (0 if none)
  double crossSectionPb = 0;  // last GenCrossSection in the file (0 if none)
  double crossSectionErrorPb = 0;
  bool hasCrossSection = false;
  double sumOfWeights = 0;        // sum of the generator's nominal event weights
  bool convertedFromMeV = false;  // momentum unit MEV was converted to GeV
  // Counts per status (index = status value).
  std::vector<std::size_t> statusCounts = std::vector<std::size_t>(kNumHepMC3Status, 0);
};

// Reads every event of an ASCII HepMC3 file (gzip is detected from the content). Event weights:
// weightPb = sigma_pb * w_i / sum_j w_j when the file carries a cross section, so that sum(weight)
// x luminosity is a yield; otherwise the nominal generator weight w_i is stored unchanged.
// Throws InputError naming the file on a missing/unreadable file, something that is not HepMC3,
// an unknown momentum or length unit, or a record that ends inside an event (truncated file);
// per-event problems (no tau pair, NaN momenta) are a status instead, and counted.
// maxEvents = 0 reads all; showProgress draws a progress bar (by bytes read) on stderr.
HepMC3Input readHepMC3(const std::string& path, std::size_t maxEvents = 0,
                       bool showProgress = false);

// The same reading in parts, so that memory is bounded by a part, not by the file (`nurec
// simulate` streams HepMC3 input this way; docs/data-format.md "Reading and writing in chunks").
// The weights of a part are the generator's nominal ones: the normalisation needs the sum over
// the whole file, so weightPb() converts them once read() has returned an empty part.
class HepMC3Reader {
 public:
  // Opens the file and checks its header (the errors of readHepMC3).
  explicit HepMC3Reader(const std::string& path, bool showProgress = false);
  ~HepMC3Reader();
  HepMC3Reader(const HepMC3Reader&) = delete;
  HepMC3Reader& operator=(const HepMC3Reader&) = delete;

  // The next maxRecords records or those left (a record lost to damage adds a row with status
  // IncompleteEvent, so a part may hold a few more); TruthEvent::weightPb holds the nominal
  // weight w_i, the file-level fields the totals so far. When the file ends, the rest of it is
  // checked (readHepMC3's errors); an empty part means the end.
  HepMC3Input read(std::size_t maxRecords);
  bool atEnd() const;
  // File-level fields of every record read so far (events, status, eventNumbers empty).
  const HepMC3Input& totals() const;
  // pb per event for a nominal weight, with the totals so far: sigma_pb * w / sum_j w_j, or w
  // when the file has no cross section. Final once atEnd().
  double weightPb(double nominalWeight) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Three times the electric charge of a particle from its PDG id (leptons, quarks, bosons, mesons,
// baryons and nuclei by the PDG numbering scheme); 0 for unknown ids.
int pdgThreeCharge(int pdgId);

}  // namespace nurec::io

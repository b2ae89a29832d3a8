#pragma once
// Constructed Z -> tau tau events for the reco tests and benchmarks (not a physics generator:
// no spin correlations, no PDFs, flat decay phase space). They carry both the truth and a
// reconstructed view with optional Gaussian MET and visible-energy noise, so that the classical
// methods can be checked against known neutrinos before and independently of src/generator.
#include <cstdint>
#include <vector>

#include "nurec/core/Event.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/io/EventTable.hpp"

namespace nurec::reco {

struct ConstructedEventsConfig {
  double bosonMassGeV = constants::mZ;
  double bosonWidthGeV = 0;     // Breit-Wigner width; 0 = fixed mass
  double bosonMeanPtGeV = 15;   // exponential boson pT spectrum; 0 = no recoil (back to back)
  double bosonMaxRapidity = 2;  // uniform in [-y, y]
  // Collinear decays: massless taus splitting into a massless visible part x p_tau and a massless
  // neutrino (1 - x) p_tau with x uniform in (0.05, 1): the collinear approximation is exact.
  bool collinearDecays = false;
  // -1: the seven analysis channels with their pair fractions (docs/physics.md section 1);
  // -2: every decay mode of each tau with the PDG branching fractions (truth samples for tables);
  // 0..6: that channel only.
  int channel = -1;
  double metNoiseGeV = 0;        // Gaussian noise per MET component
  double sumEtGeV = 0;           // stored as /reco/sum_et
  double visibleResolution = 0;  // relative Gaussian smearing of visible four-momenta
  double minVisiblePtGeV = 0;    // regenerate until both visible pT exceed this
};

struct ConstructedEvent {
  TruthEvent truth;
  RecoEvent reco;
};

// Event i draws from Rng(seed, i, streams::reco), so any subset can be regenerated.
std::vector<ConstructedEvent> constructEvents(const ConstructedEventsConfig& config, std::size_t n,
                                              std::uint64_t seed);
// A table with /truth and /reco filled from the events.
io::EventTable constructedTable(const std::vector<ConstructedEvent>& events);

}  // namespace nurec::reco

#pragma once
// Space positions of the generated event (docs/physics.md section 13, docs/data-format.md): the
// primary vertex inside the beam spot and each tau's decay vertex at an exponential flight
// distance along its momentum. Drawn from their own per-event stream (streams::vertex) so that
// switching them on or off leaves every other generated quantity bit-identical.
#include "nurec/core/Event.hpp"
#include "nurec/core/Random.hpp"

namespace nurec::generator {

struct BeamSpotConfig {
  bool enabled = true;
  // Gaussian luminous region centred at the origin [mm]: typical LHC Run-2 sizes (docs/physics.md
  // section 13): about 12 um transverse, 40 mm along the beam.
  double sigmaTransverseMm = 0.012;
  double sigmaLongitudinalMm = 40.0;
  void validate() const;  // throws ConfigError on negative or non-finite widths
};

// Fills ev.primaryVertex and ev.tauDecayVertex (and sets ev.hasVertices) from ev.tau. The tau
// flies L = (|p|/m_tau) c tau_tau E, E ~ Exp(1), along p, from the primary vertex.
void sampleVertices(const BeamSpotConfig& config, TruthEvent& ev, Rng& rng);

}  // namespace nurec::generator

#include "nurec/generator/Vertices.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Units.hpp"

namespace nurec::generator {

void BeamSpotConfig::validate() const {
  require(std::isfinite(sigmaTransverseMm) && sigmaTransverseMm >= 0 &&
              std::isfinite(sigmaLongitudinalMm) && sigmaLongitudinalMm >= 0,
          fmt::format("generator: beam-spot widths must be finite and >= 0 mm (got {}, {})",
                      sigmaTransverseMm, sigmaLongitudinalMm));
}

void sampleVertices(const BeamSpotConfig& config, TruthEvent& ev, Rng& rng) {
  if (!config.enabled) return;
  ev.primaryVertex = {config.sigmaTransverseMm * rng.normal(),
                      config.sigmaTransverseMm * rng.normal(),
                      config.sigmaLongitudinalMm * rng.normal()};
  for (int t = 0; t < 2; ++t) {
    // gamma beta c tau = (|p| / m) c tau.
    const double meanFlightMm = ev.tau[t].p() / constants::mTau * constants::cTauTau;
    const double flightMm = -meanFlightMm * std::log(rng.uniformPositive());
    ev.tauDecayVertex[t] = ev.primaryVertex + ev.tau[t].vec().unit() * flightMm;
  }
  ev.hasVertices = true;
}

}  // namespace nurec::generator

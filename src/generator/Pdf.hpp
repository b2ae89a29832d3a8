#pragma once
// LO proton parton distributions: CTEQ5L in its closed-form parametrisation (docs/physics.md
// section 4; H.L. Lai et al., Eur. Phys. J. C12 (2000) 375, code by J. Pumplin, as in Pythia's
// built-in set).
#include <array>

namespace nurec::generator {

// x f(x, Q) for the flavours the Drell-Yan process needs. Index by PDG id |1..5| for quarks.
struct PartonDensities {
  double d = 0, u = 0, s = 0, c = 0, b = 0;                 // x f for quarks
  double dbar = 0, ubar = 0, sbar = 0, cbar = 0, bbar = 0;  // x f for antiquarks
  double g = 0;
  // x f of the quark (pdg > 0) or antiquark (pdg < 0) with |pdg| in 1..5; 21 = gluon.
  double xf(int pdg) const;
};

class Cteq5L {
 public:
  // Valid for 1e-6 < x < 1, 1.1 < Q < 1e4 GeV; x is clamped to [1e-6, 1 - 1e-10] and Q to [1, 1e4].
  PartonDensities operator()(double x, double qGeV) const;
};

}  // namespace nurec::generator

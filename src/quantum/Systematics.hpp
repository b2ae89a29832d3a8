#pragma once
// Hooks for reconstruction systematics of the spin measurement: MET-varied copies of an
// event file, to be re-reconstructed with `nurec reconstruct`, and merging of the re-reconstructed
// neutrinos back as /nu/<method>_<tag> variations, which measureSpin picks up automatically.
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"

namespace nurec::quantum {

struct MetVariation {
  std::string tag;      // "met_shift_up", ...
  double shiftGeV = 0;  // added to |MET| along its direction (|MET| kept >= 0)
  double scale = 1;     // multiplies MET
};
// The four standard variations: |MET| +- 1 GeV, MET x (1 +- 0.03).
std::vector<MetVariation> standardMetVariations();
// A copy of the table with /reco/met varied; /nu/* removed (to be reconstructed again).
io::EventTable applyMetVariation(const io::EventTable& table, const MetVariation& v);
// Copies /nu/<method>/p4 and status of `varied` into `nominal` as /nu/<method>_<tag>/...; the files
// must hold the same events (same number of rows and the same /reco/tau_p4), else InputError.
void mergeVariation(io::EventTable& nominal, const io::EventTable& varied,
                    const std::string& method, const std::string& tag);

}  // namespace nurec::quantum

#include "nurec/quantum/Systematics.hpp"

#include <fmt/format.h>

#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::quantum {

std::vector<MetVariation> standardMetVariations() {
  return {{"met_shift_up", +1.0, 1.0},
          {"met_shift_down", -1.0, 1.0},
          {"met_scale_up", 0.0, 1.03},
          {"met_scale_down", 0.0, 0.97}};
}

io::EventTable applyMetVariation(const io::EventTable& table, const MetVariation& v) {
  if (!table.has(io::ds::recoMet))
    throw InputError(fmt::format("{}: no dataset {} to vary", table.source(), io::ds::recoMet));
  io::EventTable out = table;
  out.eraseGroup("/nu/");
  auto met = table.get<double>(io::ds::recoMet, {2});
  for (std::size_t i = 0; i + 1 < met.size(); i += 2) {
    const double mag = std::hypot(met[i], met[i + 1]);
    const double newMag = std::max(0.0, mag * v.scale + v.shiftGeV);
    if (mag > 0) {
      met[i] *= newMag / mag;
      met[i + 1] *= newMag / mag;
    }
  }
  out.set(io::ds::recoMet, {2}, std::move(met));
  out.setAttribute("met_variation", v.tag);
  return out;
}

void mergeVariation(io::EventTable& nominal, const io::EventTable& varied,
                    const std::string& method, const std::string& tag) {
  if (varied.nEvents() != nominal.nEvents())
    throw InputError(fmt::format("variation {}: {} has {} events, {} has {}", tag, varied.source(),
                                 varied.nEvents(), nominal.source(), nominal.nEvents()));
  if (nominal.has(io::ds::recoTauP4) && varied.has(io::ds::recoTauP4) &&
      nominal.get<double>(io::ds::recoTauP4, {2, 4}) !=
          varied.get<double>(io::ds::recoTauP4, {2, 4}))
    throw InputError(
        fmt::format("variation {}: {} does not hold the same events as {} (different {})", tag,
                    varied.source(), nominal.source(), io::ds::recoTauP4));
  const io::NuEstimate nu = io::getNu(varied, method);
  io::putNu(nominal, method + "_" + tag, nu);
}

}  // namespace nurec::quantum

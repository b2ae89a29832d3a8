// Calibrated per-event m_tautau intervals (docs/ml.md "Calibrated mass intervals").
#include "nurec/eval/MassIntervals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "nurec/core/Error.hpp"
#include "nurec/core/Statistics.hpp"

namespace nurec::eval {

namespace {

using nlohmann::json;

// The bin of an event's median mass; under- and overflow go to the edge bins.
std::size_t binOf(double medianGeV, const std::vector<double>& edges) {
  const auto it = std::upper_bound(edges.begin(), edges.end(), medianGeV);
  const auto i = static_cast<std::ptrdiff_t>(it - edges.begin()) - 1;
  return static_cast<std::size_t>(
      std::clamp<std::ptrdiff_t>(i, 0, static_cast<std::ptrdiff_t>(edges.size()) - 2));
}

bool usable(const std::array<double, 3>& q) {
  return std::isfinite(q[0]) && std::isfinite(q[1]) && std::isfinite(q[2]) && q[0] <= q[1] &&
         q[1] <= q[2];
}

// Distance of the truth from the median in units of the half-width on the truth's side (a
// zero half-width covers only the median itself).
double scaledDistance(const std::array<double, 3>& q, double truth) {
  const double halfWidth = truth < q[1] ? q[1] - q[0] : q[2] - q[1];
  const double distance = std::abs(truth - q[1]);
  if (distance == 0) return 0;
  return halfWidth > 0 ? distance / halfWidth : std::numeric_limits<double>::infinity();
}

}  // namespace

void MassIntervalFitConfig::validate() const {
  require(medianMassEdgesGeV.size() >= 2,
          "mass intervals: at least two bin edges of the median mass are needed");
  for (std::size_t i = 0; i < medianMassEdgesGeV.size(); ++i) {
    require(std::isfinite(medianMassEdgesGeV[i]) && medianMassEdgesGeV[i] >= 0,
            "mass intervals: bin edges must be finite and >= 0 GeV");
    if (i > 0)
      require(medianMassEdgesGeV[i] > medianMassEdgesGeV[i - 1],
              "mass intervals: bin edges must increase");
  }
  require(targetCoverage > 0 && targetCoverage < 1,
          "mass intervals: the target coverage must lie in (0, 1)");
  require(minEventsPerBin >= 1, "mass intervals: at least one event per bin is needed");
}

std::array<double, 2> MassIntervalCalibration::interval(const std::array<double, 3>& q) const {
  const double s = scale[binOf(q[1], medianMassEdgesGeV)];
  return {q[1] - s * (q[1] - q[0]), q[1] + s * (q[2] - q[1])};
}

MassIntervalCalibration fitMassIntervals(const std::vector<std::array<double, 3>>& quantiles,
                                         const std::vector<double>& trueMassGeV,
                                         const MassIntervalFitConfig& config,
                                         const std::string& source) {
  config.validate();
  if (quantiles.size() != trueMassGeV.size())
    throw InputError("mass intervals: quantiles and true masses differ in length");
  const auto& edges = config.medianMassEdgesGeV;
  const std::size_t nBins = edges.size() - 1;
  std::vector<std::vector<double>> distances(nBins);
  for (std::size_t i = 0; i < quantiles.size(); ++i) {
    if (!usable(quantiles[i]) || !std::isfinite(trueMassGeV[i])) continue;
    distances[binOf(quantiles[i][1], edges)].push_back(
        scaledDistance(quantiles[i], trueMassGeV[i]));
  }
  MassIntervalCalibration out;
  out.medianMassEdgesGeV = edges;
  out.targetCoverage = config.targetCoverage;
  out.source = source;
  for (std::size_t b = 0; b < nBins; ++b) {
    auto& d = distances[b];
    if (d.size() < config.minEventsPerBin)
      throw InputError(fmt::format(
          "mass intervals: {} calibration events with a median m_tautau in [{:g}, {:g}) GeV, at "
          "least {} needed (use a larger sample or wider bins, --edges)",
          d.size(), edges[b], edges[b + 1], config.minEventsPerBin));
    std::sort(d.begin(), d.end());
    const auto inside = std::count_if(d.begin(), d.end(), [](double r) { return r <= 1; });
    out.events.push_back(d.size());
    out.rawCoverage.push_back(static_cast<double>(inside) / static_cast<double>(d.size()));
    const double s = quantileSorted(d, config.targetCoverage);
    if (!std::isfinite(s))
      throw InputError(fmt::format(
          "mass intervals: in [{:g}, {:g}) GeV more than {:g} % of the events have intervals of "
          "zero width that miss the truth (too few candidates?)",
          edges[b], edges[b + 1], 100 * (1 - config.targetCoverage)));
    out.scale.push_back(s);
  }
  return out;
}

std::string MassIntervalCalibration::toJson() const {
  json j;
  j["format"] = kFormat;
  j["format_version"] = kFormatVersion;
  j["source"] = source;
  j["target_coverage"] = targetCoverage;
  j["median_mass_edges_gev"] = medianMassEdgesGeV;
  j["scale"] = scale;
  j["events"] = events;
  j["raw_coverage"] = rawCoverage;
  return j.dump(2) + "\n";
}

MassIntervalCalibration MassIntervalCalibration::fromJson(const std::string& text,
                                                          const std::string& what) {
  MassIntervalCalibration c;
  try {
    const json j = json::parse(text);
    if (j.value("format", std::string()) != kFormat)
      throw InputError(what + ": not a mass-interval calibration (format is not '" +
                       std::string(kFormat) + "')");
    if (j.value("format_version", -1) != kFormatVersion)
      throw InputError(fmt::format("{}: format_version {} is not supported (expected {})", what,
                                   j.value("format_version", -1), kFormatVersion));
    c.medianMassEdgesGeV = j.at("median_mass_edges_gev").get<std::vector<double>>();
    c.scale = j.at("scale").get<std::vector<double>>();
    c.events = j.at("events").get<std::vector<std::size_t>>();
    c.rawCoverage = j.at("raw_coverage").get<std::vector<double>>();
    c.targetCoverage = j.at("target_coverage").get<double>();
    c.source = j.value("source", std::string());
  } catch (const json::exception& e) {
    throw InputError(what + ": damaged mass-interval calibration (" + e.what() + ")");
  }
  MassIntervalFitConfig check;
  check.medianMassEdgesGeV = c.medianMassEdgesGeV;
  check.targetCoverage = c.targetCoverage;
  try {
    check.validate();
  } catch (const ConfigError& e) {
    throw InputError(what + ": " + e.what());
  }
  const std::size_t nBins = c.medianMassEdgesGeV.size() - 1;
  if (c.scale.size() != nBins || c.events.size() != nBins || c.rawCoverage.size() != nBins)
    throw InputError(what + ": the per-bin lists do not match the bin edges");
  for (double s : c.scale)
    if (!std::isfinite(s) || s < 0)
      throw InputError(what + ": scale factors must be finite and >= 0");
  return c;
}

}  // namespace nurec::eval

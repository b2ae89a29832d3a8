// Calibrated per-event m_tautau intervals (docs/ml.md "Calibrated mass intervals").
#include "nurec/eval/MassIntervals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nurec/core/Error.hpp"
#include "nurec/core/Event.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/io/Schema.hpp"

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

std::size_t cellsPerBin(const std::vector<double>& pairPtEdges) {
  return 2 * (pairPtEdges.size() + 1);
}

// The cell of an event within its mass bin: class (lepton-hadron 0, hadron-hadron 1), then pT bin.
std::size_t cellOf(const IntervalEvent& e, const std::vector<double>& pairPtEdges) {
  const auto pt = static_cast<std::size_t>(
      std::upper_bound(pairPtEdges.begin(), pairPtEdges.end(), e.pairPtGeV) - pairPtEdges.begin());
  return (e.hadronicPair ? 1 : 0) * (pairPtEdges.size() + 1) + pt;
}

void requireIncreasing(const std::vector<double>& edges, const char* what) {
  for (std::size_t i = 0; i < edges.size(); ++i) {
    require(std::isfinite(edges[i]) && edges[i] >= 0,
            fmt::format("mass intervals: {} edges must be finite and >= 0 GeV", what));
    if (i > 0)
      require(edges[i] > edges[i - 1], fmt::format("mass intervals: {} edges must increase", what));
  }
}

}  // namespace

std::vector<IntervalEvent> intervalEvents(const io::EventTable& table, const std::string& method) {
  const auto q = table.get<double>(io::nuMassQuantilesName(method), {3}, /*requireFinite=*/false);
  const auto channel = table.get<std::int8_t>(io::ds::recoChannel, {});
  const auto vis = table.get<double>(io::ds::recoTauP4, {2, 4}, false);
  const auto met = table.get<double>(io::ds::recoMet, {2}, false);
  std::vector<IntervalEvent> out(table.nEvents());
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].quantiles = {q[i * 3], q[i * 3 + 1], q[i * 3 + 2]};
    const auto ch = static_cast<Channel>(channel[i]);
    out[i].hadronicPair = ch == Channel::PiPi || ch == Channel::PiRho || ch == Channel::RhoRho;
    out[i].pairPtGeV = std::hypot(vis[i * 8] + vis[i * 8 + 4] + met[i * 2],
                                  vis[i * 8 + 1] + vis[i * 8 + 5] + met[i * 2 + 1]);
  }
  return out;
}

void MassIntervalFitConfig::validate() const {
  require(medianMassEdgesGeV.size() >= 2,
          "mass intervals: at least two bin edges of the median mass are needed");
  requireIncreasing(medianMassEdgesGeV, "median-mass bin");
  requireIncreasing(pairPtEdgesGeV, "pair-pT");
  require(targetCoverage > 0 && targetCoverage < 1,
          "mass intervals: the target coverage must lie in (0, 1)");
  require(minEventsPerBin >= 1, "mass intervals: at least one event per bin is needed");
}

double MassIntervalCalibration::factor(const IntervalEvent& e) const {
  const std::size_t b = binOf(e.quantiles[1], medianMassEdgesGeV);
  if (!cellScale.empty()) {
    const double s = cellScale[b * cellsPerBin(pairPtEdgesGeV) + cellOf(e, pairPtEdgesGeV)];
    if (std::isfinite(s)) return s;
  }
  return scale[b];
}

std::array<double, 2> MassIntervalCalibration::interval(const IntervalEvent& e) const {
  const auto& q = e.quantiles;
  const double s = factor(e);
  return {q[1] - s * (q[1] - q[0]), q[1] + s * (q[2] - q[1])};
}

MassIntervalCalibration fitMassIntervals(const std::vector<IntervalEvent>& events,
                                         const std::vector<double>& trueMassGeV,
                                         const MassIntervalFitConfig& config,
                                         const std::string& source) {
  config.validate();
  if (events.size() != trueMassGeV.size())
    throw InputError("mass intervals: quantiles and true masses differ in length");
  const auto& edges = config.medianMassEdgesGeV;
  const std::size_t nBins = edges.size() - 1, nCells = cellsPerBin(config.pairPtEdgesGeV);
  std::vector<std::vector<double>> distances(nBins), cellDistances(nBins * nCells);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& q = events[i].quantiles;
    if (!usable(q) || !std::isfinite(trueMassGeV[i])) continue;
    const double r = scaledDistance(q, trueMassGeV[i]);
    const std::size_t b = binOf(q[1], edges);
    distances[b].push_back(r);
    cellDistances[b * nCells + cellOf(events[i], config.pairPtEdgesGeV)].push_back(r);
  }
  MassIntervalCalibration out;
  out.medianMassEdgesGeV = edges;
  out.pairPtEdgesGeV = config.pairPtEdgesGeV;
  out.targetCoverage = config.targetCoverage;
  out.source = source;
  for (auto& d : cellDistances) {
    out.cellEvents.push_back(d.size());
    std::sort(d.begin(), d.end());
    const double s = d.size() >= config.minEventsPerBin ? quantileSorted(d, config.targetCoverage)
                                                        : std::numeric_limits<double>::quiet_NaN();
    out.cellScale.push_back(std::isfinite(s) ? s : std::numeric_limits<double>::quiet_NaN());
  }
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

std::string samplingSettings(const std::string& record) {
  std::istringstream words(record);
  std::map<std::string, std::string> found;
  for (std::string w; words >> w;)
    if (const auto eq = w.find('='); eq != std::string::npos)
      found[w.substr(0, eq)] = w.substr(eq + 1);
  std::string out;
  for (const char* key : {"sampler", "steps", "eta", "candidates"})
    if (const auto it = found.find(key); it != found.end()) {
      if (!out.empty()) out += ' ';
      out.append(key).append("=").append(it->second);
    }
  return out;
}

std::string MassIntervalCalibration::toJson() const {
  json j;
  j["format"] = kFormat;
  j["format_version"] = kFormatVersion;
  j["source"] = source;
  j["sampling"] = sampling;
  j["target_coverage"] = targetCoverage;
  j["median_mass_edges_gev"] = medianMassEdgesGeV;
  j["scale"] = scale;
  j["events"] = events;
  j["raw_coverage"] = rawCoverage;
  j["pair_pt_edges_gev"] = pairPtEdgesGeV;
  json cells = json::array();  // JSON has no NaN: a cell without its own factor is null
  for (double v : cellScale) cells.push_back(std::isfinite(v) ? json(v) : json(nullptr));
  j["cell_scale"] = cells;
  j["cell_events"] = cellEvents;
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
    const int version = j.value("format_version", -1);
    if (version < 1 || version > kFormatVersion)
      throw InputError(fmt::format("{}: format_version {} is not supported (expected {})", what,
                                   version, kFormatVersion));
    if (version >= 2) {
      c.pairPtEdgesGeV = j.at("pair_pt_edges_gev").get<std::vector<double>>();
      for (const auto& v : j.at("cell_scale"))
        c.cellScale.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN()
                                          : v.get<double>());
      c.cellEvents = j.at("cell_events").get<std::vector<std::size_t>>();
    }
    c.medianMassEdgesGeV = j.at("median_mass_edges_gev").get<std::vector<double>>();
    c.scale = j.at("scale").get<std::vector<double>>();
    c.events = j.at("events").get<std::vector<std::size_t>>();
    c.rawCoverage = j.at("raw_coverage").get<std::vector<double>>();
    c.targetCoverage = j.at("target_coverage").get<double>();
    c.source = j.value("source", std::string());
    if (version >= 3) c.sampling = j.at("sampling").get<std::string>();
  } catch (const json::exception& e) {
    throw InputError(what + ": damaged mass-interval calibration (" + e.what() + ")");
  }
  MassIntervalFitConfig check;
  check.medianMassEdgesGeV = c.medianMassEdgesGeV;
  check.targetCoverage = c.targetCoverage;
  check.pairPtEdgesGeV = c.pairPtEdgesGeV;
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
  if (!c.cellScale.empty() || !c.cellEvents.empty()) {
    const std::size_t nCells = nBins * cellsPerBin(c.pairPtEdgesGeV);
    if (c.cellScale.size() != nCells || c.cellEvents.size() != nCells)
      throw InputError(what + ": the per-cell lists do not match the bins");
    for (double s : c.cellScale)
      if (s < 0) throw InputError(what + ": scale factors must be >= 0");
  }
  return c;
}

}  // namespace nurec::eval

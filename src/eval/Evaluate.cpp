#include "nurec/eval/Evaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <variant>

#include "nurec/core/Error.hpp"
#include "nurec/core/Event.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::eval {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QuantityValues quantitiesOf(const FourVector& tauPlus, const FourVector& tauMinus) {
  return {tauPlus.px,  tauPlus.py,  tauPlus.pz,
          tauPlus.e,   tauMinus.px, tauMinus.py,
          tauMinus.pz, tauMinus.e,  (tauPlus + tauMinus).m()};
}

bool allFinite(const double* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

FourVector at(const std::vector<double>& col, std::size_t row, int tau) {
  return FourVector::fromArray(col.data() + row * 8 + tau * 4);
}

}  // namespace

const char* selectionName(EventSelection s) {
  switch (s) {
    case EventSelection::SignalRegion:
      return "signal_region";
    case EventSelection::AnyChannel:
      return "any_channel";
    case EventSelection::All:
      return "all";
  }
  return "?";
}

EventSelection selectionFromName(const std::string& name) {
  if (name == "signal_region" || name == "sr") return EventSelection::SignalRegion;
  if (name == "any_channel" || name == "channel") return EventSelection::AnyChannel;
  if (name == "all") return EventSelection::All;
  throw ConfigError("unknown event selection '" + name +
                    "' (expected signal_region, any_channel or all)");
}

void EvaluateConfig::validate() const {
  hwhm.validate();
  require(exampleEvents >= 0 && exampleEvents <= 16, "exampleEvents must be in 0..16");
  require(threads >= 0, "threads must not be negative");
  for (const auto& m : methods) require(!m.empty(), "empty method name");
  require(trueMassEdgesGeV.size() >= 2,
          "the true-mass bins (evaluate --mass-bins) need at least two edges");
  for (std::size_t i = 0; i < trueMassEdgesGeV.size(); ++i)
    require(std::isfinite(trueMassEdgesGeV[i]) && trueMassEdgesGeV[i] >= 0 &&
                (i == 0 || trueMassEdgesGeV[i] > trueMassEdgesGeV[i - 1]),
            "the true-mass bin edges (evaluate --mass-bins) must be finite, non-negative and "
            "increasing");
}

const char* quantityKey(int q) {
  static const char* keys[] = {"tau_plus_px",  "tau_plus_py",  "tau_plus_pz",
                               "tau_plus_e",   "tau_minus_px", "tau_minus_py",
                               "tau_minus_pz", "tau_minus_e",  "m_tautau"};
  return keys[q];
}
const char* quantityLabel(int q) {
  static const char* labels[] = {"τ⁺ px", "τ⁺ py", "τ⁺ pz", "τ⁺ E", "τ⁻ px",
                                 "τ⁻ py", "τ⁻ pz", "τ⁻ E",  "m_ττ"};
  return labels[q];
}
const char* quantityUnitLabel(int q) {
  static const char* labels[] = {"p_x(τ^+) [GeV]", "p_y(τ^+) [GeV]", "p_z(τ^+) [GeV]",
                                 "E(τ^+) [GeV]",   "p_x(τ^-) [GeV]", "p_y(τ^-) [GeV]",
                                 "p_z(τ^-) [GeV]", "E(τ^-) [GeV]",   "m_{ττ} [GeV]"};
  return labels[q];
}
const char* neutrinoComponentKey(int c) {
  static const char* keys[] = {"nu_plus_px",  "nu_plus_py",  "nu_plus_pz",
                               "nu_minus_px", "nu_minus_py", "nu_minus_pz"};
  return keys[c];
}
const char* neutrinoComponentLabel(int c) {
  static const char* labels[] = {"ν⁺ px", "ν⁺ py", "ν⁺ pz", "ν⁻ px", "ν⁻ py", "ν⁻ pz"};
  return labels[c];
}

double MethodResult::failedFraction() const {
  return events == 0 ? kNaN : static_cast<double>(failed) / static_cast<double>(events);
}

namespace {

// Separate mass estimators (/nu/<method>/mtautau), e.g. MMC's most likely mass, per group.
// Bootstrap salts continue after the nTasks of the main table.
std::vector<MassEstimatorResult> massEstimatorResults(
    const io::EventTable& table, const EvaluationResult& res,
    const std::vector<std::vector<std::size_t>>& members, const HwhmConfig& hwhm,
    std::size_t nTasks) {
  std::vector<MassEstimatorResult> out;
  const std::size_t nGroups = res.groups.size();
  for (const auto& m : res.methods) {
    const std::string name = "/nu/" + m + "/mtautau";
    if (m == kVisibleMethod || !table.has(name)) continue;
    const auto mass = table.get<double>(name, {}, false);
    const std::size_t mi = static_cast<std::size_t>(
        std::find(res.methods.begin(), res.methods.end(), m) - res.methods.begin());
    MassEstimatorResult me;
    me.method = m;
    for (std::size_t g = 0; g < nGroups; ++g) {
      std::vector<double> residual;
      std::size_t failed = 0;
      for (std::size_t s : members[g]) {
        const double v = mass[res.rows[s]];
        if (!res.values[mi].ok[s] || !std::isfinite(v) || v <= 0) {
          ++failed;
          continue;
        }
        residual.push_back(relativeResidual(v, res.truth[s][kMassIndex]));
      }
      me.perGroup.push_back(summarizeResiduals(residual, hwhm, splitmix64(nTasks + g + 1)));
      me.failedPerGroup.push_back(failed);
    }
    out.push_back(std::move(me));
  }
  return out;
}

// Calibration of the methods that store candidates (rank histograms, coverage, CRPS against
// /truth/nu_p4), and the example events of the first such method (docs/ml-methods.md section 7).
void calibrateCandidates(const io::EventTable& table, const EvaluateConfig& config,
                         const std::vector<std::vector<std::size_t>>& members,
                         EvaluationResult& res) {
  const std::size_t nMethods = res.methods.size(), nSel = res.rows.size(),
                    nGroups = res.groups.size();
  const std::string file = table.source().empty() ? "the event table" : table.source();
  const bool haveTruthNu = table.has(io::ds::nuP4);
  for (std::size_t mi = 0; mi < nMethods; ++mi) {
    const std::string& m = res.methods[mi];
    if (m == kVisibleMethod || !table.has(io::nuCandidatesName(m))) continue;
    if (!haveTruthNu) {
      res.notes.push_back(
          fmt::format("Calibration of the {} candidates skipped: the file has no "
                      "{}.",
                      m, io::ds::nuP4));
      continue;
    }
    const io::Column& col = table.column(io::nuCandidatesName(m));
    if (col.rowShape.size() != 3 || col.rowShape[1] != 2 || col.rowShape[2] != 3 ||
        col.rowShape[0] < 2)
      throw InputError(fmt::format("{}: dataset {} must have shape (N, K, 2, 3) with K >= 2", file,
                                   io::nuCandidatesName(m)));
    const std::size_t k = col.rowShape[0];
    // The candidates are large (N x K x 6 floats): use the stored column directly when it is f4.
    std::vector<float> converted;
    const std::vector<float>* candColumn = std::get_if<std::vector<float>>(&col.values);
    if (!candColumn) {
      converted = table.get<float>(io::nuCandidatesName(m), {k, 2, 3}, false);
      candColumn = &converted;
    }
    const std::vector<float>& cand = *candColumn;
    const auto truthNu = table.get<double>(io::ds::nuP4, {2, 4});
    CalibrationResult cal;
    cal.method = m;
    cal.k = k;
    std::vector<std::size_t> used;
    for (std::size_t s = 0; s < nSel; ++s)
      if (res.values[mi].ok[s]) used.push_back(s);
    for (int c = 0; c < 6; ++c) {
      const int tau = c / 3, comp = c % 3;
      std::vector<double> x, y;
      x.reserve(used.size() * k);
      for (std::size_t s : used) {
        const std::size_t r = res.rows[s];
        y.push_back(truthNu[r * 8 + tau * 4 + comp]);
        for (std::size_t j = 0; j < k; ++j) x.push_back(cand[r * k * 6 + j * 6 + tau * 3 + comp]);
      }
      ComponentCalibration& cc = cal.components[c];
      cc.events = y.size();
      if (y.empty()) {
        cc.ranks.assign(k + 1, 0);
        cc.coverageOuter = cc.coverageInner = cc.crps = cc.spread = kNaN;
        continue;
      }
      const CandidateSample sample{x, y, k};
      cc.ranks = rankHistogram(sample);
      cc.coverageOuter = coverage(sample, 1, k);
      cc.coverageInner = k >= 4 ? coverage(sample, 2, k - 1) : kNaN;
      cc.crps = meanCrps(sample);
      cc.spread = meanSpread(sample);
    }
    if (res.examples.empty() && config.exampleEvents > 0) {
      res.examplesMethod = m;
      // The first successful events of each channel in turn, so several channels are shown.
      std::vector<std::size_t> picks;
      for (std::size_t g = 1;
           g < nGroups && picks.size() < static_cast<std::size_t>(config.exampleEvents); ++g) {
        for (std::size_t s : members[g]) {
          if (res.values[mi].ok[s]) {
            picks.push_back(s);
            break;
          }
        }
      }
      for (std::size_t s : used) {
        if (picks.size() >= static_cast<std::size_t>(config.exampleEvents)) break;
        if (std::find(picks.begin(), picks.end(), s) == picks.end()) picks.push_back(s);
      }
      std::map<std::string, std::vector<double>> nuCache;
      for (std::size_t s : picks) {
        const std::size_t r = res.rows[s];
        CandidateExample ex;
        ex.row = r;
        ex.channel =
            res.channel[s] >= 0 ? channelLabel(static_cast<Channel>(res.channel[s])) : "none";
        for (std::size_t j = 0; j < k; ++j) {
          std::array<double, 6> v{};
          for (int c = 0; c < 6; ++c) v[c] = cand[r * k * 6 + j * 6 + c];
          ex.candidates.push_back(v);
        }
        for (int c = 0; c < 6; ++c) ex.truth[c] = truthNu[r * 8 + (c / 3) * 4 + c % 3];
        for (const auto& other : res.methods) {
          if (other == kVisibleMethod) continue;
          if (!nuCache.count(other))
            nuCache[other] = table.get<double>(io::nuP4Name(other), {2, 4}, false);
          const auto& nu = nuCache[other];
          std::array<double, 6> v{};
          for (int c = 0; c < 6; ++c) v[c] = nu[r * 8 + (c / 3) * 4 + c % 3];
          const std::size_t oi = static_cast<std::size_t>(
              std::find(res.methods.begin(), res.methods.end(), other) - res.methods.begin());
          if (res.values[oi].ok[s]) ex.estimates.emplace_back(other, v);
        }
        res.examples.push_back(std::move(ex));
      }
    }
    res.calibration.push_back(std::move(cal));
  }
}

}  // namespace

namespace {

// The selected events (config.selection) with their channel and true quantities.
void selectEvents(const io::EventTable& table, const EvaluateConfig& config,
                  const std::string& file, EvaluationResult& res) {
  const std::size_t n = table.nEvents();
  const auto truthTau = table.get<double>(io::ds::tauP4, {2, 4});
  const auto channel = table.get<std::int8_t>(io::ds::recoChannel, {});
  std::vector<std::uint8_t> passSr;
  if (config.selection == EventSelection::SignalRegion) {
    if (!table.has(io::ds::recoPassSr))
      throw InputError(
          fmt::format("{}: dataset {} is missing; it is needed for the signal-region "
                      "selection (use --selection any_channel or all otherwise)",
                      file, io::ds::recoPassSr));
    passSr = table.get<std::uint8_t>(io::ds::recoPassSr, {});
  }
  for (std::size_t i = 0; i < n; ++i) {
    bool keep = true;
    if (config.selection == EventSelection::SignalRegion)
      keep = passSr[i] != 0;
    else if (config.selection == EventSelection::AnyChannel)
      keep = channel[i] >= 0;
    if (keep) res.rows.push_back(i);
  }
  for (std::size_t r : res.rows) {
    res.channel.push_back(channel[r]);
    res.truth.push_back(quantitiesOf(at(truthTau, r, 0), at(truthTau, r, 1)));
  }
  if (table.has(io::ds::decayMode)) {
    const auto mode = io::getDecayModes(table);
    for (std::size_t r : res.rows)
      res.otherDecayMode.push_back(
          mode[2 * r] == DecayMode::Other || mode[2 * r + 1] == DecayMode::Other ? 1 : 0);
  }
}

// The methods to evaluate: the requested ones (all /nu groups by default), each checked to be in
// the file, with the visible-only baseline first when asked for.
std::vector<std::string> methodsToEvaluate(const io::EventTable& table,
                                           const EvaluateConfig& config, const std::string& file,
                                           std::vector<std::string>& notes) {
  const std::vector<std::string> available = io::nuMethods(table);
  const std::vector<std::string> wanted = config.methods.empty() ? available : config.methods;
  for (const auto& m : wanted) {
    if (m == kVisibleMethod) continue;
    if (std::find(available.begin(), available.end(), m) == available.end())
      throw ConfigError(fmt::format(
          "method '{}' not found in {} (it has: {})", m, file,
          available.empty() ? std::string("none") : fmt::format("{}", fmt::join(available, ", "))));
  }
  std::vector<std::string> methods;
  if (config.visibleBaseline ||
      std::find(wanted.begin(), wanted.end(), kVisibleMethod) != wanted.end())
    methods.push_back(kVisibleMethod);
  for (const auto& m : wanted)
    if (m != kVisibleMethod) methods.push_back(m);
  if (available.empty())
    notes.push_back(
        "The file holds no /nu/<method> group: only the visible-only baseline "
        "is evaluated.");
  return methods;
}

// The reconstructed quantities of one method on the selected rows: visible taus + neutrinos.
// An event counts as failed when its status is not 0 or its neutrinos are not finite.
MethodValues methodValues(const io::EventTable& table, const std::string& method,
                          const std::vector<std::size_t>& rows) {
  const auto recoTau = table.get<double>(io::ds::recoTauP4, {2, 4});
  const std::size_t nSel = rows.size();
  MethodValues mv;
  mv.method = method;
  mv.reco.resize(nSel);
  mv.ok.assign(nSel, 1);
  if (method == kVisibleMethod) {
    for (std::size_t s = 0; s < nSel; ++s)
      mv.reco[s] = quantitiesOf(at(recoTau, rows[s], 0), at(recoTau, rows[s], 1));
    return mv;
  }
  const auto nu = table.get<double>(io::nuP4Name(method), {2, 4}, /*requireFinite=*/false);
  // Part of every /nu group (docs/data-format.md): a file without it is damaged.
  const std::vector<std::int8_t> status = table.get<std::int8_t>(io::nuStatusName(method), {});
  if (table.has(io::nuMassQuantilesName(method))) {
    const auto q = table.get<double>(io::nuMassQuantilesName(method), {3}, false);
    for (std::size_t r : rows) mv.massQuantiles.push_back({q[r * 3], q[r * 3 + 1], q[r * 3 + 2]});
  }
  if (table.has(io::nuMassIntervalName(method))) {
    const auto iv = table.get<double>(io::nuMassIntervalName(method), {2}, false);
    for (std::size_t r : rows) mv.massIntervals.push_back({iv[r * 2], iv[r * 2 + 1]});
  }
  for (std::size_t s = 0; s < nSel; ++s) {
    const std::size_t r = rows[s];
    const bool finite = allFinite(nu.data() + r * 8, 8);
    mv.ok[s] = finite && (status.empty() || status[r] == 0);
    mv.reco[s] =
        mv.ok[s] ? quantitiesOf(at(recoTau, r, 0) + at(nu, r, 0), at(recoTau, r, 1) + at(nu, r, 1))
                 : QuantityValues{kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN};
  }
  return mv;
}

// Groups: all channels, then each channel that has selected events. Returns the members (indices
// into the selected events) of each group and fills res.groups with their counts.
std::vector<std::vector<std::size_t>> makeGroups(EvaluationResult& res) {
  const std::size_t nSel = res.rows.size();
  std::vector<std::vector<std::size_t>> members;
  GroupResult all;
  all.key = "all";
  all.label = "all channels";
  res.groups.push_back(all);
  std::vector<std::size_t> idx(nSel);
  for (std::size_t s = 0; s < nSel; ++s) idx[s] = s;
  members.push_back(std::move(idx));
  for (int c = 0; c < kNumChannels; ++c) {
    std::vector<std::size_t> inChannel;
    for (std::size_t s = 0; s < nSel; ++s)
      if (res.channel[s] == c) inChannel.push_back(s);
    if (inChannel.empty()) continue;
    GroupResult g;
    g.key = channelName(static_cast<Channel>(c));
    g.label = channelLabel(static_cast<Channel>(c));
    res.groups.push_back(g);
    members.push_back(std::move(inChannel));
  }
  for (std::size_t g = 0; g < res.groups.size(); ++g) {
    res.groups[g].events = members[g].size();
    res.groups[g].methods.resize(res.methods.size());
    for (std::size_t m = 0; m < res.methods.size(); ++m) {
      MethodResult& mr = res.groups[g].methods[m];
      mr.method = res.methods[m];
      mr.events = members[g].size();
      for (std::size_t s : members[g]) mr.failed += res.values[m].ok[s] ? 0 : 1;
    }
  }
  return members;
}

// Resolution and distribution distances of every (group, method, quantity). One task each, with
// its own bootstrap salt, so the numbers do not depend on the thread count. Returns the number of
// tasks (the mass estimators' salts continue after it).
std::size_t summariseGroups(const std::vector<std::vector<std::size_t>>& members,
                            const EvaluateConfig& config, EvaluationResult& res) {
  const std::size_t nGroups = res.groups.size(), nMethods = res.methods.size();
  const std::size_t nTasks = nGroups * nMethods * kNumQuantities;
  Progress progress("evaluate", nTasks);
  parallelFor(nTasks, config.threads, [&](std::size_t task) {
    const std::size_t q = task % kNumQuantities;
    const std::size_t m = (task / kNumQuantities) % nMethods;
    const std::size_t g = task / (kNumQuantities * nMethods);
    std::vector<double> residual, truthValues, recoValues;
    for (std::size_t s : members[g]) {
      if (!res.values[m].ok[s]) continue;
      const double reco = res.values[m].reco[s][q], truth = res.truth[s][q];
      residual.push_back(relativeResidual(reco, truth));
      if (std::isfinite(reco) && std::isfinite(truth)) {
        truthValues.push_back(truth);
        recoValues.push_back(reco);
      }
    }
    QuantityResult& qr = res.groups[g].methods[m].quantities[q];
    qr.resolution = summarizeResiduals(residual, config.hwhm, splitmix64(task + 1));
    qr.distances = distributionDistances(truthValues, recoValues);
    progress.advance();
  });
  progress.finish();
  for (auto& g : res.groups) {
    for (auto& mr : g.methods) {
      double sum = 0;
      for (int q = 0; q < kNumTauComponents; ++q) {
        mr.tauSum += mr.quantities[q].distances;
        sum += mr.quantities[q].resolution.hwhm;
      }
      mr.meanTauHwhm = sum / kNumTauComponents;  // NaN propagates
    }
  }
  return nTasks;
}

}  // namespace

EvaluationResult evaluate(const io::EventTable& table, const EvaluateConfig& config) {
  config.validate();
  const auto start = std::chrono::steady_clock::now();
  EvaluationResult res;
  res.config = config;
  if (res.config.source.empty()) res.config.source = table.source();
  res.eventsInFile = table.nEvents();
  const std::string file = table.source().empty() ? "the event table" : table.source();

  // Inputs every method needs, checked once as for the reconstruction (docs/reliability.md).
  io::validateReco(table);
  for (const char* name : {io::ds::tauP4, io::ds::recoTauP4, io::ds::recoChannel})
    table.column(name);  // a missing one is an InputError naming it, in this order
  selectEvents(table, config, file, res);
  res.methods = methodsToEvaluate(table, config, file, res.notes);
  for (const auto& m : res.methods) res.values.push_back(methodValues(table, m, res.rows));
  const auto members = makeGroups(res);
  const std::size_t nTasks = summariseGroups(members, config, res);
  res.massEstimators = massEstimatorResults(table, res, members, config.hwhm, nTasks);
  const std::uint64_t massSalt = nTasks + res.groups.size() + 1;
  res.byTrueMass = resolutionByTrueMass(res, config, massSalt);
  res.byTrueDecays = resolutionByTrueDecays(
      res, config, massSalt + config.trueMassEdgesGeV.size() * res.methods.size());
  calibrateCandidates(table, config, members, res);
  if (res.rows.empty())
    res.notes.push_back(
        fmt::format("No event passes the selection ({}).", selectionName(config.selection)));
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return res;
}

EvaluationResult evaluateFile(const std::string& path, const EvaluateConfig& config,
                              std::size_t chunkEvents) {
  config.validate();
  const io::EventFileReader reader(path);
  const bool signalRegion = config.selection == EventSelection::SignalRegion;
  for (const char* name : {io::ds::tauP4, io::ds::recoTauP4, io::ds::recoChannel})
    if (!reader.has(name)) throw InputError(fmt::format("{}: dataset {} is missing", path, name));
  if (signalRegion && !reader.has(io::ds::recoPassSr))
    throw InputError(
        fmt::format("{}: dataset {} is missing; it is needed for the signal-region "
                    "selection (use --selection any_channel or all otherwise)",
                    path, io::ds::recoPassSr));
  // The methods first (an unknown one is refused before the file is read), from the /nu/<m>/p4
  // names alone.
  std::vector<std::string> p4Names;
  for (const auto& [name, info] : reader.datasets())
    if (name.rfind("/nu/", 0) == 0 && name.size() > 7 && name.substr(name.size() - 3) == "/p4")
      p4Names.push_back(name);
  std::vector<std::string> notes;
  const std::vector<std::string> methods =
      methodsToEvaluate(reader.read(0, 0, p4Names), config, path, notes);
  // Read: what validateReco checks (every /reco dataset) and what the evaluation uses. Kept: the
  // latter, of the selected rows only; the /nu/<m>/p4 of the other methods only name them.
  std::vector<std::string> read, keep{io::ds::tauP4, io::ds::recoTauP4, io::ds::recoChannel};
  if (reader.has(io::ds::recoPassSr)) keep.push_back(io::ds::recoPassSr);
  if (reader.has(io::ds::decayMode)) keep.push_back(io::ds::decayMode);
  bool candidates = false;
  for (const auto& [name, info] : reader.datasets()) {
    const bool nu = name.rfind("/nu/", 0) == 0;
    if (name.rfind("/reco/", 0) == 0 || nu || name == io::ds::tauP4 || name == io::ds::nuP4 ||
        name == io::ds::decayMode)
      read.push_back(name);
    if (!nu) continue;
    const std::string rest = name.substr(4);
    const std::string method = rest.substr(0, rest.find('/'));
    if (std::find(methods.begin(), methods.end(), method) != methods.end()) {
      keep.push_back(name);
      candidates = candidates || name == io::nuCandidatesName(method);
    } else if (std::find(p4Names.begin(), p4Names.end(), name) != p4Names.end()) {
      keep.push_back(name);
    }
  }
  if (candidates && reader.has(io::ds::nuP4)) keep.push_back(io::ds::nuP4);
  std::vector<std::size_t> fileRows;
  const io::ChunkSelector select = [&](const io::EventTable& chunk) {
    // The checks of evaluate() on every row, not only the selected ones.
    io::validateReco(chunk);
    chunk.get<double>(io::ds::tauP4, {2, 4});
    if (candidates && chunk.has(io::ds::nuP4)) chunk.get<double>(io::ds::nuP4, {2, 4});
    if (chunk.has(io::ds::decayMode)) io::getDecayModes(chunk);
    const auto channel = chunk.get<std::int8_t>(io::ds::recoChannel, {});
    std::vector<std::uint8_t> passSr;
    if (signalRegion) passSr = chunk.get<std::uint8_t>(io::ds::recoPassSr, {});
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < chunk.nEvents(); ++i) {
      const bool pass = signalRegion                                     ? passSr[i] != 0
                        : config.selection == EventSelection::AnyChannel ? channel[i] >= 0
                                                                         : true;
      if (pass) rows.push_back(i);
    }
    return rows;
  };
  const io::EventTable selected =
      io::readRowsInChunks(reader, read, chunkEvents, select, keep, &fileRows);
  EvaluateConfig c = config;
  if (c.source.empty()) c.source = path;
  EvaluationResult res = evaluate(selected, c);
  // Back to the file's rows.
  res.eventsInFile = reader.nEvents();
  for (auto& r : res.rows) r = fileRows.at(r);
  for (auto& ex : res.examples) ex.row = fileRows.at(ex.row);
  return res;
}

}  // namespace nurec::eval

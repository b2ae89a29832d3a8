// Rendering of a SpinReport (quantum/SpinMeasurement.hpp): JSON, the Markdown table, the
// luminosity-scan CSV and the one-line summary. No physics here; measureSpin computes everything.
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "nurec/core/AtomicFile.hpp"
#include "nurec/quantum/SpinMeasurement.hpp"

namespace nurec::quantum {

namespace {

using nlohmann::json;

// NaN and infinities become JSON null (nlohmann does the same; explicit for the reader).
json num(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

json paramsJson(const std::vector<ParameterResult>& ps, bool calibrated) {
  json j = json::object();
  for (const auto& p : ps) {
    j[p.name] = {
        {"value", p.value}, {"stat", num(p.stat)}, {"stat_bootstrap", num(p.statBootstrap)}};
    if (calibrated) j[p.name]["calibration"] = num(p.calibration);
  }
  return j;
}

json obsJson(const std::vector<ObservableSummary>& os, bool calibrated) {
  json j = json::object();
  for (const auto& o : os) {
    j[o.name] = {{"value", num(o.value)},
                 {"stat", num(o.stat)},
                 {"stat_bootstrap", num(o.statBootstrap)},
                 {"bootstrap_bias", num(o.bootstrapBias)},
                 {"bias_corrected", num(o.value - o.bootstrapBias)}};
    if (calibrated) j[o.name]["calibration"] = num(o.calibration);
  }
  return j;
}

json significanceJson(const SignificanceResult& r) {
  json scan = json::array();
  for (const auto& p : r.scan) {
    json pj = {
        {"lumi_fb", p.lumiInvFb}, {"signal", p.signal}, {"background", p.background}, {"z", p.z}};
    if (p.zToys >= -0.5 || p.toyNullSd > 0)
      pj["toys"] = {{"z", p.zToys},
                    {"median", p.toyMedian},
                    {"null_mean", p.toyNullMean},
                    {"null_sd", p.toyNullSd}};
    scan.push_back(pj);
  }
  return {{"statistic", r.statistic},
          {"description", r.description},
          {"value", r.value},
          {"error", num(r.error)},
          {"per_event_sd", num(r.perEventSd)},
          {"z_at_lumi", num(r.zAtLumi)},
          {"lumi_for_5sigma_fb", num(r.lumiFor5Sigma)},  // null: never (T <= 0)
          {"calibration_error", num(r.calibrationError)},
          {"z_at_lumi_with_calibration", num(r.zAtLumiWithCalibration)},
          {"lumi_for_5sigma_with_calibration_fb", num(r.lumiFor5SigmaWithCalibration)},
          {"z_expected_at_reference", num(r.zExpectedAtReference)},  // null: no spin truth
          {"scan", scan}};
}

json subsetJson(const SubsetReport& s) {
  json j;
  j["channel"] = s.channel;
  j["events"] = s.nEvents;
  j["sum_weights_pb"] = s.sumWeightsPb;
  j["n_effective"] = s.nEffective;
  j["signal_per_fb"] = s.signalPerInvFb;
  j["flags"] = s.flags;
  j["raw"] = {{"parameters", paramsJson(s.raw, false)},
              {"observables", obsJson(s.rawObservables, false)}};
  j["calibration_failed"] = s.calibrationFailed;
  j["calibrated"] = s.isCalibrated
                        ? json{{"parameters", paramsJson(s.calibrated, true)},
                               {"observables", obsJson(s.calibratedObservables, true)},
                               {"min_effective_fraction", s.calibrationNeffFraction},
                               {"response_condition_number", num(s.responseConditionNumber)}}
                        : json(nullptr);
  j["kinematic"] = {
      {"mean_sin2_over_1_plus_c2", s.kinematic.meanSin2Over1PlusC2},
      {"error", s.kinematic.error},
      {"k_factor_z", s.kinematic.kFactorZ},
      {"photon_like",
       {{"C_rr", s.kinematic.photonLike.c[1][1]}, {"C_nn", s.kinematic.photonLike.c[2][2]}}},
      {"z_like", {{"C_rr", s.kinematic.zLike.c[1][1]}, {"C_nn", s.kinematic.zLike.c[2][2]}}},
      {"concurrence_photon_like", s.kinematic.concurrencePhotonLike},
      {"concurrence_z_like", s.kinematic.concurrenceZLike}};
  json sig = json::array();
  for (const auto& r : s.significance) sig.push_back(significanceJson(r));
  j["significance"] = sig;
  if (s.hasReference) {
    json ref = json::object();
    for (int a = 0; a < kNumSpinParameters; ++a) ref[spinParameterName(a)] = s.reference[a];
    j["truth_reference"] = {{"parameters", ref}, {"observables", s.referenceObservables}};
  } else {
    j["truth_reference"] = nullptr;
  }
  return j;
}

const ParameterResult* findParam(const std::vector<ParameterResult>& v, const std::string& n) {
  for (const auto& p : v)
    if (p.name == n) return &p;
  return nullptr;
}
const ObservableSummary* findObs(const std::vector<ObservableSummary>& v, const std::string& n) {
  for (const auto& p : v)
    if (p.name == n) return &p;
  return nullptr;
}
const SignificanceResult* findSig(const SubsetReport& s, const std::string& n) {
  for (const auto& x : s.significance)
    if (x.statistic == n) return &x;
  return nullptr;
}

int decimalsFor(double error, int decimals) {
  int d = decimals;  // enough decimals for two significant digits of a small error
  while (d < 8 && error < std::pow(10.0, 1 - d)) ++d;
  return d;
}

std::string formatError(double error, int decimals = 3) {
  if (!(std::isfinite(error) && error > 0)) return "n/a";
  return fmt::format("{:.{}f}", error, decimalsFor(error, decimals));
}

std::string fin(double v) {
  return std::isfinite(v) ? fmt::format("{:.3g}", v) : std::string("∞");
}

// The headline: calibrated when available, else raw.
const std::vector<ParameterResult>& shownParams(const SubsetReport& s) {
  return s.isCalibrated ? s.calibrated : s.raw;
}
const std::vector<ObservableSummary>& shownObs(const SubsetReport& s) {
  return s.isCalibrated ? s.calibratedObservables : s.rawObservables;
}

std::string markdownTable(const SpinReport& r) {
  std::string md =
      "| channel | events | C_kk | C_rr | C_nn | B+_k | B-_k | concurrence (bias-corr.) | m12 | D "
      "| B_opt | Z_ent | Z_Bell(B_opt) | L5σ ent [fb⁻¹] | L5σ Bell [fb⁻¹] | flags |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : r.subsets) {
    const auto& ps = shownParams(s);
    const auto& os = shownObs(s);
    auto pv = [&](const char* n) {
      const auto* p = findParam(ps, n);
      if (!p) return std::string("-");
      return s.isCalibrated ? fmt::format("{} [{}]", formatValueError(p->value, p->stat),
                                          formatError(p->calibration))
                            : formatValueError(p->value, p->stat);
    };
    auto ov = [&](const char* n) {
      const auto* o = findObs(os, n);
      return o ? formatValueError(o->value, o->stat) : std::string("-");
    };
    const SignificanceResult* ent = findSig(s, "entanglement_D");
    const SignificanceResult* bell = findSig(s, "bell_opt");
    // Statistical only, and (in parentheses) with the calibration uncertainty.
    auto zz = [&](const SignificanceResult* x) {
      if (!x) return std::string("-");
      return s.isCalibrated ? fmt::format("{:.1f} ({:.1f})", x->zAtLumi, x->zAtLumiWithCalibration)
                            : fmt::format("{:.1f}", x->zAtLumi);
    };
    auto l5 = [&](const SignificanceResult* x) {
      if (!x) return std::string("-");
      return s.isCalibrated ? fmt::format("{} ({})", fin(x->lumiFor5Sigma),
                                          fin(x->lumiFor5SigmaWithCalibration))
                            : fin(x->lumiFor5Sigma);
    };
    std::string flags;
    for (const auto& f : s.flags) flags += (flags.empty() ? "⚠ " : "; ") + f;
    md += fmt::format(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        s.calibrationFailed ? s.channel + " (raw: calibration failed)" : s.channel, s.nEvents,
        pv("C_kk"), pv("C_rr"), pv("C_nn"), pv("B+_k"), pv("B-_k"), ov("concurrence_unbiased"),
        ov("m12"), ov("entanglement_D"), ov("bell_opt"), zz(ent), zz(bell), l5(ent), l5(bell),
        flags.empty() ? "-" : flags);
    if (s.hasReference) {
      auto rv = [&](const char* n) {
        for (int a = 0; a < kNumSpinParameters; ++a)
          if (spinParameterName(a) == n) return fmt::format("{:.4f}", s.reference[a]);
        return std::string("-");
      };
      auto ro = [&](const char* n) {
        return s.referenceObservables.count(n) ? fmt::format("{:.4f}", s.referenceObservables.at(n))
                                               : std::string("-");
      };
      // The Z columns of this row: expected at the true state with this method's errors.
      auto ze = [&](const SignificanceResult* x) {
        return x && std::isfinite(x->zExpectedAtReference)
                   ? fmt::format("{:.1f} (expected)", x->zExpectedAtReference)
                   : std::string();
      };
      md += fmt::format(
          "| {} (truth ref.) | | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | | | |\n",
          s.channel, rv("C_kk"), rv("C_rr"), rv("C_nn"), rv("B+_k"), rv("B-_k"),
          ro("concurrence_unbiased"), ro("m12"), ro("entanglement_D"), ro("bell_opt"), ze(ent),
          ze(bell));
    }
  }
  return md;
}

// Calibrated (else raw) values against the truth reference, per subset: chi2 over the 15
// parameters with stat and calibration errors, correlations ignored.
std::string referenceAgreement(const SpinReport& r) {
  std::string cmp;
  for (const auto& s : r.subsets) {
    if (!s.hasReference) continue;
    const auto& ps = shownParams(s);
    double chi2 = 0;
    int ndf = 0;
    for (int a = 0; a < kNumSpinParameters && a < static_cast<int>(ps.size()); ++a) {
      const double cal = s.isCalibrated && std::isfinite(ps[a].calibration) ? ps[a].calibration : 0;
      const double e2 = ps[a].stat * ps[a].stat + cal * cal;
      if (std::isfinite(e2) && e2 > 0) {
        chi2 += std::pow(ps[a].value - s.reference[a], 2) / e2;
        ++ndf;
      }
    }
    cmp += fmt::format("{}{} {:.1f}/{}", cmp.empty() ? "" : ", ", s.channel, chi2, ndf);
  }
  return cmp;
}

}  // namespace

std::string formatValueError(double value, double error, int decimals) {
  if (!std::isfinite(value)) return "n/a";
  const std::string v = fmt::format("{:.{}f}", value, decimals);
  if (!(std::isfinite(error) && error > 0)) return v + " ± n/a";
  const int d = decimalsFor(error, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", value, d, error, d);
}

std::string spinReportJson(const SpinReport& r) {
  json j;
  j["file"] = r.file;
  j["method"] = r.method;
  j["events"] = {{"input", r.nInput},
                 {"selected", r.nSelected},
                 {"analysed", r.nAnalysed},
                 {"failed", r.nFailed},
                 {"no_analyser", r.nNoAnalyser}};
  j["calibration_source"] = r.calibrationSource;
  j["calibration_warnings"] = r.calibrationWarnings;
  j["spin_truth"] = r.spinTruthKnown ? "known" : "unknown";
  j["config"] = r.configText;
  j["seconds"] = r.seconds;
  json subs = json::array();
  for (const auto& s : r.subsets) subs.push_back(subsetJson(s));
  j["subsets"] = subs;
  json comb = json::object();
  for (const auto& [k, v] : r.channelCombination) comb[k] = v;
  j["channel_combination"] = {{"z_at_lumi", comb}, {"channels_excluded", r.channelsExcluded}};
  json sy = json::array();
  for (const auto& s : r.systematics) sy.push_back({{"source", s.source}, {"shift", s.shift}});
  j["systematics"] = sy;
  j["total_systematic"] = r.totalSystematic;
  if (r.closure.done) {
    json c;
    c["description"] =
        "diagnostic: response fitted on the input's even rows, applied to its odd rows";
    c["n_calibration"] = r.closure.nCalibration;
    c["n_test"] = r.closure.nTest;
    c["chi2"] = r.closure.chi2;
    c["ndf"] = r.closure.ndf;
    json ps = json::object();
    for (std::size_t a = 0; a < r.closure.calibrated.size(); ++a) {
      const auto& p = r.closure.calibrated[a];
      ps[p.name] = {{"calibrated", p.value},
                    {"stat", num(p.stat)},
                    {"calibration", num(p.calibration)},
                    {"truth", r.closure.truthValues[a]},
                    {"pull", num(r.closure.pulls[a])}};
    }
    c["parameters"] = ps;
    j["closure"] = c;
  } else {
    j["closure"] = nullptr;
  }
  return j.dump(2) + "\n";
}

std::string spinReportMarkdown(const SpinReport& r) {
  std::string md = fmt::format("# nurec spin: {} (method {})\n\n", r.file, r.method);
  md += fmt::format(
      "{} events read, {} selected, {} analysed, {} reconstruction failures, {} without analysers. "
      "Calibration: {}. Spin truth of the input: {}. Time {:.1f} s.\n\n",
      r.nInput, r.nSelected, r.nAnalysed, r.nFailed, r.nNoAnalyser,
      r.calibrationSource.empty() ? "none (raw estimates)" : "response " + r.calibrationSource,
      r.spinTruthKnown ? "known" : "unknown (no truth reference)", r.seconds);
  for (const auto& w : r.calibrationWarnings) md += "> **Calibration warning:** " + w + ".\n\n";
  md +=
      "Values: calibrated when a calibration is applied (else raw) ± stat [calibration]; 'n/a' "
      "where no error can be computed. 'truth ref.': the per-event analytic production states "
      "(/truth/spin_b, spin_c) averaged over the analysed events with the estimator's weights. "
      "Z and L5σ: statistical, in parentheses with the calibration uncertainty (which does not "
      "shrink with luminosity) added. Flags (⚠) mark results not to be trusted "
      "(docs/quantum.md \"Flags\").\n\n";
  md += markdownTable(r);
  for (const auto& s : r.subsets)
    if (s.calibrationFailed) {
      md +=
          "\n'calibration failed': the response for this subset is singular or missing (some of "
          "the 15 parameters leave no trace in the method's analysers, e.g. a pion's direction is "
          "exactly +-k when the neutrinos are parallel to the visible products); raw values, no "
          "significance.\n";
      break;
    }
  if (!r.channelCombination.empty() || !r.channelsExcluded.empty()) {
    std::string z;
    for (const auto& [k, v] : r.channelCombination)
      z += fmt::format("{}{} {:.1f}", z.empty() ? "" : ", ", k, v);
    std::string ex;
    for (const auto& c : r.channelsExcluded) ex += (ex.empty() ? "" : ", ") + c;
    md += fmt::format(
        "\nChannel combination (quadrature sum of the per-channel statistical Z, flagged channels "
        "excluded): {}{}.\n",
        z.empty() ? "none" : z, ex.empty() ? "" : "; excluded: " + ex);
  }
  const std::string cmp = referenceAgreement(r);
  if (!cmp.empty())
    md +=
        "\nAgreement of the 15 measured parameters with the truth reference (chi2/ndf, stat and "
        "calibration errors, correlations ignored): " +
        cmp + ".\n";
  if (!r.subsets.empty()) {
    const auto& k = r.subsets[0].kinematic;
    md += fmt::format(
        "\nKinematic approach (production angle only, combined): <S²/(1+c²)> = {:.4f} ± {:.4f}; "
        "photon-like C_nn = "
        "{:.4f}, Z-like C_nn = +K<S²/(1+c²)> = {:.4f} (K = {:.4f}).\n",
        k.meanSin2Over1PlusC2, k.error, k.photonLike.c[2][2], k.zLike.c[2][2], k.kFactorZ);
  }
  if (!r.systematics.empty()) {
    md +=
        "\n## Systematics (combined)\n\n| source | C_nn | concurrence (bias-corr.) | m12 | D | "
        "B_opt | Z_ent | "
        "Z_Bell |\n|---|---|---|---|---|---|---|---|\n";
    auto row = [&](const std::string& name, const std::map<std::string, double>& m) {
      auto g = [&](const char* k) {
        return m.count(k) ? fmt::format("{:+.4f}", m.at(k)) : std::string("-");
      };
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", name, g("C_nn"),
                        g("concurrence_unbiased"), g("m12"), g("entanglement_D"), g("bell_opt"),
                        g("Z_entanglement_D"), g("Z_bell_opt"));
    };
    for (const auto& s : r.systematics) row(s.source, s.shift);
    row("**total**", r.totalSystematic);
  }
  if (r.closure.done) {
    md += fmt::format(
        "\n## Closure diagnostic (response fitted on {} even rows of this file, applied to its {} "
        "odd rows; not the headline)\n\n",
        r.closure.nCalibration, r.closure.nTest);
    md += "| parameter | calibrated | truth | pull |\n|---|---|---|---|\n";
    for (std::size_t a = 0; a < r.closure.calibrated.size(); ++a) {
      const auto& p = r.closure.calibrated[a];
      md += fmt::format("| {} | {} [{}] | {:.4f} | {:+.2f} |\n", p.name,
                        formatValueError(p.value, p.stat, 4), formatError(p.calibration, 4),
                        r.closure.truthValues[a], r.closure.pulls[a]);
    }
    md += fmt::format("\nchi2/ndf = {:.1f}/{}\n", r.closure.chi2, r.closure.ndf);
  }
  return md;
}

std::string spinSummaryLine(const SpinReport& rep, double lumiInvFb, const std::string& output) {
  if (rep.subsets.empty()) return "spin: no result\n";
  const auto& comb = rep.subsets.at(0);
  const auto* conc = findObs(shownObs(comb), "concurrence_unbiased");
  // With a calibration, quote Z with its uncertainty included (it does not shrink with luminosity).
  auto z = [&](const char* n) {
    const auto* s = findSig(comb, n);
    if (!s) return std::string("n/a");
    return fmt::format("{:.1f}", comb.isCalibrated ? s->zAtLumiWithCalibration : s->zAtLumi);
  };
  std::string flags;
  for (const auto& f : comb.flags) flags += (flags.empty() ? "" : "; ") + f;
  std::size_t flaggedChannels = 0;
  for (std::size_t k = 1; k < rep.subsets.size(); ++k)
    flaggedChannels += rep.subsets[k].flags.empty() ? 0 : 1;
  return fmt::format(
      "spin: {} events analysed ({} read, {} selected), {} failures, {} without analysers; method "
      "{} ({}): concurrence (bias-corrected) {}, Z({:.0f} fb^-1{}) entanglement {}, Bell {}{}{}{}; "
      "{:.1f} s -> {}\n",
      rep.nAnalysed, rep.nInput, rep.nSelected, rep.nFailed, rep.nNoAnalyser, rep.method,
      comb.isCalibrated ? "calibrated with " + rep.calibrationSource : "NOT calibrated",
      conc ? formatValueError(conc->value, conc->stat) : std::string("n/a"), lumiInvFb,
      comb.isCalibrated ? ", incl. calibration unc." : "", z("entanglement_D"), z("bell_opt"),
      flags.empty() ? "" : "; FLAGGED: " + flags,
      flaggedChannels ? fmt::format("; {} channel(s) flagged (see the .md)", flaggedChannels)
                      : std::string(),
      rep.calibrationWarnings.empty() ? "" : "; calibration warning(s), see the .md", rep.seconds,
      output);
}

void writeSpinReport(const SpinReport& r, const std::string& jsonPath) {
  writeTextFileAtomically(jsonPath, spinReportJson(r));
  std::string base = jsonPath;
  if (base.size() > 5 && base.substr(base.size() - 5) == ".json")
    base = base.substr(0, base.size() - 5);
  writeTextFileAtomically(base + ".md", spinReportMarkdown(r));
  std::string csv = "channel,statistic,lumi_fb,signal,background,z,z_toys\n";
  for (const auto& s : r.subsets)
    for (const auto& sig : s.significance)
      for (const auto& p : sig.scan)
        csv += fmt::format("{},{},{},{:.6g},{:.6g},{:.6g},{}\n", s.channel, sig.statistic,
                           p.lumiInvFb, p.signal, p.background, p.z,
                           p.zToys >= -0.5 ? fmt::format("{:.6g}", p.zToys) : std::string());
  writeTextFileAtomically(base + ".scan.csv", csv);
}

}  // namespace nurec::quantum

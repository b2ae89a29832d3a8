#include "nurec/eval/TTbarEvaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nurec/Version.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/eval/Plot.hpp"

namespace nurec::eval {

namespace {

constexpr const char* kTruthPartons = "/truth/partons";
constexpr const char* kPassSelection = "/reco/pass_sr";
constexpr std::array<const char*, kTTbarPartons> kPartonNames = {
    "b", "bbar", "q", "qbar'", "lepton", "nu", "W+", "W-", "t", "tbar", "ttbar"};
constexpr std::array<const char*, kTTbarComponents> kComponentNames = {"M", "E", "px", "py", "pz"};

// The plotted components and their ranges (docs/ml-unfold.md "Study").
struct SpectrumSpec {
  int component;
  const char* label;
  double lo, hi;
};
constexpr int kSpectrumBins = 60;
constexpr std::array<SpectrumSpec, 4> kSpectra{
    {{8 * kTTbarComponents + 0, "m(t) [GeV]", 120, 230},
     {6 * kTTbarComponents + 0, "m(W+) [GeV]", 40, 120},
     {5 * kTTbarComponents + 4, "pz(nu) [GeV]", -500, 500},
     {10 * kTTbarComponents + 0, "m(t tbar) [GeV]", 300, 1500}}};

void fillBin(std::vector<double>& counts, double lo, double hi, double value) {
  if (!(value >= lo && value < hi)) return;
  const auto b = static_cast<std::size_t>((value - lo) / (hi - lo) * kSpectrumBins);
  counts[std::min<std::size_t>(b, kSpectrumBins - 1)] += 1;
}

std::string componentKey(int c) {
  return fmt::format("{}_{}", kPartonNames[c / kTTbarComponents],
                     kComponentNames[c % kTTbarComponents]);
}

}  // namespace

std::array<DistributionDistances, kTTbarPartons> perPartonSums(
    const std::array<DistributionDistances, kTTbarRecordSize>& components) {
  std::array<DistributionDistances, kTTbarPartons> sums{};
  for (int c = 0; c < kTTbarRecordSize; ++c) sums[c / kTTbarComponents] += components[c];
  return sums;
}

std::string nuPartonsName(const std::string& method) {
  return "/nu/" + method + "/partons";
}
std::string nuChi2Name(const std::string& method) {
  return "/nu/" + method + "/chi2";
}

std::vector<std::string> ttbarMethods(const std::vector<std::string>& datasetNames) {
  std::vector<std::string> out;
  for (const auto& name : datasetNames) {
    const std::string suffix = "/partons";
    if (name.rfind("/nu/", 0) == 0 && name.size() > 4 + suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(name.substr(4, name.size() - 4 - suffix.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TTbarEvaluation evaluateTTbar(const io::EventTable& table, const TTbarEvaluateConfig& config) {
  config.hwhm.validate();
  TTbarEvaluation result;
  result.source = table.source();
  result.eventsInFile = table.nEvents();
  const std::size_t n = table.nEvents();
  const auto truth = table.get<double>(kTruthPartons, {kTTbarPartons, kTTbarComponents});
  std::vector<std::uint8_t> selected(n, 1);
  if (config.selectedOnly) selected = table.get<std::uint8_t>(kPassSelection, {});
  result.eventsSelected = static_cast<std::size_t>(std::count(selected.begin(), selected.end(), 1));
  std::vector<std::string> names;
  for (const auto& [name, column] : table.columns()) names.push_back(name);
  const std::vector<std::string> methods =
      config.methods.empty() ? ttbarMethods(names) : config.methods;
  if (methods.empty())
    throw InputError(
        fmt::format("{}: no /nu/<method>/partons dataset: reconstruct the file first "
                    "(nurec reconstruct --method chi2)",
                    table.source()));
  std::vector<double> column;
  for (int c = 0; c < kTTbarRecordSize; ++c) {
    column.clear();
    for (std::size_t i = 0; i < n; ++i)
      if (selected[i]) column.push_back(truth[i * kTTbarRecordSize + c]);
    result.noiseFloor.distances[c] = samplingNoiseFloor(column);
    result.noiseFloor.sum += result.noiseFloor.distances[c];
  }
  for (const auto& spec : kSpectra) {
    TTbarSpectrum sp{
        spec.component, spec.label, spec.lo, spec.hi, std::vector<double>(kSpectrumBins, 0.0), {}};
    for (std::size_t i = 0; i < n; ++i) {
      if (selected[i])
        fillBin(sp.truth, spec.lo, spec.hi, truth[i * kTTbarRecordSize + spec.component]);
    }
    result.spectra.push_back(std::move(sp));
  }
  for (const auto& method : methods) {
    const auto reco = table.get<double>(nuPartonsName(method), {kTTbarPartons, kTTbarComponents});
    const auto status = table.get<std::int8_t>("/nu/" + method + "/status", {});
    TTbarMethodResult m;
    m.method = method;
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < n; ++i)
      if (selected[i] && (status[i] == 0 || status[i] == 1)) rows.push_back(i);
    m.eventsReconstructed = rows.size();
    std::vector<double> t(rows.size()), r(rows.size()), residual(rows.size());
    for (int c = 0; c < kTTbarRecordSize; ++c) {
      for (std::size_t k = 0; k < rows.size(); ++k) {
        t[k] = truth[rows[k] * kTTbarRecordSize + c];
        r[k] = reco[rows[k] * kTTbarRecordSize + c];
        residual[k] = r[k] - t[k];
      }
      m.resolution[c] = summarizeResiduals(residual, config.hwhm, static_cast<std::uint64_t>(c));
      m.distances[c] = distributionDistances(t, r);
      m.sum += m.distances[c];
    }
    for (auto& sp : result.spectra) {
      std::vector<double> counts(kSpectrumBins, 0.0);
      for (std::size_t row : rows)
        fillBin(counts, sp.lo, sp.hi, reco[row * kTTbarRecordSize + sp.component]);
      sp.methods.push_back(std::move(counts));
    }
    result.methods.push_back(std::move(m));
  }
  return result;
}

std::string ttbarMarkdown(const TTbarEvaluation& res, bool plots) {
  std::string md = fmt::format(
      "# t tbar reconstruction: {}\n\n{} events in the file, {} selected (/reco/pass_sr).\n\n",
      res.source, res.eventsInFile, res.eventsSelected);
  md += "## Distances summed over the 55 components (docs/metrics.md)\n\n";
  md += "| method | reconstructed | W1 [GeV] | energy | KS | KL64 | KL128 | KL256 |\n";
  md += "|---|---|---|---|---|---|---|---|\n";
  auto row = [](const std::string& name, const std::string& events,
                const DistributionDistances& d) {
    return fmt::format("| {} | {} | {:.4g} | {:.4g} | {:.4g} | {:.4g} | {:.4g} | {:.4g} |\n", name,
                       events, d.wasserstein1, d.energy, d.ks, d.kl64, d.kl128, d.kl256);
  };
  for (const auto& m : res.methods)
    md += row(m.method, std::to_string(m.eventsReconstructed), m.sum);
  md += row("*sampling-noise floor*", std::to_string(res.eventsSelected), res.noiseFloor.sum);
  md +=
      "\nThe floor is what a perfect reconstruction would show from the finite sample alone (the "
      "true values' two halves compared, scaled to the full size; docs/metrics.md): a method's "
      "distances near it are consistent with the truth, and differences between methods smaller "
      "than it are not resolved.\n";
  md += "\n## W1 per parton, summed over its M, E, px, py, pz [GeV]\n\n| method |";
  for (const char* name : kPartonNames) md += fmt::format(" {} |", name);
  md += "\n|---|";
  for (int p = 0; p < kTTbarPartons; ++p) md += "---|";
  md += "\n";
  auto partonRow = [](const std::string& name,
                      const std::array<DistributionDistances, kTTbarRecordSize>& components) {
    std::string line = fmt::format("| {} |", name);
    for (const auto& d : perPartonSums(components))
      line += fmt::format(" {:.1f} |", d.wasserstein1);
    return line + "\n";
  };
  for (const auto& m : res.methods) md += partonRow(m.method, m.distances);
  md += partonRow("*sampling-noise floor*", res.noiseFloor.distances);
  if (plots) {
    md +=
        "\n## Spectra: truth (grey) and each method\n\n![m(t), m(W+), pz(nu), m(t "
        "tbar)](spectra.png)\n";
  }
  for (const auto& m : res.methods) {
    md += fmt::format(
        "\n## {}: resolution per parton, HWHM of reco - truth [GeV] (median bias in brackets)\n\n",
        m.method);
    md += "| parton | M | E | px | py | pz |\n|---|---|---|---|---|---|\n";
    for (int p = 0; p < kTTbarPartons; ++p) {
      md += fmt::format("| {} |", kPartonNames[p]);
      for (int k = 0; k < kTTbarComponents; ++k) {
        const auto& r = m.resolution[p * kTTbarComponents + k];
        md += fmt::format(" {:.2f} ({:+.2f}) |", r.hwhm, r.medianBias);
      }
      md += "\n";
    }
  }
  return md;
}

std::string ttbarJson(const TTbarEvaluation& res) {
  using nlohmann::json;
  json j;
  j["schema"] = "nurec-evaluate-ttbar";
  j["schema_version"] = 1;
  j["producer"] = kProducer;
  j["source"] = res.source;
  j["events_in_file"] = res.eventsInFile;
  j["events_selected"] = res.eventsSelected;
  auto distances = [](const DistributionDistances& d) {
    return json{{"w1", d.wasserstein1}, {"energy", d.energy}, {"ks", d.ks},
                {"kl64", d.kl64},       {"kl128", d.kl128},   {"kl256", d.kl256}};
  };
  // JSON has no NaN: components without an estimate are null.
  auto number = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json floor;
  floor["distances_sum"] = distances(res.noiseFloor.sum);
  auto perParton = [&](const std::array<DistributionDistances, kTTbarRecordSize>& components) {
    json out;
    const auto sums = perPartonSums(components);
    for (int p = 0; p < kTTbarPartons; ++p) out[kPartonNames[p]] = distances(sums[p]);
    return out;
  };
  floor["distances_per_parton"] = perParton(res.noiseFloor.distances);
  for (int c = 0; c < kTTbarRecordSize; ++c)
    floor["components"][componentKey(c)] = distances(res.noiseFloor.distances[c]);
  j["sampling_noise_floor"] = floor;
  for (const auto& m : res.methods) {
    json jm;
    jm["events_reconstructed"] = m.eventsReconstructed;
    jm["distances_sum"] = distances(m.sum);
    jm["distances_per_parton"] = perParton(m.distances);
    for (int c = 0; c < kTTbarRecordSize; ++c) {
      const auto& r = m.resolution[c];
      jm["components"][componentKey(c)] = {{"hwhm_gev", number(r.hwhm)},
                                           {"hwhm_error_gev", number(r.hwhmError)},
                                           {"median_bias_gev", number(r.medianBias)},
                                           {"entries", r.entries},
                                           {"distances", distances(m.distances[c])}};
    }
    j["methods"][m.method] = jm;
  }
  return j.dump(2) + "\n";
}

namespace {

// One 2 x 2 figure of the spectra: truth as grey boxes, each method as a line.
Figure spectraFigure(const TTbarEvaluation& res) {
  Figure f;
  f.name = "spectra";
  f.widthPx = 1400;
  f.heightPx = 1000;
  std::ostringstream s;
  s << "set multiplot layout 2,2 title "
    << gnuplotQuote("t tbar: truth and reconstructed, " + res.source)
    << " noenhanced\nset grid lc rgb '#dddddd'\nset key top right box opaque\n"
    << "set style fill solid 0.35 noborder\nset yrange [0:*]\n";
  for (std::size_t k = 0; k < res.spectra.size(); ++k) {
    const TTbarSpectrum& sp = res.spectra[k];
    const double w = (sp.hi - sp.lo) / kSpectrumBins;
    std::string data = "# bin centre, events: truth, then per method\n";
    for (int b = 0; b < kSpectrumBins; ++b) {
      data += fmt::format("{:.6g} {:.0f}", sp.lo + (b + 0.5) * w, sp.truth[b]);
      for (const auto& m : sp.methods) data += fmt::format(" {:.0f}", m[b]);
      data += "\n";
    }
    const std::string file = fmt::format("spectrum{}.dat", k);
    f.dataFiles.emplace_back(file, data);
    s << "set xlabel " << gnuplotQuote(sp.label) << " noenhanced\nset ylabel "
      << gnuplotQuote(fmt::format("events / {:.3g} GeV", w)) << "\n"
      << fmt::format("set xrange [{}:{}]\n", sp.lo, sp.hi)
      << fmt::format("plot 'data/{}' u 1:2:({}) w boxes lc rgb '#999999' t 'truth'", file, w);
    for (std::size_t m = 0; m < res.methods.size(); ++m) {
      s << ", 'data/" << file << "' u 1:" << m + 3 << " w histeps lw 2 lc rgb '" << plotColour(m)
        << "' t " << gnuplotQuote(res.methods[m].method) << " noenhanced";
    }
    s << "\n";
  }
  s << "unset multiplot\n";
  f.body = s.str();
  return f;
}

}  // namespace

void writeTTbarReport(const TTbarEvaluation& result, const std::string& outDir, bool plots) {
  StagedDirectory dir(outDir);
  if (plots) renderFigure(dir.path(), spectraFigure(result));
  writeTextFileAtomically(dir.path() + "/README.md", ttbarMarkdown(result, plots));
  writeTextFileAtomically(dir.path() + "/metrics.json", ttbarJson(result));
  dir.commit();
}

}  // namespace nurec::eval

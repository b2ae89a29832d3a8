#include "nurec/eval/TTbarEvaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "nurec/Version.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"

namespace nurec::eval {

namespace {

constexpr const char* kTruthPartons = "/truth/partons";
constexpr const char* kPassSelection = "/reco/pass_sr";
constexpr std::array<const char*, kTTbarPartons> kPartonNames = {
    "b", "bbar", "q", "qbar'", "lepton", "nu", "W+", "W-", "t", "tbar", "ttbar"};
constexpr std::array<const char*, kTTbarComponents> kComponentNames = {"M", "E", "px", "py", "pz"};

std::string componentKey(int c) {
  return fmt::format("{}_{}", kPartonNames[c / kTTbarComponents],
                     kComponentNames[c % kTTbarComponents]);
}

}  // namespace

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
    result.methods.push_back(std::move(m));
  }
  return result;
}

std::string ttbarMarkdown(const TTbarEvaluation& res) {
  std::string md = fmt::format(
      "# t tbar reconstruction: {}\n\n{} events in the file, {} selected (/reco/pass_sr).\n\n",
      res.source, res.eventsInFile, res.eventsSelected);
  md += "## Distances summed over the 55 components (docs/metrics.md)\n\n";
  md += "| method | reconstructed | W1 [GeV] | energy | KS | KL64 | KL128 | KL256 |\n";
  md += "|---|---|---|---|---|---|---|---|\n";
  for (const auto& m : res.methods)
    md += fmt::format("| {} | {} | {:.4g} | {:.4g} | {:.4g} | {:.4g} | {:.4g} | {:.4g} |\n",
                      m.method, m.eventsReconstructed, m.sum.wasserstein1, m.sum.energy, m.sum.ks,
                      m.sum.kl64, m.sum.kl128, m.sum.kl256);
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
  for (const auto& m : res.methods) {
    json jm;
    jm["events_reconstructed"] = m.eventsReconstructed;
    jm["distances_sum"] = distances(m.sum);
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

void writeTTbarReport(const TTbarEvaluation& result, const std::string& outDir) {
  StagedDirectory dir(outDir);
  writeTextFileAtomically(dir.path() + "/README.md", ttbarMarkdown(result));
  writeTextFileAtomically(dir.path() + "/metrics.json", ttbarJson(result));
  dir.commit();
}

}  // namespace nurec::eval

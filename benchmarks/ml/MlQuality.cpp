// ml_quality: writes several diffusion variants (samplers, step counts, selection rules) into one
// event file, next to whatever /nu/<method> it already holds (e.g. MMC from `nurec reconstruct`),
// so that `nurec evaluate` puts them in one per-channel resolution table (docs/ml.md).
//   ml_quality --data test_mmc.h5 --model models/ztautau_small --out study.h5
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "nurec/core/Random.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/ml/Api.hpp"
#include "nurec/ml/Calibration.hpp"

using namespace nurec;

int main(int argc, char** argv) {
  CLI::App app{"Diffusion variants for a resolution study (docs/ml.md)"};
  std::string data, model, out;
  int threads = 1, candidates = 10;
  std::size_t maxEvents = 0;
  bool solvers = true;
  app.add_option("--data", data, "Event file (nurec simulate, optionally with /nu/mmc)")
      ->required();
  app.add_option("--model", model, "Model directory")->required();
  app.add_option("--out", out, "Output event file")->required();
  app.add_option("--threads", threads, "Intra-op threads");
  app.add_option("--candidates", candidates, "Candidates per event");
  app.add_option("--max-events", maxEvents, "Use only the first N events (0 = all)");
  app.add_flag("!--no-solvers", solvers, "Only the default sampler (no DPM-Solver++ variants)");
  CLI11_PARSE(app, argc, argv);
  io::EventTable table = io::readEventFile(data);
  if (maxEvents > 0 && maxEvents < table.nEvents()) {
    std::vector<std::size_t> rows(maxEvents);
    for (std::size_t i = 0; i < maxEvents; ++i) rows[i] = i;
    table = table.selectRows(rows);
  }
  auto run = [&](const std::string& name, const std::string& sampler, int steps, double eta) {
    ml::DiffusionReconstructOptions o;
    o.modelDir = model;
    o.candidates = candidates;
    o.sampler = sampler;
    o.steps = steps;
    o.eta = eta;
    o.threads = threads;
    o.methodName = name;
    const auto t0 = std::chrono::steady_clock::now();
    ml::reconstructDiffusion(table, o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%-22s %s %3d steps eta %.1f: %.1f s, %.0f candidates/s (%d threads)\n",
                name.c_str(), sampler.c_str(), steps, eta, s, table.nEvents() * candidates / s,
                threads);
    std::fflush(stdout);
  };
  run("diffusion", "ddim", 100, 1.0);  // the default: DDIM-100, eta = 1, per-component median
  // Other selection rules on the same candidates.
  const std::size_t N = table.nEvents(), K = static_cast<std::size_t>(candidates);
  const auto cand = table.get<float>(io::nuCandidatesName("diffusion"), {K, 2, 3});
  const auto status = table.get<std::int8_t>(io::nuStatusName("diffusion"), {});
  const auto vis = table.get<double>(io::ds::recoTauP4, {2, 4});
  const auto type = table.get<std::int8_t>(io::ds::recoTauType, {2});
  for (const char* rule : {"random", "medoid", "tau-mass"}) {
    std::vector<double> p4(N * 8, 0.0);
    for (std::size_t i = 0; i < N; ++i) {
      if (status[i] != 0) continue;
      std::vector<double> c(K * 6), scaled(K * 6);
      std::array<double, 8> v{};
      for (int j = 0; j < 8; ++j) v[j] = vis[i * 8 + j];
      const double pv[2] = {std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]),
                            std::sqrt(v[4] * v[4] + v[5] * v[5] + v[6] * v[6])};
      for (std::size_t j = 0; j < K * 6; ++j) {
        c[j] = cand[i * K * 6 + j];
        scaled[j] = c[j] / pv[(j % 6) / 3];  // units of |p_vis| (close to the model's units)
      }
      const std::array<bool, 2> lep{type[i * 2] >= 2, type[i * 2 + 1] >= 2};
      Rng rng(1, i, streams::ml + 1);
      const auto b =
          ml::selectCandidate(ml::selectionRuleFromName(rule), c, scaled, v, lep, rng.uniform());
      for (int t = 0; t < 2; ++t) {
        for (int j = 0; j < 3; ++j) p4[i * 8 + 4 * t + j] = b[3 * t + j];
        p4[i * 8 + 4 * t + 3] = std::sqrt(b[3 * t] * b[3 * t] + b[3 * t + 1] * b[3 * t + 1] +
                                          b[3 * t + 2] * b[3 * t + 2]);
      }
    }
    std::string name = std::string("diffusion_") + rule;
    for (auto& ch : name) ch = ch == '-' ? '_' : ch;
    table.set(io::nuP4Name(name), {2, 4}, p4);
    table.set(io::nuStatusName(name), {}, status);
  }
  if (solvers) {
    run("diffusion_dpm25", "dpm++2m", 25, 0.0);
    run("diffusion_dpm10", "dpm++2m", 10, 0.0);
    run("diffusion_ddim25", "ddim", 25, 1.0);
  }
  io::writeEventFile(out, table);
  std::printf("ml_quality: %zu events -> %s\n", N, out.c_str());
  return 0;
}

// ml_benchmark: sampling and training speed of the diffusion reconstruction, with peers measured
// in the same run (docs/design.md "Benchmarks"): DDIM-100 vs DPM-Solver++(2M) at 10/20/25 steps,
// encoder once per event vs once per step, and the same architecture in Python PyTorch eager.
//   ml_benchmark [--model DIR] [--data events.h5] [--events 512] [--candidates 10] [--threads 2]
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ml/SyntheticEvents.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/ml/Export.hpp"
#include "nurec/ml/Features.hpp"
#include "nurec/ml/Net.hpp"
#include "nurec/ml/Sampler.hpp"
#include "nurec/ml/Schedule.hpp"
#include "nurec/ml/TrainApi.hpp"

using namespace nurec;
using namespace nurec::ml;
namespace fs = std::filesystem;

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Speed of the diffusion neutrino reconstruction (docs/ml.md)"};
  std::string modelDir = std::string(NUREC_SOURCE_DIR) + "/models/ztautau_small";
  std::string data;
  int events = 512, K = 10, threads = 2, repeat = 2;
  bool python = true;
  app.add_option("--model", modelDir,
                 "Model directory (default: the shipped model; a randomly "
                 "initialised default config if it does not exist)");
  app.add_option("--data", data, "Event file (default: synthetic events)");
  app.add_option("--events", events, "Events per batch");
  app.add_option("--candidates", K, "Candidates per event");
  app.add_option("--threads", threads, "Intra-op threads");
  app.add_option("--repeat", repeat, "Repetitions (the best is reported)");
  app.add_flag("!--no-python", python, "Skip the Python PyTorch peer");
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(threads);

  LoadedModel lm;
  if (fs::exists(fs::path(modelDir) / "model.pt")) {
    lm = loadModelDir(modelDir);
  } else {
    std::printf("(no model in %s: using the default config with random weights)\n",
                modelDir.c_str());
    lm.config = DiffusionConfig::fromFile(std::string(NUREC_SOURCE_DIR) +
                                          "/configs/diffusion_ztautau.yaml");
    torch::manual_seed(1);
    lm.net = makeNet(lm.config);
    modelDir = (fs::temp_directory_path() / "nurec-ml-benchmark-model").string();
    saveModelDir(lm.net, lm.config, modelDir);
  }
  const io::EventTable table =
      data.empty() ? ml::testing::makeSyntheticEvents(events * 2, 5) : io::readEventFile(data);
  std::vector<std::size_t> rows = selectRows(table, false, {});
  if (rows.size() > static_cast<std::size_t>(events)) rows.resize(events);
  const EventData ed =
      buildEventData(table, rows, lm.config.train.azimuth == "canonical", false, lm.config.inputs);
  const auto B = static_cast<std::int64_t>(ed.n);
  const torch::Tensor x = torch::from_blob(const_cast<float*>(ed.x.data()),
                                           {B, kNumSlots, static_cast<std::int64_t>(ed.features())})
                              .clone();
  const torch::Tensor mask =
      torch::from_blob(const_cast<std::uint8_t*>(ed.mask.data()), {B, kNumSlots}, torch::kUInt8)
          .to(torch::kBool);
  const torch::Tensor ch =
      torch::from_blob(const_cast<std::int64_t*>(ed.channel.data()), {B}, torch::kInt64).clone();
  std::vector<std::uint64_t> ids(ed.row.begin(), ed.row.end());
  DiffusionNet& net = lm.net;
  const BoundedCosineSchedule schedule(lm.config.schedule.lambdaMin, lm.config.schedule.lambdaMax);
  std::printf(
      "ml_benchmark: %lld events x %d candidates, %d intra-op threads, model %s\n"
      "  encoder D=%d L=%d H=%d k=%d, head W=%d x %d blocks\n",
      static_cast<long long>(B), K, threads, modelDir.c_str(), lm.config.encoder.width,
      lm.config.encoder.layers, lm.config.encoder.heads, lm.config.encoder.knn,
      lm.config.head.width, lm.config.head.blocks);

  torch::InferenceMode guard;
  auto timeSampling = [&](SamplerKind kind, int steps, double eta, bool encoderPerStep) {
    const SamplerGrid grid = makeSamplerGrid(schedule, kind, steps, eta);
    double best = 1e30;
    for (int r = 0; r < repeat; ++r) {
      const double t0 = now();
      torch::Tensor tg = torch::empty({steps});
      for (int i = 0; i < steps; ++i) tg[i] = grid.steps[i].t;
      const torch::Tensor temb = net->timeEmbedding(tg);
      torch::Tensor cond = net->encode(x, mask, ch);
      const VelocityFn fn = [&](const torch::Tensor& z, int i) {
        if (encoderPerStep) cond = net->encode(x, mask, ch);
        return net->velocity(cond, temb[i].unsqueeze(0), z);
      };
      const torch::Tensor z = sampleCandidates(grid, fn, ids, K, kNumTargets, 1);
      best = std::min(best, now() - t0);
    }
    return static_cast<double>(B * K) / best;
  };
  // Encoder alone.
  double encBest = 1e30;
  for (int r = 0; r < repeat + 1; ++r) {
    const double t0 = now();
    net->encode(x, mask, ch);
    encBest = std::min(encBest, now() - t0);
  }
  std::printf("  encoder: %.0f events/s\n", B / encBest);
  struct Row {
    std::string name;
    SamplerKind kind;
    int steps;
    double eta;
    bool perStep;
  };
  const std::vector<Row> table2 = {
      {"DDIM eta=1, 100 steps", SamplerKind::Ddim, 100, 1.0, false},
      {"DDIM eta=0, 100 steps", SamplerKind::Ddim, 100, 0.0, false},
      {"DPM-Solver++(2M), 25 steps", SamplerKind::DpmSolverPp2M, 25, 0, false},
      {"DPM-Solver++(2M), 20 steps", SamplerKind::DpmSolverPp2M, 20, 0, false},
      {"DPM-Solver++(2M), 10 steps", SamplerKind::DpmSolverPp2M, 10, 0, false},
      {"DDIM eta=1, 100 steps, encoder every step", SamplerKind::Ddim, 100, 1.0, true}};
  std::printf("\n| sampler | candidates/s | vs DDIM-100 |\n|---|---:|---:|\n");
  double ref = 0;
  for (const auto& r : table2) {
    const double c = timeSampling(r.kind, r.steps, r.eta, r.perStep);
    if (ref == 0) ref = c;
    std::printf("| %s | %.0f | %.2fx |\n", r.name.c_str(), c, c / ref);
  }
  // Training samples/s (forward + backward + Lion + EMA), batch 256.
  double trainRate = 0;
  {
    c10::InferenceMode off(false);
    DiffusionNet tn = makeNet(lm.config);
    DiffusionNet ema = makeNet(lm.config);
    Lion lion(tn->parameters(), 0.9, 0.99, 0.05);
    const std::int64_t bs = std::min<std::int64_t>(256, B);
    const torch::Tensor xb = x.narrow(0, 0, bs).clone(), mb = mask.narrow(0, 0, bs).clone();
    const torch::Tensor cb = ch.narrow(0, 0, bs).clone();
    double best = 1e30;
    for (int r = 0; r < repeat + 1; ++r) {
      const double t0 = now();
      const int n = 5;
      for (int s = 0; s < n; ++s) {
        const torch::Tensor z = torch::randn({bs, kNumTargets}), t = torch::rand({bs});
        const torch::Tensor loss = (tn->forward(xb, mb, cb, z, t) - z).pow(2).mean();
        tn->zero_grad();
        loss.backward();
        clipGradNorm(tn->parameters(), 1.0);
        lion.step(1e-4);
        emaUpdate(*ema, *tn, 0.999);
      }
      best = std::min(best, (now() - t0) / n);
    }
    trainRate = bs / best;
    std::printf("\ntraining (batch %lld, forward + backward + Lion + EMA): %.0f samples/s\n",
                static_cast<long long>(bs), trainRate);
  }
  if (python) {
    const std::string ts = (fs::temp_directory_path() / "nurec-ml-benchmark-ts.pt").string();
    {
      c10::InferenceMode off(false);
      exportTorchScript(modelDir, ts);
    }
    const std::string cmd = fmt::format(
        "/usr/bin/python3 {}/benchmarks/ml/python_peer.py --model {} --events {} --candidates {} "
        "--threads {} --repeat {}",
        NUREC_SOURCE_DIR, ts, B, K, threads, repeat);
    std::printf("\nPython PyTorch eager peer (same weights, same batch): %s\n", cmd.c_str());
    std::fflush(stdout);
    if (std::system(cmd.c_str()) != 0) std::printf("(python peer failed or unavailable)\n");
  }
  return 0;
}

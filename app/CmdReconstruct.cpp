// `nurec reconstruct events.h5 --method collinear|mmc|fastmtt|diffusion --out nu.h5`: neutrino
// reconstruction; the output holds everything of the input plus /nu/<method>/ (docs/reco.md).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "app/Command.hpp"
#include "nurec/Version.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/io/Shards.hpp"
#include "nurec/reco/Reconstruct.hpp"
#ifdef NUREC_ML_AVAILABLE
#include "nurec/ml/Api.hpp"
#endif

namespace nurec::app {
namespace {

struct ReconstructOptions {
  std::string input, output, method;
  std::uint64_t seed = 1;
  // MMC
  std::string mmcPdfs, mmcScan = "random", mmcEstimator = "mlm", mmcWeight = "kinematic";
  int mmcPoints = reco::MmcConfig{}.points;
  bool mmcTauProbability = false;
  double metK = reco::MetResolutionModel{}.stochasticTermSqrtGeV;
  double metFloor = reco::MetResolutionModel{}.floorGeV;
  // FastMTT
  int fastMttGrid = reco::FastMttConfig{}.gridPoints;
  // Collinear
  double minAbsSinDphi = reco::CollinearConfig{}.minAbsSinDeltaPhi;
  // Diffusion (src/ml)
  std::string model, sampler, selection = "median";
  int candidates = 10, steps = 0;
  double eta = -1;  // DDIM eta; -1 (option not given) = the model's default
  // Streaming and sharding
  std::size_t chunkEvents = io::kDefaultChunkEvents;
  std::string shard;  // "i/N": only the i-th of N equal row ranges (0-based)
};

// Runs the method on one chunk of the file (all of it when it fits in one); adds /nu/<method>/.
void reconstructChunk(io::EventTable& table, const ReconstructOptions& o, int threads,
                      bool progress) {
  if (o.method == "diffusion") {
#ifdef NUREC_ML_AVAILABLE
    ml::DiffusionReconstructOptions d;
    d.modelDir = o.model;
    d.candidates = o.candidates;
    d.steps = o.steps;
    d.sampler = o.sampler;
    d.selection = o.selection;
    d.eta = o.eta;
    d.seed = o.seed;
    d.threads = threads;
    d.progress = progress;
    if (d.modelDir.empty()) d.modelDir = ml::defaultModelDirectory();
    ml::reconstructDiffusion(table, d);
    table.setAttribute(io::nuModelAttribute(o.method), io::diffusionModelLabel(d.modelDir));
#else
    throw ConfigError(
        "reconstruct --method diffusion: this nurec was built without the ML library (LibTorch "
        "not found or NUREC_WITH_TORCH=OFF); rebuild with LibTorch, or use collinear, mmc or "
        "fastmtt");
#endif
  } else {
    reco::ClassicalRecoConfig c;
    c.seed = o.seed;
    c.progress = progress;
    c.collinear.minAbsSinDeltaPhi = o.minAbsSinDphi;
    c.mmc.pdfPath = o.mmcPdfs;
    c.mmc.points = o.mmcPoints;
    c.mmc.useTauProbability = o.mmcTauProbability;
    c.mmc.met.stochasticTermSqrtGeV = o.metK;
    c.mmc.met.floorGeV = o.metFloor;
    c.fastMtt.met = c.mmc.met;
    c.fastMtt.gridPoints = o.fastMttGrid;
    c.ip.met = c.mmc.met;
    if (o.mmcWeight == "angle-table") c.mmc.weight = reco::MmcWeight::AngleTable;
    if (o.mmcScan == "markov") c.mmc.scan = reco::MmcScan::Markov;
    if (o.mmcEstimator == "maxw") c.mmc.massEstimator = reco::MmcMassEstimator::Maxw;
    if (o.mmcEstimator == "mlnu3p") c.mmc.massEstimator = reco::MmcMassEstimator::Mlnu3p;
    reco::reconstructClassical(table, o.method, c, threads);
  }
}

int runReconstruct(const ReconstructOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  checkOutputPath("--out", o.output, OutputKind::File);  // --out = input updates it in place
  // Taken before the input is read: a second in-place writer waits and then reads our result.
  const OutputLock lock(o.output);
  const io::EventFileReader reader(o.input);
  const io::ShardRange rows = io::shardRows(o.shard, reader.nEvents());
  const int threads = commonOptions().threads;
  // The file is streamed in chunks (docs/data-format.md); every per-event random stream is seeded
  // with the event's index in the input, so chunks and shards give the rows of a whole-file run.
  // Chunks are whole blocks of io::kRowBlock rows, like shards (io/Shards.hpp says why).
  const std::size_t chunk = (o.chunkEvents + io::kRowBlock - 1) / io::kRowBlock * io::kRowBlock;
  const bool oneChunk = rows.count <= chunk;
  Progress progress(fmt::format("reconstruct {} (events)", o.method), rows.count,
                    !oneChunk && !commonOptions().quiet);
  io::EventFileWriter writer(o.output, rows.count);
  std::map<int, std::int64_t> counts;
  // At least one chunk, so that an empty input still defines the output's datasets.
  std::size_t done = 0;
  do {
    const std::size_t take = std::min(chunk, rows.count - done);
    io::EventTable table = reader.read(rows.first + done, take);
    reconstructChunk(table, o, threads, oneChunk && !commonOptions().quiet);
    table.setAttribute("producer", std::string(kProducer));
    for (const auto s : table.get<std::int8_t>(io::nuStatusName(o.method), {})) ++counts[s];
    writer.setAttributes(table.attributes());
    writer.append(table);
    progress.advance(take);
    done += take;
  } while (done < rows.count);
  progress.finish();
  if (!o.shard.empty()) {
    // Where this part belongs; `nurec merge` checks and removes these.
    writer.setAttribute(io::kShardAttribute, o.shard);
    writer.setAttribute(io::kShardFirstRowAttribute, static_cast<std::int64_t>(rows.first));
    writer.setAttribute(io::kShardSourceEventsAttribute,
                        static_cast<std::int64_t>(reader.nEvents()));
  }
  if (counts[0] == 0)
    emptyResult(fmt::format("reconstruct {}: no event of {}{} was reconstructed", o.method, o.input,
                            o.shard.empty() ? "" : " (shard " + o.shard + ")"));
  writer.commit();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string parts;
  for (const auto& [code, count] : counts) {
    const char* name = (o.method != "diffusion" && code >= 0 && code < reco::kNumStatusCodes)
                           ? reco::statusName(static_cast<reco::RecoStatus>(code))
                           : "status";
    parts += fmt::format("{}{} {} ({})", parts.empty() ? "" : ", ", count, name, code);
  }
  const std::int64_t ok = counts.count(0) ? counts[0] : 0;
  std::printf("reconstruct %s: %zu events%s, %lld ok, %lld failed [%s] in %.1f s -> %s\n",
              o.method.c_str(), rows.count,
              o.shard.empty() ? ""
                              : fmt::format(" (shard {}: rows {}-{} of {})", o.shard, rows.first,
                                            rows.first + rows.count, reader.nEvents())
                                    .c_str(),
              static_cast<long long>(ok),
              static_cast<long long>(static_cast<std::int64_t>(rows.count) - ok), parts.c_str(),
              seconds, o.output.c_str());
  return 0;
}

std::function<int()> setupReconstruct(CLI::App& cmd) {
  auto o = std::make_shared<ReconstructOptions>();
  cmd.footer(
      "Methods (docs/physics.md section 9, docs/reco.md):\n"
      "  collinear  neutrinos parallel to the visible taus and alone making the MET; fails for\n"
      "             taus back to back in phi (status 3) or an energy fraction x outside (0,1] (4)\n"
      "  mmc        Missing Mass Calculator: scans the neutrino azimuths, m_nunu of leptonic taus\n"
      "             and the MET within its resolution, weights each solution (decay phase space,\n"
      "             P(m_nunu) from the shipped likelihood table; or the paper's angle table\n"
      "             P(dtheta | p_tau, type)); m_tautau = mode of the weighted\n"
      "             histogram (MLM), neutrinos from the modes of their momentum components\n"
      "             (MLNU3P); no solution in the scan = status 5\n"
      "  fastmtt    likelihood in the energy fractions (x1, x2) on a grid: MET transfer function\n"
      "             times the decay x-distributions; status 6 if it vanishes everywhere\n"
      "  ip         impact-parameter method: each hadronic tau along the plane of its track and\n"
      "             impact-parameter vector, |p| from the tau mass, leptonic taus collinear; the\n"
      "             pair that best explains the MET and the flight length (needs /reco/track_ip:\n"
      "             generator vertex positions); status 5 if no pair exists\n"
      "  diffusion  the conditional diffusion model (needs --model, built with LibTorch)\n"
      "Writes /nu/<method>/p4 (N,2,4), /nu/<method>/status (N; 0 ok, 1 no channel, 2 invalid\n"
      "input, 3-6 as above) and /nu/<method>/mtautau; failed events have zero four-vectors.\n"
      "MET resolution: sigma = max(floor, k sqrt(sum E_T)) per component.");
  cmd.add_option("events", o->input, "Input event file with a /reco group (nurec simulate)")
      ->required();
  cmd.add_option("--method", o->method, "collinear, mmc, fastmtt, ip or diffusion")
      ->required()
      ->check(CLI::IsMember({"collinear", "mmc", "fastmtt", "ip", "diffusion"}));
  cmd.add_option("--out", o->output, "Output event file (input + /nu/<method>)")->required();
  cmd.add_option("--seed", o->seed,
                 "Run seed of the per-event random streams (MMC scan, diffusion)")
      ->capture_default_str();
  addThreadsOption(cmd);
  addChunkOption(cmd, o->chunkEvents);
  cmd.add_option("--shard", o->shard,
                 "i/N: reconstruct only part i (0-based) of N equal row ranges and write them "
                 "alone; `nurec merge` joins the parts into the file of a single run");
  cmd.add_option("--mmc-pdfs", o->mmcPdfs,
                 "MMC likelihood table (default: the shipped data/mmc/mmc_pdfs_v1.json)");
  cmd.add_option("--mmc-points", o->mmcPoints, "MMC scan points (or Markov steps) per event")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  cmd.add_option("--mmc-scan", o->mmcScan, "MMC scan: random (independent points) or markov")
      ->check(CLI::IsMember({"random", "markov"}))
      ->capture_default_str();
  cmd.add_option("--mmc-estimator", o->mmcEstimator,
                 "m_tautau written by MMC: mlm (mode of weighted histogram), maxw (highest-weight "
                 "solution) or mlnu3p (mass of the MLNU3P neutrinos)")
      ->check(CLI::IsMember({"mlm", "maxw", "mlnu3p"}))
      ->capture_default_str();
  cmd.add_option("--mmc-weight", o->mmcWeight,
                 "MMC solution weight: kinematic (decay phase space, flat in x) or "
                 "angle-table (the MMC paper's P(dtheta | p_tau, type) from the table)")
      ->check(CLI::IsMember({"kinematic", "angle-table"}))
      ->capture_default_str();
  cmd.add_flag(
      "--mmc-tau-probability", o->mmcTauProbability,
      "angle-table weight: also multiply by the decay x-distribution f(x) (docs/physics.md 6)");
  cmd.add_option("--met-k", o->metK, "MET resolution stochastic term k [GeV^1/2]")
      ->capture_default_str();
  cmd.add_option("--met-floor", o->metFloor, "MET resolution floor [GeV]")->capture_default_str();
  cmd.add_option("--fastmtt-grid", o->fastMttGrid, "FastMTT grid points per x axis")
      ->capture_default_str();
  cmd.add_option("--min-abs-sin-dphi", o->minAbsSinDphi,
                 "Collinear: minimum |sin dphi(vis1, vis2)| before an event counts as back to back")
      ->capture_default_str();
  cmd.add_option("--model", o->model,
                 "Diffusion: model directory (nurec train, or models/<name>; default: the "
                 "shipped models/ztautau_ip)");
  cmd.add_option("--candidates", o->candidates, "Diffusion: samples per event")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd.add_option("--steps", o->steps, "Diffusion: sampler steps (0 = the model's default)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  cmd.add_option("--sampler", o->sampler, "Diffusion: ddim or dpm++2m (default: the model's)");
  // NaN passes CLI::Range (every comparison is false), so the range is checked here.
  const CLI::Validator unitInterval(
      [](std::string& text) -> std::string {
        double v = 0;
        try {
          std::size_t used = 0;
          v = std::stod(text, &used);
          if (used != text.size()) return "not a number: '" + text + "'";
        } catch (const std::exception&) {
          return "not a number: '" + text + "'";
        }
        return v >= 0 && v <= 1 ? std::string() : "must be in [0, 1] (got " + text + ")";
      },
      "in [0, 1]");
  cmd.add_option("--eta", o->eta,
                 "Diffusion: DDIM eta in [0, 1] (1 = ancestral, 0 = deterministic; default: the "
                 "model's)")
      ->check(unitInterval);
  cmd.add_option("--selection", o->selection,
                 "Diffusion: how the best estimate is chosen from the candidates")
      ->capture_default_str();
  return [o] { return runReconstruct(*o); };
}

const CommandRegistrar registrar({"reconstruct",
                                  "Reconstruct the neutrinos: collinear, MMC, FastMTT or diffusion",
                                  40, setupReconstruct});

}  // namespace
}  // namespace nurec::app

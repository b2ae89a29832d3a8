// reconstructDiffusion (ml/Api.hpp): encoder once per event, K candidates batched as rows, a
// precomputed sampler grid and time-embedding table, per-event noise streams (docs/ml-methods.md
// sections 3, 5, 7, 8).
#include "nurec/ml/Api.hpp"

#include <ATen/Parallel.h>
#include <omp.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <new>
#include <sstream>

#include "nurec/core/Error.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/ShippedFiles.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/ml/Calibration.hpp"
#include "nurec/ml/Features.hpp"
#include "nurec/ml/Net.hpp"
#include "nurec/ml/Resources.hpp"
#include "nurec/ml/Sampler.hpp"

namespace nurec::ml {

namespace fs = std::filesystem;

namespace {

constexpr std::int8_t kStatusOk = 0, kStatusNoChannel = 1, kStatusNonFinite = 2, kStatusNoModel = 3;

struct ModelSet {
  std::map<int, LoadedModel> perChannel;  // channel -> model (key -1: one shared model)
};

ModelSet loadModels(const std::string& dir) {
  ModelSet s;
  if (fs::exists(fs::path(dir) / "model.pt")) {
    s.perChannel.emplace(-1, loadModelDir(dir));
    return s;
  }
  for (int c = 0; c < kNumChannels; ++c) {
    const fs::path sub = fs::path(dir) / ("channel_" + std::to_string(c));
    if (fs::exists(sub / "model.pt")) s.perChannel.emplace(c, loadModelDir(sub.string()));
  }
  if (s.perChannel.empty()) {
    throw InputError("model directory '" + dir +
                     "' holds no model (expected model.pt + config.yaml from `nurec train`, or "
                     "channel_<c>/ subdirectories of a per-channel training)");
  }
  return s;
}

void checkOptions(const DiffusionReconstructOptions& options) {
  auto range = [](const char* what, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi)) {
      std::ostringstream m;
      m << "diffusion: " << what << " must be in [" << lo << ", " << hi << "] (got " << v << ")";
      throw ConfigError(m.str());
    }
  };
  range("--candidates", options.candidates, 1, kMaxCandidates);
  range("--steps", options.steps, 0, kMaxSamplerSteps);
  range("the batch size", options.batchEvents, 1, kMaxBatchEvents);
  // NaN must not fall through to "the model's default" (docs/reliability.md).
  if (std::isnan(options.eta) || options.eta > 1) {
    std::ostringstream m;
    m << "diffusion: --eta must be in [0, 1] (got " << options.eta << ")";
    throw ConfigError(m.str());
  }
  require(options.threads >= 0, "diffusion: --threads must be >= 0");
  options.massHypothesis.validate();
  if (options.massHypothesis.enabled() && !options.selection.empty()) {
    throw ConfigError(
        "diffusion: --mass-hypothesis makes its own estimate (the weighted median); "
        "drop --selection '" +
        options.selection + "'");
  }
  require(!options.methodName.empty(), "diffusion: empty method name");
}

void reconstructWithModels(io::EventTable& table, const DiffusionReconstructOptions& options,
                           ModelSet& models);

// The ML boundary: LibTorch errors and allocation failures become nurec errors with one line of
// text instead of a stack trace (docs/reliability.md).
template <class F>
void atMlBoundary(F&& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    throw Error("diffusion: LibTorch error: " + firstLineOf(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    throw Error("diffusion: out of memory; lower --candidates or use fewer --threads");
  }
}

}  // namespace

struct DiffusionReconstructor::Impl {
  DiffusionReconstructOptions options;
  ModelSet models;
};

DiffusionReconstructor::DiffusionReconstructor(const DiffusionReconstructOptions& options)
    : impl_(std::make_unique<Impl>()) {
  checkOptions(options);
  if (!options.selection.empty())
    selectionRuleFromName(options.selection);  // a bad rule fails before the model is read
  impl_->options = options;
  atMlBoundary([&] { impl_->models = loadModels(options.modelDir); });
}

DiffusionReconstructor::~DiffusionReconstructor() = default;

void DiffusionReconstructor::reconstruct(io::EventTable& table, bool progress) {
  DiffusionReconstructOptions options = impl_->options;
  options.progress = progress;
  atMlBoundary([&] { reconstructWithModels(table, options, impl_->models); });
}

void reconstructDiffusion(io::EventTable& table, const DiffusionReconstructOptions& options) {
  DiffusionReconstructor(options).reconstruct(table, options.progress);
}

namespace {

// The selection rule in force: --selection, else the model's own (sampler.selection).
const std::string& selectionOf(const DiffusionReconstructOptions& options,
                               const DiffusionConfig& model) {
  return options.selection.empty() ? model.sampler.selection : options.selection;
}

constexpr std::array<double, 3> kMassQuantiles = {0.16, 0.5, 0.84};

// The 16/50/84 % quantiles of m_tautau over an event's candidates: visible taus (vis, lab frame,
// (2,4)) plus each candidate's neutrino systems (cands, (K,2,3), massless as in /nu/<m>/p4).
std::array<double, 3> candidateMassQuantiles(const std::vector<double>& cands,
                                             const std::array<double, 8>& vis) {
  std::vector<double> masses = candidatePairMasses(cands, vis);
  std::sort(masses.begin(), masses.end());
  return {quantileSorted(masses, kMassQuantiles[0]), quantileSorted(masses, kMassQuantiles[1]),
          quantileSorted(masses, kMassQuantiles[2])};
}

void reconstructWithModels(io::EventTable& table, const DiffusionReconstructOptions& options,
                           ModelSet& models) {
  validateRecoInputs(table);
  // Determinism independent of the thread count (docs/design.md): every batch of events runs on ONE
  // intra-op thread, and batches run in parallel on the requested threads. Batch composition is
  // fixed by batchEvents, so the floating-point reductions, and hence the output, are bit-identical
  // for any --threads (intra-op threading would change the blocking of matmuls and sums).
  const IntraOpThreads oneIntraOpThread(1);

  const std::size_t N = table.nEvents();
  const std::int64_t K = options.candidates;
  {
    const int workers = options.threads > 0 ? options.threads : hardwareThreads();
    const std::size_t batches =
        (N + static_cast<std::size_t>(options.batchEvents) - 1) / options.batchEvents;
    const int concurrent = static_cast<int>(std::min<std::size_t>(batches, workers));
    double need = 0;
    for (const auto& [c, lm] : models.perChannel) {
      const int steps = options.steps > 0 ? options.steps : lm.config.sampler.steps;
      need = std::max(need, reconstructionMemoryBytes(lm.config, N, options.candidates, steps,
                                                      options.batchEvents, concurrent));
    }
    requireMemory(
        need, availableMemoryBytes(),
        "diffusion with " + std::to_string(K) + " candidates for " + std::to_string(N) + " events",
        "lower --candidates or --threads, or split the file");
  }
  std::vector<double> p4(N * 8, 0.0);
  std::vector<float> cand(N * K * 6, 0.0f);
  std::vector<double> mass(N, 0.0);  // median over the candidates, 0 for failed events
  std::vector<double> massQuantiles(N * 3, std::numeric_limits<double>::quiet_NaN());
  std::vector<std::int8_t> status(N, kStatusNoChannel);
  // Events with a channel that no model serves (per-channel model sets) keep status 3.
  for (std::size_t r : selectRows(table, false, {})) status[r] = kStatusNoModel;
  const std::vector<std::size_t> allRows = selectRows(table, false, {});

  Progress progress("diffusion", allRows.size(), options.progress);
  for (auto& [modelChannel, lm] : models.perChannel) {
    torch::InferenceMode guard;
    std::vector<std::size_t> rows;
    if (modelChannel < 0) {
      rows = allRows;
    } else {
      rows = selectRows(table, false, {modelChannel});
    }
    if (rows.empty()) continue;
    const DiffusionConfig& cfg = lm.config;
    const SamplerKind kind =
        samplerKindFromName(options.sampler.empty() ? cfg.sampler.name : options.sampler);
    const int steps = options.steps > 0 ? options.steps : cfg.sampler.steps;
    const double eta = options.eta >= 0 ? options.eta : cfg.sampler.eta;
    const SelectionRule rule = selectionRuleFromName(selectionOf(options, cfg));
    const BoundedCosineSchedule schedule(cfg.schedule.lambdaMin, cfg.schedule.lambdaMax);
    const SamplerGrid grid = makeSamplerGrid(schedule, kind, steps, eta);
    DiffusionNet& net = lm.net;
    // Time-embedding table, once per (model, grid): N x W.
    torch::Tensor tgrid = torch::empty({steps});
    for (int i = 0; i < steps; ++i) tgrid[i] = grid.steps[i].t;
    const torch::Tensor tembTable = net->timeEmbedding(tgrid);
    const torch::Tensor yMean = net->yMean(), yStd = net->yStd();
    const EventData ed =
        buildEventData(table, rows, cfg.train.azimuth == "canonical", false, cfg.inputs,
                       options.threads, targetFrameFromName(cfg.train.targetFrame));
    const std::int64_t F = ed.features();

    // A batch is the events of one block of batchEvents consecutive rows of the file. BLAS picks
    // its kernels, and so the order of its sums, by the matrix sizes and an event's position, so
    // batches must not depend on how the file is split: chunks and shards start at block
    // boundaries (io::kRowBlock), and every event's candidates are then the same bit for bit.
    const auto blockRows = static_cast<std::size_t>(options.batchEvents);
    std::vector<std::size_t> batchStart;
    for (std::size_t e = 0; e < ed.n; ++e) {
      if (e == 0 || (table.firstRow() + ed.row[e]) / blockRows !=
                        (table.firstRow() + ed.row[e - 1]) / blockRows)
        batchStart.push_back(e);
    }
    batchStart.push_back(ed.n);
    const std::size_t nBatches = batchStart.size() - 1;
    parallelFor(nBatches, options.threads, [&](std::size_t batch) {
      torch::InferenceMode workerGuard;  // thread-local
      // at::set_num_threads(1) above reaches this thread only if ATen initialised it after the
      // call: a pooled worker keeps OpenMP's default of all cores, splits its ops across them
      // and changes the order of sums (seen: candidates that depended on --threads and
      // --chunk-events). OpenMP's thread count is per thread, so every worker sets its own.
      omp_set_num_threads(1);
      const std::size_t b0 = batchStart[batch];
      const std::size_t nb = batchStart[batch + 1] - b0;
      const auto B = static_cast<std::int64_t>(nb);
      torch::Tensor x =
          torch::from_blob(const_cast<float*>(&ed.x[b0 * kNumSlots * F]), {B, kNumSlots, F})
              .clone();
      torch::Tensor mask = torch::from_blob(const_cast<std::uint8_t*>(&ed.mask[b0 * kNumSlots]),
                                            {B, kNumSlots}, torch::kUInt8)
                               .to(torch::kBool);
      torch::Tensor ch =
          torch::from_blob(const_cast<std::int64_t*>(&ed.channel[b0]), {B}, torch::kInt64).clone();
      const torch::Tensor condBase = net->encode(x, mask, ch);  // once per event
      const VelocityFn fn = [&](const torch::Tensor& z, int step) {
        return net->velocity(condBase, tembTable[step].unsqueeze(0), z);
      };
      std::vector<std::uint64_t> ids(nb);
      // Noise streams of the event's index in its file (chunked files give the same candidates).
      for (std::size_t i = 0; i < nb; ++i) ids[i] = table.firstRow() + ed.row[b0 + i];
      const torch::Tensor z = sampleCandidates(grid, fn, ids, K, kNumTargets, options.seed);
      const torch::Tensor zs = z.contiguous();  // normalised units (medoid distance)
      const torch::Tensor y = (z * yStd + yMean).to(torch::kFloat64).contiguous();
      const float* zp = zs.data_ptr<float>();
      const double* yp = y.data_ptr<double>();
      for (std::size_t i = 0; i < nb; ++i) {
        const std::size_t e = b0 + i, row = ed.row[e];
        std::vector<double> cands(K * 6), scaled(K * 6);
        bool finite = true;
        for (std::int64_t k = 0; k < K; ++k) {
          for (int t = 0; t < 2; ++t) {
            const std::array<double, 3> nu = neutrinoFromTarget(
                ed.frame, &yp[(i * K + k) * 6 + 3 * t], &ed.visP4[e * 8 + t * 4], ed.rotation[e]);
            double* o = &cands[k * 6 + 3 * t];
            for (int j = 0; j < 3; ++j) {
              o[j] = nu[j];
              finite = finite && std::isfinite(o[j]);
            }
          }
          for (int j = 0; j < 6; ++j) scaled[k * 6 + j] = zp[(i * K + k) * 6 + j];
        }
        if (!finite) {
          status[row] = kStatusNonFinite;
          continue;
        }
        std::array<double, 8> vis{};
        for (int j = 0; j < 8; ++j) vis[j] = ed.visP4[e * 8 + j];
        const float* xe = &ed.x[e * kNumSlots * F];
        auto isLepton = [&](int slot) {
          const float* f = xe + slot * F;
          return f[feat::typeE] > 0.5f || f[feat::typeMu] > 0.5f;
        };
        const std::array<bool, 2> leptonic{isLepton(0), isLepton(2)};
        Rng pickRng(options.seed, table.firstRow() + row, streams::ml + 1);
        const bool hypothesis = options.massHypothesis.enabled();
        std::array<double, 6> best{};
        std::array<double, 3> massQ{};
        if (hypothesis) {
          // The candidates re-weighted to the posterior under the resonance prior: the estimate
          // and the mass quantiles are weighted (docs/ml.md "Mass hypothesis").
          const std::vector<double> masses = candidatePairMasses(cands, vis);
          const std::vector<double> w = massHypothesisWeights(masses, options.massHypothesis);
          best = weightedComponentMedian(cands, w);
          for (int j = 0; j < 3; ++j) massQ[j] = weightedQuantile(masses, w, kMassQuantiles[j]);
          if (!std::isfinite(massQ[1])) {  // no candidate with a positive pair mass
            status[row] = kStatusNonFinite;
            continue;
          }
        } else {
          best = selectCandidate(rule, cands, scaled, vis, leptonic, pickRng.uniform());
          // Per-event uncertainty of m_tautau: its 16/50/84 % quantiles over the candidates
          // (docs/ml.md "Per-event mass quantiles").
          massQ = candidateMassQuantiles(cands, vis);
        }
        for (int t = 0; t < 2; ++t) {
          const double* q = &best[3 * t];
          double* o = &p4[row * 8 + 4 * t];
          o[0] = q[0];
          o[1] = q[1];
          o[2] = q[2];
          o[3] = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);  // massless nu system
        }
        for (std::int64_t j = 0; j < K * 6; ++j)
          cand[row * K * 6 + j] = static_cast<float>(cands[j]);
        std::copy(massQ.begin(), massQ.end(), &massQuantiles[row * 3]);
        // The mass estimate is the candidates' median, except for the mass-mode rule and a mass
        // hypothesis, whose point is chosen for its mass: then it is the point's own.
        mass[row] = rule == SelectionRule::MassMode || hypothesis
                        ? candidatePairMasses(std::vector<double>(best.begin(), best.end()), vis)[0]
                        : massQ[1];
        status[row] = kStatusOk;
      }
      progress.advance(nb);
    });
  }
  progress.finish();
  const std::string& name = options.methodName;
  table.set(io::nuP4Name(name), {2, 4}, std::move(p4));
  table.set(io::nuCandidatesName(name), {static_cast<std::size_t>(K), 2, 3}, std::move(cand));
  table.set(io::nuStatusName(name), {}, std::move(status));
  table.set(io::nuMassName(name), {}, std::move(mass));
  table.set(io::nuMassQuantilesName(name), {3}, std::move(massQuantiles));
  // What produced /nu/<name>, as the classical methods record their configuration.
  const DiffusionConfig& first = models.perChannel.begin()->second.config;
  std::ostringstream describe;
  describe << "model=" << options.modelDir
           << " sampler=" << (options.sampler.empty() ? first.sampler.name : options.sampler)
           << " steps=" << (options.steps > 0 ? options.steps : first.sampler.steps)
           << " eta=" << (options.eta >= 0 ? options.eta : first.sampler.eta) << " candidates=" << K
           << " selection=";
  if (options.massHypothesis.enabled()) {
    describe << "weighted-median mass_hypothesis=" << options.massHypothesis.massGeV << ","
             << options.massHypothesis.widthGeV;
  } else {
    describe << selectionOf(options, first);
  }
  describe << " seed=" << options.seed;
  table.setAttribute("reco_" + name + "_config", describe.str());
}

}  // namespace

std::string defaultModelDirectory() {
  return shippedFile(kDefaultModel);
}

}  // namespace nurec::ml

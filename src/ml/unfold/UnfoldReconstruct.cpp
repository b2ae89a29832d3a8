// `nurec reconstruct --method <model>` for the t tbar unfolding models (docs/ml-unfold.md
// "Sampling"): posterior samples of the 55-component parton record for every selected event.
#include <omp.h>

#include <filesystem>

#include "nurec/core/Error.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/ml/Net.hpp"
#include "nurec/ml/Resources.hpp"
#include "nurec/ml/unfold/UnfoldApi.hpp"
#include "nurec/ml/unfold/UnfoldData.hpp"
#include "nurec/ml/unfold/UnfoldNet.hpp"

namespace nurec::ml::unfold {

namespace fs = std::filesystem;

namespace {

constexpr std::int8_t kStatusOk = 0, kStatusNotSelected = 2;  // as the chi2 method's codes

UnfoldModel loadModel(const std::string& dir, const std::string& decoder, UnfoldConfig& config) {
  const fs::path cfg = fs::path(dir) / "config.yaml", weights = fs::path(dir) / "model.pt";
  if (!fs::exists(cfg) || !fs::exists(weights)) {
    throw InputError("model directory '" + dir +
                     "' does not hold a trained model (expected config.yaml and model.pt, "
                     "written by `nurec train --config configs/ttbar_<model>.yaml`)");
  }
  if (!isUnfoldRunCardFile(cfg.string())) {
    throw InputError(dir + " holds a tau-pair diffusion model, not a t tbar unfolding model");
  }
  config = UnfoldConfig::fromFile(cfg.string());
  if (!decoder.empty()) config.sampler.decoder = decoder;  // the weights do not depend on it
  UnfoldModel model(config);
  loadWeights(*model, weights.string());
  model->eval();
  return model;
}

}  // namespace

struct UnfoldReconstructor::Impl {
  UnfoldReconstructOptions options;
  UnfoldConfig config;
  UnfoldModel model{nullptr};
};

UnfoldReconstructor::UnfoldReconstructor(const UnfoldReconstructOptions& options)
    : impl_(std::make_unique<Impl>()) {
  require(options.samples >= 1 && options.samples <= kMaxCandidates,
          "--candidates must be in [1, " + std::to_string(kMaxCandidates) + "]");
  require(options.steps >= 0 && options.steps <= kMaxSamplerSteps,
          "--steps must be in [0, " + std::to_string(kMaxSamplerSteps) + "]");
  if (!options.sampler.empty()) {
    requireOneOf(options.sampler, SamplerConfig::kNames, "--sampler of the unfolding models");
  }
  if (!options.decoder.empty()) {
    requireOneOf(options.decoder, SamplerConfig::kDecoderNames, "--decoder");
  }
  require(options.batchEvents >= 1 && options.batchEvents <= kMaxBatchEvents,
          "batch size out of range");
  impl_->options = options;
  impl_->model = loadModel(options.modelDir, options.decoder, impl_->config);
  if (modelKindName(impl_->config.model) != options.methodName) {
    throw ConfigError("--method " + options.methodName + " was given a " +
                      modelKindName(impl_->config.model) + " model (" + options.modelDir +
                      "); use --method " + modelKindName(impl_->config.model));
  }
}

UnfoldReconstructor::~UnfoldReconstructor() = default;

const UnfoldConfig& UnfoldReconstructor::config() const {
  return impl_->config;
}

void UnfoldReconstructor::reconstruct(io::EventTable& table, bool progress) {
  const UnfoldReconstructOptions& o = impl_->options;
  EventTensors events = allEvents(table);
  torch::Tensor delta;  // canonical azimuth: each event's rotation into the lepton frame
  if (impl_->config.train.canonicalAzimuth()) {
    FramedEvents framed = inLeptonFrame(events);
    events = std::move(framed.events);
    delta = std::move(framed.delta);
  }
  const auto pass = table.get<std::uint8_t>("/reco/pass_sr", {});
  const std::size_t N = table.nEvents();
  const std::int64_t K = o.samples;
  // One intra-op thread per batch, batches in parallel: the output does not depend on --threads.
  const IntraOpThreads oneIntraOpThread(1);

  std::vector<std::int64_t> selected;
  for (std::size_t i = 0; i < N; ++i) {
    if (pass[i]) selected.push_back(static_cast<std::int64_t>(i));
  }
  // Batches are the selected events of one block of batchEvents consecutive file rows, so that
  // they (and every float sum) do not depend on how the file is chunked.
  const auto block = static_cast<std::size_t>(o.batchEvents);
  std::vector<std::size_t> starts;
  for (std::size_t j = 0; j < selected.size(); ++j) {
    if (j == 0 ||
        (table.firstRow() + selected[j]) / block != (table.firstRow() + selected[j - 1]) / block) {
      starts.push_back(j);
    }
  }
  starts.push_back(selected.size());
  std::vector<double> partons(N * kRecordSize, 0.0);
  std::vector<float> samples(K > 1 ? N * K * kRecordSize : 0, 0.0f);
  std::vector<std::int8_t> status(N, kStatusNotSelected);
  Progress bar("reconstruct " + o.methodName, selected.size(), progress);
  parallelFor(starts.size() - 1, o.threads, [&](std::size_t b) {
    omp_set_num_threads(1);  // pooled workers keep OpenMP's default otherwise (ml/Api.cpp)
    const std::vector<std::int64_t> idx(selected.begin() + starts[b],
                                        selected.begin() + starts[b + 1]);
    const EventTensors part = events.select(idx);
    std::vector<UnfoldModelImpl::NoiseFn> noise;
    for (std::size_t row : part.rows) {
      auto rng = std::make_shared<Rng>(o.seed, row, streams::ml);  // row: the file row
      noise.emplace_back([rng](std::int64_t count) {
        torch::Tensor t = torch::empty({count});
        float* p = t.data_ptr<float>();
        for (std::int64_t i = 0; i < count; ++i) p[i] = static_cast<float>(rng->normal());
        return t;
      });
    }
    torch::Tensor x =
        impl_->model
            ->sample(part.batch(0, part.size(), torch::Tensor()), K, noise, o.steps, o.sampler)
            .to(torch::kFloat64);
    if (delta.defined()) {  // back to the lab frame
      const auto n = static_cast<std::int64_t>(idx.size());
      x = rotateRecords(x.reshape({n, K, kRecordSize}), -delta.index_select(0, torch::tensor(idx)));
    }
    x = x.contiguous();
    const double* p = x.data_ptr<double>();
    for (std::size_t i = 0; i < idx.size(); ++i) {
      const auto e = static_cast<std::size_t>(idx[i]);
      std::copy(p + i * K * kRecordSize, p + i * K * kRecordSize + kRecordSize,
                &partons[e * kRecordSize]);
      if (K > 1) {
        for (std::int64_t k = 0; k < K * kRecordSize; ++k) {
          samples[e * K * kRecordSize + k] = static_cast<float>(p[i * K * kRecordSize + k]);
        }
      }
      status[e] = kStatusOk;
    }
    bar.advance(idx.size());
  });
  bar.finish();
  const std::string g = "/nu/" + o.methodName;
  table.set(g + "/partons", {std::size_t{kPartons}, std::size_t{kComponents}}, std::move(partons));
  table.set(g + "/status", {}, std::move(status));
  if (K > 1) {
    table.set(g + "/samples",
              {static_cast<std::size_t>(K), std::size_t{kPartons}, std::size_t{kComponents}},
              std::move(samples));
  }
}

}  // namespace nurec::ml::unfold

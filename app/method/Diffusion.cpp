// The conditional diffusion model of the tau pair (docs/ml-methods.md), when nurec is built with
// LibTorch; without it the method is still listed and refused with the reason.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>

#include "app/Process.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/TextFile.hpp"
#include "nurec/eval/MassIntervals.hpp"
#include "nurec/io/Schema.hpp"
#ifdef NUREC_ML_AVAILABLE
#include "nurec/ml/Api.hpp"
#endif

namespace nurec::app {
namespace {

struct DiffusionOptions {
  std::string model, sampler, selection, massHypothesis;
  int candidates = 10, steps = 0;
  double eta = -1;  // DDIM eta; -1 (option not given) = the model's default
};

#ifdef NUREC_ML_AVAILABLE
class DiffusionChunkReconstructor final : public ChunkReconstructor {
 public:
  DiffusionChunkReconstructor(const DiffusionOptions& o, const ReconstructRun& run)
      : options_(makeOptions(o, run)),
        reconstructor_(options_),
        modelLabel_(io::diffusionModelLabel(options_.modelDir)),
        // Interval factors are fitted on the unweighted candidates: not applied under a
        // hypothesis (docs/ml.md "Mass hypothesis").
        intervals_(options_.massHypothesis.enabled() ? std::nullopt
                                                     : loadIntervalCalibration(options_.modelDir)) {
  }

  void reconstruct(io::EventTable& chunk, bool progress) override {
    reconstructor_.reconstruct(chunk, progress);
    chunk.setAttribute(io::nuModelAttribute(options_.methodName), modelLabel_);
    if (!intervals_) return;
    // The factors hold for the candidates' sampling settings they were fitted with (K, sampler,
    // steps, eta: the interval of K draws widens with K): other settings get no intervals rather
    // than miscalibrated ones (docs/ml.md "Calibrated mass intervals").
    const std::string& name = options_.methodName;
    const std::string run =
        eval::samplingSettings(chunk.stringAttribute("reco_" + name + "_config"));
    if (!intervals_->sampling.empty() && intervals_->sampling != run) {
      const std::string why = fmt::format(
          "not calibrated: {} of the model was fitted with {}, this run uses {}; fit one for these "
          "settings with `nurec calibrate-intervals`",
          eval::MassIntervalCalibration::kFileName, intervals_->sampling, run);
      chunk.setAttribute("reco_" + name + "_intervals", why);
      if (!warned_)
        std::fprintf(stderr, "reconstruct: warning: m_tautau intervals %s\n", why.c_str());
      warned_ = true;
      return;
    }
    writeCalibratedIntervals(chunk);
  }
  std::string statusName(int) const override { return "status"; }

 private:
  static ml::DiffusionReconstructOptions makeOptions(const DiffusionOptions& o,
                                                     const ReconstructRun& run) {
    ml::DiffusionReconstructOptions d;
    d.modelDir = o.model.empty() ? ml::defaultModelDirectory() : o.model;
    d.candidates = o.candidates;
    d.steps = o.steps;
    d.sampler = o.sampler;
    d.selection = o.selection;
    if (!o.massHypothesis.empty()) d.massHypothesis = ml::massHypothesisFromText(o.massHypothesis);
    d.eta = o.eta;
    d.seed = run.seed;
    d.threads = run.threads;
    d.methodName = run.method;
    return d;
  }
  // The model's interval calibration (docs/ml.md "Calibrated mass intervals"), if it has one.
  static std::optional<eval::MassIntervalCalibration> loadIntervalCalibration(
      const std::string& modelDir) {
    const std::filesystem::path path =
        std::filesystem::path(modelDir) / eval::MassIntervalCalibration::kFileName;
    if (!std::filesystem::exists(path)) return std::nullopt;
    const auto text = readWholeFile(path.string());
    if (!text) throw InputError(path.string() + ": cannot be read");
    return eval::MassIntervalCalibration::fromJson(*text, path.string());
  }
  // /nu/<m>/mtautau_interval68 from the raw 16/50/84 % quantiles the reconstruction wrote.
  void writeCalibratedIntervals(io::EventTable& chunk) const {
    const std::string& name = options_.methodName;
    const std::vector<eval::IntervalEvent> events = eval::intervalEvents(chunk, name);
    std::vector<double> interval(chunk.nEvents() * 2, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < chunk.nEvents(); ++i) {
      const auto& qi = events[i].quantiles;
      if (!std::isfinite(qi[0]) || !std::isfinite(qi[1]) || !std::isfinite(qi[2])) continue;
      const auto iv = intervals_->interval(events[i]);
      interval[i * 2] = iv[0];
      interval[i * 2 + 1] = iv[1];
    }
    chunk.set(io::nuMassIntervalName(name), {2}, std::move(interval));
    chunk.setAttribute("reco_" + name + "_intervals",
                       "calibrated: " + std::string(eval::MassIntervalCalibration::kFileName) +
                           " of the model, fitted on " + intervals_->source +
                           (intervals_->sampling.empty() ? " (sampling settings not recorded)"
                                                         : " with " + intervals_->sampling));
  }
  ml::DiffusionReconstructOptions options_;
  ml::DiffusionReconstructor reconstructor_;  // checks the options and loads the model first
  std::string modelLabel_;
  std::optional<eval::MassIntervalCalibration> intervals_;
  bool warned_ = false;
};
#endif

MethodFamily::Factory setup(CLI::App& cmd) {
  auto o = std::make_shared<DiffusionOptions>();
  auto sampling = modelSamplingOptions(cmd);
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
                 "Diffusion: how one estimate is made from the candidates: median (per "
                 "component), medoid, random, tau-mass, or mass-mode (median of the densest half "
                 "in m_tautau); default: the model's (sampler.selection of its config.yaml; median "
                 "if absent; models/ztautau_logflat_ip: mass-mode)");
  cmd.add_option("--mass-hypothesis", o->massHypothesis,
                 "Diffusion: M,GAMMA [GeV], e.g. 91.1876,2.4952: reconstruct under the hypothesis "
                 "of a resonance of that mass and width, for a model trained flat in m_tautau "
                 "(models/ztautau_logflat_ip): the candidates are weighted by the Breit-Wigner of "
                 "their m_tautau and the estimate is their weighted median (replaces --selection; "
                 "use K >= 100; docs/ml.md \"Mass hypothesis\")");
  return [o, sampling](const ReconstructRun& run) -> std::unique_ptr<ChunkReconstructor> {
#ifdef NUREC_ML_AVAILABLE
    DiffusionOptions options = *o;
    options.model = sampling->model;
    options.sampler = sampling->sampler;
    options.candidates = sampling->candidates;
    options.steps = sampling->steps;
    return std::make_unique<DiffusionChunkReconstructor>(options, run);
#else
    (void)run;
    (void)sampling;
    throw ConfigError(
        "reconstruct --method diffusion: this nurec was built without the ML library (LibTorch "
        "not found or NUREC_WITH_TORCH=OFF); rebuild with LibTorch, or use collinear, mmc or "
        "fastmtt");
#endif
  };
}

const MethodRegistrar registrar({
    .process = "ztautau",
    .methods = {{"diffusion",
                 "the conditional diffusion model (needs --model, built with LibTorch)"}},
    .order = 20,
    .setup = setup,
});

}  // namespace
}  // namespace nurec::app

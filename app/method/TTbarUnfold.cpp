// The t tbar unfolding models (docs/ml-unfold.md): seven conditional generative models that sample
// the 55-component parton record from the detector event, each a --method of its own and all
// served by one reconstructor (ml::unfold). Without LibTorch they are listed and refused.
#include <memory>

#include "app/Process.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#ifdef NUREC_ML_AVAILABLE
#include "nurec/ml/unfold/UnfoldApi.hpp"
#endif

namespace nurec::app {
namespace {

#ifdef NUREC_ML_AVAILABLE
class UnfoldChunkReconstructor final : public ChunkReconstructor {
 public:
  UnfoldChunkReconstructor(const ml::unfold::UnfoldReconstructOptions& o)
      : reconstructor_(o), method_(o.methodName), label_(io::diffusionModelLabel(o.modelDir)) {}

  void reconstruct(io::EventTable& chunk, bool progress) override {
    reconstructor_.reconstruct(chunk, progress);
    chunk.setAttribute(io::nuModelAttribute(method_), label_);
  }
  bool reconstructed(int code) const override { return code == 0; }
  std::string statusName(int code) const override { return code == 2 ? "not selected" : "status"; }

 private:
  ml::unfold::UnfoldReconstructor reconstructor_;
  std::string method_, label_;
};
#endif

MethodFamily::Factory setup(CLI::App& cmd) {
  auto sampling = modelSamplingOptions(cmd);
  auto decoder = std::make_shared<std::string>();
  cmd.add_option("--decoder", *decoder,
                 "mean|sample — t tbar VAE models (vld, cvld, ucvld, ldm, cvae): the record is "
                 "the decoder's mean or a draw from its Gaussian (default: the model's "
                 "sampler.decoder; docs/ml-unfold.md \"Sampling\")");
  // The accepted names are checked by the reconstructor (ml::unfold::SamplerConfig::kDecoderNames).
  return [sampling, decoder](const ReconstructRun& run) -> std::unique_ptr<ChunkReconstructor> {
#ifdef NUREC_ML_AVAILABLE
    if (sampling->model.empty()) {
      throw ConfigError("reconstruct --method " + run.method +
                        ": give the trained model with --model DIR (nurec train --config "
                        "configs/ttbar_" +
                        run.method + ".yaml)");
    }
    ml::unfold::UnfoldReconstructOptions o;
    o.modelDir = sampling->model;
    o.methodName = run.method;
    o.samples = sampling->candidatesOption && sampling->candidatesOption->count() > 0
                    ? sampling->candidates
                    : 1;
    o.steps = sampling->steps;
    o.sampler = sampling->sampler;
    o.decoder = *decoder;
    o.seed = run.seed;
    o.threads = run.threads;
    return std::make_unique<UnfoldChunkReconstructor>(o);
#else
    (void)sampling;
    (void)decoder;
    throw ConfigError("reconstruct --method " + run.method +
                      ": this nurec was built without the ML library (LibTorch); use chi2");
#endif
  };
}

const char* const kHelpTail =
    "(t tbar, docs/ml-unfold.md; --model DIR from `nurec train --config\n"
    "configs/ttbar_<method>.yaml`): samples the 55-component parton record;\n"
    "/nu/<method>/partons holds the first of --candidates samples";

const MethodRegistrar registrar({
    .process = io::kTTbarProcess,
    .methods = {{"vld", std::string("variational latent diffusion ") + kHelpTail},
                {"cvld", "VLD with a conditional decoder (as vld)"},
                {"ucvld", "VLD with unconditional encoder and decoder (as vld)"},
                {"ldm", "latent diffusion on a pre-trained VAE (as vld)"},
                {"vdm", "variational diffusion on the parton vector itself (as vld)"},
                {"cvae", "conditional variational autoencoder (as vld)"},
                {"cinn", "conditional invertible network (as vld)"}},
    .order = 40,
    .setup = setup,
});

}  // namespace
}  // namespace nurec::app

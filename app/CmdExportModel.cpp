// `nurec export-model`: TorchScript export of a trained diffusion model for Python users.
#include <cstdio>
#include <memory>

#include "app/Command.hpp"
#include "nurec/core/OutputLock.hpp"

#ifdef NUREC_ML_AVAILABLE
#include "nurec/ml/TrainApi.hpp"
#endif

namespace nurec::app {
namespace {

std::function<int()> setupExport(CLI::App& cmd) {
  auto model = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd.footer(
      "Writes a TorchScript file with the EMA weights and normalisation constants of a model\n"
      "directory. In Python: m = torch.jit.load('model_ts.pt'); v = m(x, mask, channel, z, t)\n"
      "gives the network's v-prediction; m.encode / m.time_embedding / m.velocity are the parts\n"
      "(docs/ml.md explains the inputs and how to sample).");
  cmd.add_option("model", *model, "Model directory from `nurec train` (or models/<name>)")
      ->required();
  cmd.add_option("--out", *out, "Output TorchScript file")->required();
  return [model, out] {
#ifdef NUREC_ML_AVAILABLE
    const OutputLock lock(*out);
    ml::exportTorchScript(*model, *out);
    std::printf("nurec export-model: %s -> %s\n", model->c_str(), out->c_str());
    return 0;
#else
    std::fprintf(stderr, "nurec export-model: this build has no LibTorch\n");
    return 1;
#endif
  };
}

const CommandRegistrar registrar({"export-model", "Export a trained diffusion model to TorchScript",
                                  36, setupExport});

}  // namespace
}  // namespace nurec::app

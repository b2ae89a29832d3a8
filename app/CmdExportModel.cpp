// `nurec export-model`: TorchScript export of a trained diffusion model for Python users, or ONNX
// files for ONNX Runtime (docs/onnx.md).
#include <cstdio>
#include <memory>

#include "app/Command.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"

#ifdef NUREC_ML_AVAILABLE
#include "nurec/ml/OnnxExport.hpp"
#include "nurec/ml/TrainApi.hpp"
#endif

namespace nurec::app {
namespace {

struct ExportOptions {
  std::string model, out, format = "torchscript";
  std::string reference, python = "/usr/bin/python3";
  int referenceEvents = 4, candidates = 10;
  std::uint64_t seed = 1;
};

std::function<int()> setupExport(CLI::App& cmd) {
  auto o = std::make_shared<ExportOptions>();
  cmd.footer(
      "torchscript (default): one file with the EMA weights and normalisation constants. In\n"
      "Python: m = torch.jit.load('model_ts.pt'); v = m(x, mask, channel, z, t) gives the\n"
      "network's v-prediction; m.encode / m.time_embedding / m.velocity are the parts "
      "(docs/ml.md).\n"
      "onnx: --out names a folder that receives encoder.onnx, denoiser.onnx, decoder.onnx and\n"
      "model.json (needs python3 with torch and onnx); --reference EVENTS.h5 adds reference.json\n"
      "for tools/onnx_check.mjs (docs/onnx.md).");
  cmd.add_option("model", o->model, "Model directory from `nurec train` (or models/<name>)")
      ->required();
  cmd.add_option("--out", o->out, "Output TorchScript file, or folder for --format onnx")
      ->required();
  cmd.add_option("--format", o->format, "torchscript (default) or onnx");
  cmd.add_option("--reference", o->reference,
                 "onnx: event file; write reference.json with LibTorch outputs, the noise and the "
                 "candidates of `reconstruct --method diffusion` for its first events");
  cmd.add_option("--reference-events", o->referenceEvents,
                 "onnx: events in reference.json (default 4)");
  cmd.add_option("--candidates", o->candidates, "onnx: K of the reference and model.json (10)");
  cmd.add_option("--seed", o->seed, "onnx: run seed of the reference's noise (as reconstruct)");
  cmd.add_option("--python", o->python, "onnx: Python with torch and onnx (/usr/bin/python3)");
  return [o] {
    const bool onnx = o->format == "onnx";
    if (!onnx && o->format != "torchscript") {
      throw ConfigError("export-model: unknown --format '" + o->format +
                        "' (expected 'torchscript' or 'onnx')");
    }
    if (!onnx && !o->reference.empty()) {
      throw ConfigError("export-model: --reference needs --format onnx");
    }
#ifdef NUREC_ML_AVAILABLE
    const OutputLock lock(o->out);
    if (onnx) {
      ml::OnnxExportOptions e;
      e.modelDir = o->model;
      e.outDir = o->out;
      e.python = o->python;
      e.referenceEvents = o->reference;
      e.referenceCount = o->referenceEvents;
      e.candidates = o->candidates;
      e.seed = o->seed;
      ml::exportOnnx(e);
    } else {
      ml::exportTorchScript(o->model, o->out);
    }
    std::printf("nurec export-model: %s -> %s\n", o->model.c_str(), o->out.c_str());
    return 0;
#else
    std::fprintf(stderr, "nurec export-model: this build has no LibTorch\n");
    return 1;
#endif
  };
}

const CommandRegistrar registrar({"export-model",
                                  "Export a trained diffusion model to TorchScript or ONNX", 36,
                                  setupExport});

}  // namespace
}  // namespace nurec::app

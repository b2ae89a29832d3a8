#pragma once
// ONNX export of a trained diffusion model (docs/onnx.md): encoder.onnx, denoiser.onnx,
// decoder.onnx and the model.json sidecar in one folder, optionally with reference.json
// (LibTorch outputs, the per-event noise and the candidates of `reconstruct --method diffusion`
// for a few events) that tools/onnx_check.mjs compares ONNX Runtime against. Torch-free.
#include <cstdint>
#include <string>

namespace nurec::ml {

struct OnnxExportOptions {
  std::string modelDir;  // written by `nurec train` (or models/<name>)
  std::string outDir;    // created; files are staged and moved in when all are written
  // The interpreter that runs tools/onnx_export.py; it needs the modules torch and onnx.
  std::string python = "/usr/bin/python3";
  std::string script;           // empty: the shipped tools/onnx_export.py (core/ShippedFiles.hpp)
  std::string referenceEvents;  // event file; non-empty: also write reference.json
  int referenceCount = 4;       // events of the reference (the first ones with a channel)
  int candidates = 10;          // K of the reference and of model.json's default
  std::uint64_t seed = 1;       // run seed of the reference's noise (as reconstruct --seed)
  int opset = 17;               // the highest torch 1.13 exports
  // ConfigError naming the option when a value is out of range.
  void validate() const;
};

// Loads the model (InputError when missing or damaged), runs the Python exporter (Error with its
// message when python, torch or onnx is missing or the export fails) and writes the folder all or
// nothing (core/AtomicFile.hpp StagedDirectory).
void exportOnnx(const OnnxExportOptions& options);

}  // namespace nurec::ml

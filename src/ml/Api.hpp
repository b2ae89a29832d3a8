#pragma once
// The ML library's interface to the rest of nurec. No Torch types here: callers (the `nurec`
// binary, the demo) see only plain structs and the event table.
#include <cstdint>
#include <memory>
#include <string>

#include "nurec/core/ShippedFiles.hpp"
#include "nurec/io/EventTable.hpp"
#include "nurec/ml/Calibration.hpp"

namespace nurec::ml {

struct DiffusionReconstructOptions {
  std::string modelDir;   // a directory written by `nurec train` (or models/<name>)
  int candidates = 10;    // K samples per event
  int steps = 0;          // sampler steps; 0 = the model's default
  std::string sampler;    // "ddim" or "dpm++2m"; empty = the model's default
  double eta = -1;        // DDIM eta in [0, 1]; < 0 = the model's default; NaN refused
  std::string selection;  // how one estimate is made from the K candidates; empty = the model's
                          // (sampler.selection of its config.yaml, median if absent)
  MassHypothesis massHypothesis;  // a resonance prior on m_tautau (docs/ml.md "Mass hypothesis");
                                  // replaces the selection rule; none by default
  std::uint64_t seed = 1;         // per-event noise streams are seeded by (seed, event index)
  int threads = 0;                // 0 = all cores
  int batchEvents = 512;  // a batch: the events of this many consecutive file rows (io::kRowBlock)
  std::string methodName = "diffusion";  // writes /nu/<methodName>/... (studies compare variants)
  bool progress = true;                  // progress bar on stderr
};

// Samples neutrino candidates for every event of the table that has a reconstructed channel and
// adds /nu/diffusion/p4 (N,2,4), /nu/diffusion/candidates (N,K,2,3) and /nu/diffusion/status (N).
// Options out of range (valid ranges in ml/Resources.hpp), invalid reco inputs, a damaged model or
// a run that cannot fit in memory are refused with a nurec::Error before any sampling; LibTorch
// errors surface as nurec::Error too.
void reconstructDiffusion(io::EventTable& table, const DiffusionReconstructOptions& options);

// The same with the options checked and the model(s) loaded once, for a file read in chunks
// (`nurec reconstruct`): reconstruct(chunk) is reconstructDiffusion(chunk, options).
class DiffusionReconstructor {
 public:
  explicit DiffusionReconstructor(const DiffusionReconstructOptions& options);
  ~DiffusionReconstructor();
  DiffusionReconstructor(const DiffusionReconstructor&) = delete;
  DiffusionReconstructor& operator=(const DiffusionReconstructor&) = delete;
  void reconstruct(io::EventTable& table, bool progress);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The shipped default model (core/ShippedFiles.hpp kDefaultDiffusionModel) and where it is found
// ($NUREC_DATA_DIR, next to the executable or the libraries, or the source tree).
inline constexpr const char* kDefaultModel = kDefaultDiffusionModel;
std::string defaultModelDirectory();

}  // namespace nurec::ml

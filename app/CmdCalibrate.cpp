// `nurec calibrate sample.h5 --method M --out response.json`: fits the linear spin response
// (R, o) of quantum/SpinResponse.hpp once, on an independent truth-bearing sample, for one method
// and analyser choice; `nurec spin --calibration response.json` applies it (docs/quantum.md
// "Calibration").
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "app/Command.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/quantum/SpinInput.hpp"
#include "nurec/quantum/SpinResponse.hpp"

namespace nurec::app {
namespace {

struct CalibrateOptions {
  std::string input, output;
  std::string lepton = "energy", rho = "polarimeter", model = "full", modelDir;
  std::string candidates = "auto";
  bool allEvents = false, noMassConstraint = false;
  quantum::AnalyserConfig analysers;
  quantum::CalibrationConfig fit;
  std::size_t chunkEvents = io::kDefaultChunkEvents;
};

int runCalibrate(CalibrateOptions o) {
  o.analysers.lepton = quantum::parseLeptonAnalyser(o.lepton);
  o.analysers.rho = quantum::parseRhoAnalyser(o.rho);
  o.analysers.requireSignalRegion = !o.allEvents;
  o.analysers.tauMassConstraint = !o.noMassConstraint;
  if (o.candidates != "auto") o.analysers.candidates = quantum::parseCandidateUse(o.candidates);
  if (o.model == "full") {
    o.fit.model = quantum::CalibrationConfig::Model::Full;
  } else if (o.model == "diagonal") {
    o.fit.model = quantum::CalibrationConfig::Model::Diagonal;
  } else {
    throw ConfigError(fmt::format("--response-model {}: expected full or diagonal", o.model));
  }
  o.fit.threads = commonOptions().threads;
  o.fit.validate();
  o.analysers.validate();
  checkOutputPath("--out", o.output, OutputKind::File, {o.input});
  const OutputLock lock(o.output);
  std::string modelLabel;
  if (!o.modelDir.empty()) modelLabel = io::diffusionModelLabel(o.modelDir);
  // Only the datasets the analysers and the re-weighting read, in chunks, and without
  // --all-events only the signal-region rows: the fit is the same as on the whole file, and
  // memory is bounded by the selected events (docs/data-format.md "Peak memory").
  std::size_t eventsInFile = 0;
  const io::EventTable sample = quantum::readCalibrationSample(
      o.input, o.analysers.method, o.allEvents, o.chunkEvents, &eventsInFile);
  // The sample records the model that reconstructed it; --model must agree with it.
  const std::string recorded =
      sample.hasAttribute(io::nuModelAttribute(o.analysers.method))
          ? sample.stringAttribute(io::nuModelAttribute(o.analysers.method))
          : std::string();
  if (!recorded.empty()) {
    if (!modelLabel.empty() &&
        quantum::modelWeightsId(recorded) != quantum::modelWeightsId(modelLabel))
      throw ConfigError(fmt::format(
          "--model {} is not the model that reconstructed {} ({}): pass that model or none",
          modelLabel, o.input, recorded));
    modelLabel = recorded;
  }
  o.analysers.candidates = quantum::resolveCandidateUse(o.candidates, sample, o.analysers.method);
  o.analysers.validate();
  quantum::SpinResponse r =
      quantum::buildSpinResponse(sample, o.analysers, o.fit, modelLabel, !commonOptions().quiet);
  r.provenance.sampleEvents = eventsInFile;
  quantum::writeSpinResponse(r, o.output);
  const quantum::Calibration* comb = r.find("combined");
  std::size_t channels = 0;
  for (const auto& [name, cal] : r.subsets) channels += name != "combined" && cal.valid();
  std::printf(
      "calibrate: %s, method %s (%s): %zu of %zu events analysed (%s); combined response %s "
      "(cond(R) %.3g), %zu of 7 channels valid -> %s\n",
      o.input.c_str(), o.analysers.method.c_str(),
      quantum::candidateUseName(o.analysers.candidates).c_str(), r.provenance.sampleAnalysed,
      r.provenance.sampleEvents, r.provenance.selection.c_str(), comb ? "valid" : "INVALID",
      comb ? comb->conditionNumber() : 0.0, channels, o.output.c_str());
  return comb ? 0 : 1;
}

std::function<int()> setupCalibrate(CLI::App& cmd) {
  auto o = std::make_shared<CalibrateOptions>();
  cmd.footer(
      "Fits the linear response theta_raw = R theta_true + o of the spin estimators of `nurec\n"
      "spin` on a truth-bearing sample (it needs the per-event spin state /truth/spin_b, spin_c\n"
      "of `nurec generate`): the sample is re-weighted to random physical spin states, and R, o\n"
      "are fitted over them, for all channels together and per channel, with bootstrap refits\n"
      "for the response's own uncertainty (docs/quantum.md \"Calibration\"). The sample must be\n"
      "independent of the samples to be measured (another generator seed), processed with the\n"
      "same detector card, selection and reconstruction method. The response file records the\n"
      "method, analysers, selection, detector card, generator phase space and seeds, and the\n"
      "model (--model); `nurec spin --calibration FILE` checks them.\n\n"
      "Example:\n"
      "  nurec generate --events 1500000 --seed 7101 --min-vis-pt 12 --min-lead-vis-pt 20 \\\n"
      "      --max-vis-eta 2.7 --out g.h5\n"
      "  nurec simulate g.h5 --only-selected --seed 7101 --out s.h5\n"
      "  nurec reconstruct s.h5 --method mmc --seed 7101 --out r.h5\n"
      "  nurec calibrate r.h5 --method mmc --out mmc.json");
  cmd.add_option("file", o->input, "Truth-bearing sample with /reco and /nu/<method>")->required();
  cmd.add_option("--method,-m", o->analysers.method,
                 "Neutrino reconstruction: truth, collinear, mmc, fastmtt, diffusion, ...")
      ->capture_default_str();
  cmd.add_option("--out,-o", o->output, "Response file (JSON)")->required();
  cmd.add_option("--model", o->modelDir,
                 "Diffusion model directory the sample was reconstructed with (recorded with a "
                 "checksum of its model.pt)");
  cmd.add_option("--lepton-analyser", o->lepton, "As for nurec spin")->capture_default_str();
  cmd.add_option("--rho-analyser", o->rho, "As for nurec spin")->capture_default_str();
  cmd.add_option("--candidates", o->candidates, "As for nurec spin")
      ->check(CLI::IsMember({"auto", "estimate", "posterior-mean"}))
      ->capture_default_str();
  cmd.add_flag("--all-events", o->allEvents, "Use every event, not only /reco/pass_sr = 1");
  cmd.add_flag("--no-mass-constraint", o->noMassConstraint, "As for nurec spin");
  cmd.add_option("--response-model", o->model,
                 "full (15 x 15 response with cross-talk) or diagonal (one slope and offset per "
                 "parameter)")
      ->capture_default_str();
  cmd.add_option("--targets", o->fit.targets, "Random target spin states of the fit")
      ->capture_default_str();
  cmd.add_option("--replicas", o->fit.bootstrapReplicas,
                 "Bootstrap refits for the response's own uncertainty")
      ->capture_default_str();
  cmd.add_option("--seed", o->fit.seed, "Seed of the target states and bootstrap refits")
      ->capture_default_str();
  addThreadsOption(cmd);
  addChunkOption(cmd, o->chunkEvents);
  return [o] { return runCalibrate(*o); };
}

const CommandRegistrar registrar(
    {"calibrate", "Spin response (R, o) from an independent truth sample, for `nurec spin`", 55,
     setupCalibrate});

}  // namespace
}  // namespace nurec::app

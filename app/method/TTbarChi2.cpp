// The classical t tbar reconstruction (docs/ttbar.md "Classical reconstruction"): the neutrino
// pz from the W mass and the chi2 jet-parton assignment, giving the whole 11 x 5 parton record.
#include <fmt/format.h>

#include <memory>

#include "app/Process.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/detector/ttbar/TTbarRecoTable.hpp"
#include "nurec/eval/TTbarEvaluate.hpp"
#include "nurec/generator/ttbar/TTbarTable.hpp"
#include "nurec/reco/ttbar/TTbarChi2.hpp"

namespace nurec::app {
namespace {

namespace rt = reco::ttbar;

class Chi2Reconstructor final : public ChunkReconstructor {
 public:
  Chi2Reconstructor(const rt::TTbarChi2Config& config, const ReconstructRun& run)
      : reconstructor_(config), method_(run.method), threads_(run.threads) {}

  void reconstruct(io::EventTable& chunk, bool progress) override {
    const auto events = detector::ttbar::getTTbarReco(chunk);
    const std::size_t n = events.size();
    std::vector<double> partons(n * rt::kRecordSize, 0.0), chi2(n, 0.0);
    std::vector<std::int8_t> status(n);
    Progress bar("reconstruct " + method_, n, progress);
    parallelFor(n, threads_, [&](std::size_t i) {
      const rt::TTbarChi2Result r = reconstructor_.reconstruct(events[i]);
      status[i] = static_cast<std::int8_t>(r.status);
      if (rt::reconstructed(r.status)) {
        const auto record = r.record();
        std::copy(record.begin(), record.end(), &partons[i * rt::kRecordSize]);
        chi2[i] = r.chi2;
      }
      bar.advance();
    });
    bar.finish();
    chunk.set(eval::nuPartonsName(method_),
              {std::size_t{generator::ttbar::kPartonCount},
               std::size_t{generator::ttbar::kPartonComponents}},
              std::move(partons));
    chunk.set("/nu/" + method_ + "/status", {}, std::move(status));
    chunk.set(eval::nuChi2Name(method_), {}, std::move(chi2));
    chunk.setAttribute("reco_" + method_ + "_config", reconstructor_.config().toYaml());
  }

  bool reconstructed(int code) const override {
    return rt::reconstructed(static_cast<rt::TTbarRecoStatus>(code));
  }
  std::string statusName(int code) const override {
    return code >= 0 && code <= static_cast<int>(rt::TTbarRecoStatus::invalidInput)
               ? rt::statusName(static_cast<rt::TTbarRecoStatus>(code))
               : "status";
  }

 private:
  rt::TTbarChi2Reconstructor reconstructor_;
  std::string method_;
  int threads_;
};

MethodFamily::Factory setup(CLI::App& cmd) {
  auto config = std::make_shared<rt::TTbarChi2Config>();
  cmd.add_option("--chi2-jets", config->maxJets,
                 "chi2 (t tbar): leading jets tried in the jet-parton assignment")
      ->check(CLI::Range(4, 10))
      ->capture_default_str();
  return [config](const ReconstructRun& run) -> std::unique_ptr<ChunkReconstructor> {
    return std::make_unique<Chi2Reconstructor>(*config, run);
  };
}

const MethodRegistrar registrar({
    .process = generator::ttbar::kProcessName,
    .methods = {{"chi2",
                 "t tbar: neutrino pz from the W mass (both roots; the real part when there is\n"
                 "no real root, status 1), then the assignment of the leading jets to b, bbar,\n"
                 "q, qbar' that minimises the chi2 of the hadronic W and both top masses (b\n"
                 "candidates b-tagged); writes /nu/chi2/partons (N,11,5) and /nu/chi2/chi2.\n"
                 "Status 2 not selected, 3 not one lepton, 4 < 4 jets, 5 no assignment"}},
    .order = 30,
    .setup = setup,
});

}  // namespace
}  // namespace nurec::app

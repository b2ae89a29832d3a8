// The classical tau-pair methods collinear, mmc, fastmtt and ip (docs/reco.md, docs/physics.md
// section 9): one family, because they share the MET resolution model.
#include <memory>

#include "app/Process.hpp"
#include "nurec/reco/Reconstruct.hpp"

namespace nurec::app {
namespace {

struct ClassicalOptions {
  std::string mmcPdfs, mmcScan = "random", mmcEstimator = "mlm", mmcWeight = "kinematic";
  int mmcPoints = reco::MmcConfig{}.points;
  bool mmcTauProbability = false;
  double metK = reco::MetResolutionModel{}.stochasticTermSqrtGeV;
  double metFloor = reco::MetResolutionModel{}.floorGeV;
  int fastMttGrid = reco::FastMttConfig{}.gridPoints;
  double minAbsSinDphi = reco::CollinearConfig{}.minAbsSinDeltaPhi;
};

class ClassicalReconstructor final : public ChunkReconstructor {
 public:
  ClassicalReconstructor(const ClassicalOptions& o, const ReconstructRun& run)
      : method_(run.method), threads_(run.threads) {
    auto& c = config_;
    c.seed = run.seed;
    c.collinear.minAbsSinDeltaPhi = o.minAbsSinDphi;
    c.mmc.pdfPath = o.mmcPdfs;
    c.mmc.points = o.mmcPoints;
    c.mmc.useTauProbability = o.mmcTauProbability;
    c.mmc.met.stochasticTermSqrtGeV = o.metK;
    c.mmc.met.floorGeV = o.metFloor;
    c.fastMtt.met = c.mmc.met;
    c.fastMtt.gridPoints = o.fastMttGrid;
    c.ip.met = c.mmc.met;
    if (o.mmcWeight == "angle-table") c.mmc.weight = reco::MmcWeight::AngleTable;
    if (o.mmcScan == "markov") c.mmc.scan = reco::MmcScan::Markov;
    if (o.mmcEstimator == "maxw") c.mmc.massEstimator = reco::MmcMassEstimator::Maxw;
    if (o.mmcEstimator == "mlnu3p") c.mmc.massEstimator = reco::MmcMassEstimator::Mlnu3p;
    c.validate();
    // The MMC table is read once, before any event: a bad path fails at once.
    if (method_ == "mmc") mmcTable_ = reco::loadMmcTable(c);
  }

  void reconstruct(io::EventTable& chunk, bool progress) override {
    config_.progress = progress;
    reco::reconstructClassical(chunk, method_, config_, threads_, mmcTable_);
  }

  std::string statusName(int code) const override {
    return code >= 0 && code < reco::kNumStatusCodes
               ? reco::statusName(static_cast<reco::RecoStatus>(code))
               : "status";
  }

 private:
  std::string method_;
  int threads_;
  reco::ClassicalRecoConfig config_;
  std::shared_ptr<const reco::AngularPdfTable> mmcTable_;
};

MethodFamily::Factory setup(CLI::App& cmd) {
  auto o = std::make_shared<ClassicalOptions>();
  cmd.add_option("--mmc-pdfs", o->mmcPdfs,
                 "MMC likelihood table (default: the shipped data/mmc/mmc_pdfs_v1.json)");
  cmd.add_option("--mmc-points", o->mmcPoints, "MMC scan points (or Markov steps) per event")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  cmd.add_option("--mmc-scan", o->mmcScan, "MMC scan: random (independent points) or markov")
      ->check(CLI::IsMember({"random", "markov"}))
      ->capture_default_str();
  cmd.add_option("--mmc-estimator", o->mmcEstimator,
                 "m_tautau written by MMC: mlm (mode of weighted histogram), maxw (highest-weight "
                 "solution) or mlnu3p (mass of the MLNU3P neutrinos)")
      ->check(CLI::IsMember({"mlm", "maxw", "mlnu3p"}))
      ->capture_default_str();
  cmd.add_option("--mmc-weight", o->mmcWeight,
                 "MMC solution weight: kinematic (decay phase space, flat in x) or "
                 "angle-table (the MMC paper's P(dtheta | p_tau, type) from the table)")
      ->check(CLI::IsMember({"kinematic", "angle-table"}))
      ->capture_default_str();
  cmd.add_flag(
      "--mmc-tau-probability", o->mmcTauProbability,
      "angle-table weight: also multiply by the decay x-distribution f(x) (docs/physics.md 6)");
  cmd.add_option("--met-k", o->metK, "MET resolution stochastic term k [GeV^1/2]")
      ->capture_default_str();
  cmd.add_option("--met-floor", o->metFloor, "MET resolution floor [GeV]")->capture_default_str();
  cmd.add_option("--fastmtt-grid", o->fastMttGrid, "FastMTT grid points per x axis")
      ->capture_default_str();
  cmd.add_option("--min-abs-sin-dphi", o->minAbsSinDphi,
                 "Collinear: minimum |sin dphi(vis1, vis2)| before an event counts as back to back")
      ->capture_default_str();
  return [o](const ReconstructRun& run) -> std::unique_ptr<ChunkReconstructor> {
    return std::make_unique<ClassicalReconstructor>(*o, run);
  };
}

const MethodRegistrar registrar({
    .process = "ztautau",
    .methods =
        {
            {"collinear",
             "neutrinos parallel to the visible taus and alone making the MET; fails for taus "
             "back\n"
             "to back in phi (status 3) or an energy fraction x outside (0,1] (4)"},
            {"mmc",
             "Missing Mass Calculator: scans the neutrino azimuths, m_nunu of leptonic taus and "
             "the\n"
             "MET within its resolution, weights each solution (decay phase space, P(m_nunu) from\n"
             "the shipped likelihood table; or the paper's angle table P(dtheta | p_tau, type));\n"
             "m_tautau = mode of the weighted histogram (MLM), neutrinos from the modes of their\n"
             "momentum components (MLNU3P); no solution in the scan = status 5"},
            {"fastmtt",
             "likelihood in the energy fractions (x1, x2) on a grid: MET transfer function times\n"
             "the decay x-distributions; status 6 if it vanishes everywhere"},
            {"ip",
             "impact-parameter method: each hadronic tau along the plane of its track and\n"
             "impact-parameter vector, |p| from the tau mass, leptonic taus collinear; the pair\n"
             "that best explains the MET and the flight length (needs /reco/track_ip: generator\n"
             "vertex positions); status 5 if no pair exists"},
        },
    .order = 10,
    .setup = setup,
});

}  // namespace
}  // namespace nurec::app

// reco_study: resolution and speed of the classical neutrino reconstructions (docs/reco.md).
//
//   reco_study quality --events sim.h5            per-channel HWHM tables (signal region)
//   reco_study speed   --events sim.h5            events/s of each method, MMC/collinear ratio
//   reco_study effort  --events sim.h5            MMC resolution and speed vs scan points
// Without --events a constructed sample (reco/ConstructedEvents.hpp) with MET noise is used.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>

#include "nurec/core/Parallel.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/eval/Resolution.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/reco/ConstructedEvents.hpp"
#include "nurec/reco/Reconstruct.hpp"

using namespace nurec;
using namespace nurec::reco;

namespace {

struct Sample {
  std::vector<TruthEvent> truth;
  std::vector<RecoEvent> reco;
};

Sample loadSample(const std::string& path, std::size_t constructed, double metNoise, bool srOnly,
                  std::size_t maxEvents) {
  Sample s;
  if (path.empty()) {
    ConstructedEventsConfig c;
    c.metNoiseGeV = metNoise;
    c.sumEtGeV = metNoise > 0 ? std::pow(metNoise / 0.5, 2) : 0;  // consistent k = 0.5 model
    c.visibleResolution = 0.03;
    c.minVisiblePtGeV = 20;
    c.bosonWidthGeV = constants::gammaZ;
    for (auto& e : constructEvents(c, constructed, 77)) {
      s.truth.push_back(e.truth);
      s.reco.push_back(e.reco);
    }
    return s;
  }
  const io::EventTable table = io::readEventFile(path);
  const auto truth = io::getTruth(table);
  const auto reco = io::getReco(table);
  for (std::size_t i = 0; i < reco.size() && s.reco.size() < maxEvents; ++i) {
    if (srOnly && !reco[i].passSr) continue;
    if (reco[i].channel == Channel::None) continue;
    s.truth.push_back(truth[i]);
    s.reco.push_back(reco[i]);
  }
  return s;
}

std::shared_ptr<const AngularPdfTable> loadPdfs(const std::string& path) {
  return std::make_shared<const AngularPdfTable>(
      AngularPdfTable::load(path.empty() ? defaultPdfPath() : path));
}

struct Output {
  std::vector<RecoStatus> status;
  std::vector<std::array<FourVector, 2>> nu;
  std::vector<double> mtt;
  double seconds = 0;
  double cpuSeconds = 0;  // process CPU time: independent of other jobs on a shared machine
};

double processCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

Output runMethod(const std::string& method, const Sample& s, const ClassicalRecoConfig& c,
                 std::shared_ptr<const AngularPdfTable> pdfs, int threads) {
  const std::size_t n = s.reco.size();
  Output o;
  o.status.assign(n, RecoStatus::NotReconstructed);
  o.nu.assign(n, {});
  o.mtt.assign(n, 0);
  const auto start = std::chrono::steady_clock::now();
  const double cpuStart = processCpuSeconds();
  if (method == "collinear") {
    const CollinearReconstructor r(c.collinear);
    parallelFor(n, threads, [&](std::size_t i) {
      const auto x = r.reconstruct(s.reco[i]);
      o.status[i] = x.status;
      o.nu[i] = x.nu;
      o.mtt[i] = x.mTauTau;
    });
  } else if (method == "fastmtt") {
    const FastMttReconstructor r(c.fastMtt);
    parallelFor(n, threads, [&](std::size_t i) {
      const auto x = r.reconstruct(s.reco[i]);
      o.status[i] = x.status;
      o.nu[i] = x.nu;
      o.mtt[i] = x.mTauTau;
    });
  } else {
    const MmcReconstructor r(c.mmc, pdfs);
    parallelFor(n, threads, [&](std::size_t i) {
      Rng rng(c.seed, i, streams::reco);
      const auto x = r.reconstruct(s.reco[i], rng);
      o.status[i] = x.status;
      o.nu[i] = x.nu;
      o.mtt[i] = x.mTauTau;
    });
  }
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  o.cpuSeconds = processCpuSeconds() - cpuStart;
  return o;
}

struct Resolution {
  std::size_t events = 0, ok = 0;
  eval::ResolutionSummary mass;
  std::array<eval::ResolutionSummary, 4> tau;  // px, py, pz, E of tau = visible + neutrinos
};

// Relative residuals (reco - truth)/truth; HWHM, mode and median bias from src/eval
// (docs/metrics.md), with bootstrap errors.
Resolution resolution(const Sample& s, const Output& o, int channel, int bootstrap) {
  Resolution r;
  std::vector<double> dm;
  std::array<std::vector<double>, 4> dc;
  for (std::size_t i = 0; i < s.reco.size(); ++i) {
    if (channel >= 0 && static_cast<int>(s.reco[i].channel) != channel) continue;
    ++r.events;
    if (o.status[i] != RecoStatus::Ok) continue;
    ++r.ok;
    const double mTrue = (s.truth[i].tau[0] + s.truth[i].tau[1]).m();
    dm.push_back(eval::relativeResidual(o.mtt[i], mTrue));
    for (int t = 0; t < 2; ++t) {
      const FourVector tau = s.reco[i].tau[t] + o.nu[i][t];
      const FourVector& tr = s.truth[i].tau[t];
      const double reco[4] = {tau.px, tau.py, tau.pz, tau.e};
      const double truth[4] = {tr.px, tr.py, tr.pz, tr.e};
      for (int k = 0; k < 4; ++k) dc[k].push_back(eval::relativeResidual(reco[k], truth[k]));
    }
  }
  eval::HwhmConfig hc;
  hc.bootstrapSamples = bootstrap;
  r.mass = eval::summarizeResiduals(dm, hc);
  for (int k = 0; k < 4; ++k) r.tau[k] = eval::summarizeResiduals(dc[k], hc, k + 1);
  return r;
}

std::string pct(const eval::ResolutionSummary& x, bool withError) {
  if (!(x.hwhm == x.hwhm)) return "-";
  return withError ? fmt::format("{:.1f} ± {:.1f}", 100 * x.hwhm, 100 * x.hwhmError)
                   : fmt::format("{:.1f}", 100 * x.hwhm);
}

const char* kChannelNames[7] = {"ππ", "eπ", "μπ", "πρ", "eρ", "μρ", "ρρ"};

void printQuality(const Sample& s, const std::map<std::string, Output>& outputs) {
  for (const auto& [method, o] : outputs) {
    std::printf("\n#### %s (%.0f events/s in this run)\n\n", method.c_str(),
                s.reco.size() / o.seconds);
    std::printf(
        "| channel | events | ok %% | m mode | m median bias | HWHM m [%%] | HWHM px | HWHM py "
        "| HWHM pz | HWHM E |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int ch = 0; ch <= 7; ++ch) {
      const int channel = ch == 7 ? -1 : ch;
      const Resolution r = resolution(s, o, channel, 30);
      if (r.events == 0) continue;
      std::printf("| %s | %zu | %.1f | %+.3f | %+.3f | %s | %s | %s | %s | %s |\n",
                  channel < 0 ? "all" : kChannelNames[channel], r.events, 100.0 * r.ok / r.events,
                  r.mass.mode, r.mass.medianBias, pct(r.mass, true).c_str(),
                  pct(r.tau[0], false).c_str(), pct(r.tau[1], false).c_str(),
                  pct(r.tau[2], false).c_str(), pct(r.tau[3], false).c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"reco_study: resolution and speed of the classical neutrino reconstructions"};
  std::string mode = "quality", events, pdfs, methods = "collinear,mmc,fastmtt";
  std::size_t constructed = 4000, maxEvents = 1000000;
  double metNoise = 8;
  int threads = 1, points = MmcConfig{}.points;
  bool srOnly = true, scaled = false, tauProb = false, markov = false, noMassProb = false;
  std::string out;
  int channel = -1;
  app.add_option("mode", mode, "quality, speed, effort, or write (a constructed event file)")
      ->check(CLI::IsMember({"quality", "speed", "effort", "write", "met"}));
  app.add_option("--out", out, "write: output event file");
  app.add_option("--channel", channel, "write: -2 all decay modes, -1 seven channels, 0..6 one");
  app.add_option("--events", events, "Event file with /truth and /reco (else constructed events)");
  app.add_option("--constructed", constructed, "Constructed events when no --events");
  app.add_option("--met-noise", metNoise, "Constructed events: MET noise per component [GeV]");
  app.add_option("--max-events", maxEvents, "Use at most this many events");
  app.add_option("--pdfs", pdfs, "MMC likelihood table (default: shipped)");
  app.add_option("--methods", methods, "Comma-separated methods (quality)");
  app.add_option("--threads", threads, "Threads");
  app.add_option("--points", points, "MMC scan points");
  app.add_flag("!--all-events", srOnly, "Use all reconstructed events, not only the signal region");
  app.add_flag("--scaled-angle", scaled, "MMC: weight with P(u|p) instead of P(dtheta|p)");
  app.add_flag("--tau-probability", tauProb, "MMC: weight with f(x)");
  bool angleTable = false;
  app.add_flag("--angle-table", angleTable,
               "MMC: the paper's angle-table weight (default kinematic)");
  app.add_flag("--no-mass-probability", noMassProb, "MMC: no P(m_nunu) weight");
  app.add_flag("--markov", markov, "MMC: Markov-chain scan");
  std::string estimator = "mlm";
  std::vector<int> effortPoints{250, 500, 1000, 2000, 4000, 8000, 16000};
  app.add_option("--effort-points", effortPoints, "effort: list of MMC scan points")
      ->delimiter(',');
  double metK = MetResolutionModel{}.stochasticTermSqrtGeV;
  app.add_option("--met-k", metK, "MET resolution k [GeV^1/2] for MMC and FastMTT");
  int smooth = MmcConfig{}.smoothPasses;
  double massBin = MmcConfig{}.massBinGeV;
  app.add_option("--smooth", smooth, "MMC histogram smoothing passes");
  app.add_option("--mass-bin", massBin, "MMC m_tautau histogram bin [GeV]");
  double proposal = MmcConfig{}.phiProposalScale;
  app.add_option("--proposal", proposal, "MMC random scan: phi proposal width in m_tau/pT_vis");
  int burnIn = MmcConfig{}.markovBurnIn, extensions = MmcConfig{}.markovMaxExtensions;
  app.add_option("--burn-in", burnIn, "MMC Markov burn-in steps");
  app.add_option("--extensions", extensions, "MMC Markov: maximum chain doublings");
  app.add_option("--estimator", estimator, "MMC mass estimator: mlm, maxw, mlnu3p");
  CLI11_PARSE(app, argc, argv);

  if (mode == "write") {
    ConstructedEventsConfig cc;
    cc.channel = channel;
    cc.metNoiseGeV = metNoise;
    cc.bosonWidthGeV = constants::gammaZ;
    io::EventTable t = constructedTable(constructEvents(cc, constructed, 5));
    t.setAttribute("producer", std::string("reco_study write (constructed events)"));
    io::writeEventFile(out, t);
    std::printf("wrote %zu constructed events to %s\n", constructed, out.c_str());
    return 0;
  }
  const Sample s = loadSample(events, constructed, metNoise, srOnly, maxEvents);
  const auto table = loadPdfs(pdfs);
  ClassicalRecoConfig c;
  c.mmc.points = points;
  c.mmc.scaledAngleWeight = scaled;
  if (angleTable) c.mmc.weight = MmcWeight::AngleTable;
  c.mmc.useTauProbability = tauProb;
  c.mmc.useMassProbability = !noMassProb;
  if (markov) c.mmc.scan = MmcScan::Markov;
  c.mmc.markovBurnIn = burnIn;
  c.mmc.phiProposalScale = proposal;
  c.mmc.smoothPasses = smooth;
  c.mmc.massBinGeV = massBin;
  c.mmc.met.stochasticTermSqrtGeV = metK;
  c.fastMtt.met.stochasticTermSqrtGeV = metK;
  c.mmc.markovMaxExtensions = extensions;
  if (estimator == "maxw") c.mmc.massEstimator = MmcMassEstimator::Maxw;
  if (estimator == "mlnu3p") c.mmc.massEstimator = MmcMassEstimator::Mlnu3p;
  c.mmc.pdfPath = pdfs;
  std::printf("sample: %s, %zu events%s; MMC: %s\n",
              events.empty() ? "constructed" : events.c_str(), s.reco.size(),
              srOnly && !events.empty() ? " (signal region)" : "", c.mmc.describe().c_str());
  if (mode == "met") {
    // The MET resolution model against the sample: pulls (MET - true neutrino pT sum)/sigma.
    std::vector<double> pull, resid, sumEt;
    for (std::size_t i = 0; i < s.reco.size(); ++i) {
      const double sigma = c.mmc.met.sigmaGeV(s.reco[i].sumEt);
      const double dx = s.reco[i].metX - s.truth[i].neutrinos[0].px - s.truth[i].neutrinos[1].px;
      const double dy = s.reco[i].metY - s.truth[i].neutrinos[0].py - s.truth[i].neutrinos[1].py;
      for (const double d : {dx, dy}) {
        pull.push_back(d / sigma);
        resid.push_back(d);
      }
      sumEt.push_back(s.reco[i].sumEt);
    }
    auto robust = [](std::vector<double> v) {  // 1.4826 x median absolute deviation
      std::sort(v.begin(), v.end());
      const double med = v[v.size() / 2];
      for (auto& x : v) x = std::abs(x - med);
      std::sort(v.begin(), v.end());
      return 1.4826 * v[v.size() / 2];
    };
    auto rms = [](const std::vector<double>& v) {
      double a = 0;
      for (double x : v) a += x * x;
      return std::sqrt(a / v.size());
    };
    std::sort(sumEt.begin(), sumEt.end());
    std::printf(
        "median sum E_T %.1f GeV; MET residual per component: RMS %.2f GeV, robust sigma "
        "%.2f GeV; pull w.r.t. the model: RMS %.3f, robust sigma %.3f\n",
        sumEt[sumEt.size() / 2], rms(resid), robust(resid), rms(pull), robust(pull));
    return 0;
  }
  if (mode == "quality") {
    std::map<std::string, Output> outputs;
    std::size_t pos = 0;
    while (pos <= methods.size()) {
      const std::size_t comma = std::min(methods.find(',', pos), methods.size());
      const std::string m = methods.substr(pos, comma - pos);
      if (!m.empty()) outputs[m] = runMethod(m, s, c, table, threads);
      pos = comma + 1;
    }
    printQuality(s, outputs);
  } else if (mode == "speed") {
    // Wall-clock rates depend on what else runs on the machine; the CPU-time rate per core
    // (events / process CPU seconds) does not, and x2 is the rate on two free cores.
    std::printf("| method | threads | wall events/s | CPU ms/event | events/s per core (CPU) |\n");
    std::printf("|---|---:|---:|---:|---:|\n");
    for (const int t : {1, 2}) {
      std::map<std::string, double> wall, cpu;
      for (const std::string m : {"collinear", "fastmtt", "mmc"}) {
        // Collinear is so fast that one pass is near the timer resolution: repeat it.
        const int repeat = m == "collinear" ? 50 : 1;
        double w = 0, c2 = 0;
        for (int k = 0; k < repeat; ++k) {
          const Output o = runMethod(m, s, c, table, t);
          w += o.seconds;
          c2 += o.cpuSeconds;
        }
        const double n = static_cast<double>(s.reco.size()) * repeat;
        wall[m] = n / w;
        cpu[m] = n / c2;
        std::printf("| %s | %d | %.0f | %.4f | %.0f |\n", m.c_str(), t, wall[m], 1e3 / cpu[m],
                    cpu[m]);
      }
      std::printf("| ratio mmc/collinear | %d | %.2e | | %.2e |\n", t,
                  wall["mmc"] / wall["collinear"], cpu["mmc"] / cpu["collinear"]);
      std::printf("| ratio fastmtt/collinear | %d | %.2e | | %.2e |\n", t,
                  wall["fastmtt"] / wall["collinear"], cpu["fastmtt"] / cpu["collinear"]);
    }
  } else {
    std::printf(
        "| points | events/s per core (CPU) | ok %% | m median bias | HWHM m [%%] | HWHM px | HWHM "
        "pz "
        "| HWHM E |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const int p : effortPoints) {
      c.mmc.points = p;
      const Output o = runMethod("mmc", s, c, table, threads);
      const Resolution r = resolution(s, o, -1, 30);
      std::printf("| %d | %.0f | %.1f | %+.3f | %s | %s | %s | %s |\n", p,
                  s.reco.size() / o.cpuSeconds, 100.0 * r.ok / r.events, r.mass.medianBias,
                  pct(r.mass, true).c_str(), pct(r.tau[0], false).c_str(),
                  pct(r.tau[2], false).c_str(), pct(r.tau[3], false).c_str());
    }
  }
  return 0;
}

// Speed of the embedded generator (truth level, with decays), one thread, CPU time per event of
// each stage, compared in the same run with
//   * writing the same events to disk: HDF5 event file (io::writeEventFile) and HepMC3 ASCII;
//   * a reference loop: the least work any generator of these events must do -- flat (m, y, cos)
//     points, back-to-back taus boosted to the lab, isotropic two-body decays, no PDFs, no matrix
//     element, no spin, no unweighting -- so the ratio shows what the physics costs on top.
// No Pythia 8 (or other generator) package is installable on this machine (Debian 12 has none),
// so these are the peers. Usage: generator_benchmark [--events N] [--out-dir DIR] [--threads T]
#include <fmt/format.h>
#include <time.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/generator/HepMC3Writer.hpp"
#include "nurec/generator/ZTauTau.hpp"
#include "nurec/io/EventFile.hpp"

using namespace nurec;
using namespace nurec::generator;

namespace {
double cpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
struct Timing {
  double cpu = 0, wall = 0;
};
template <class F>
Timing timeIt(F&& f) {
  const double c0 = cpuSeconds(), w0 = wallSeconds();
  f();
  return {cpuSeconds() - c0, wallSeconds() - w0};
}

// The reference loop (see the header comment).
double referenceLoop(std::size_t n, std::uint64_t seed) {
  double checksum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(seed, i, streams::generator);
    const double m = rng.uniform(60, 120), y = rng.uniform(-2.5, 2.5), c = rng.uniform(-1, 1);
    const double phi = rng.uniform(0, 2 * constants::pi), s = std::sqrt(1 - c * c);
    const FourVector pair{0, 0, m * std::sinh(y), m * std::cosh(y)};
    const double p = std::sqrt(m * m / 4 - constants::mTau * constants::mTau);
    const Vector3 k{s * std::cos(phi), s * std::sin(phi), c};
    const FourVector taus[2] = {FourVector::fromMomentumMass(-k * p, constants::mTau),
                                FourVector::fromMomentumMass(k * p, constants::mTau)};
    for (const auto& tau : taus) {
      const Vector3 d = randomDirection(rng);
      const double q =
          (constants::mTau * constants::mTau - constants::mPiCharged * constants::mPiCharged) /
          (2 * constants::mTau);
      const FourVector pi = FourVector::fromMomentumMass(d * q, constants::mPiCharged);
      const FourVector nu = FourVector::fromMomentumMass(-d * q, 0);
      const Vector3 bt = tau.boostVector(), bp = pair.boostVector();
      checksum += pi.boosted(bt).boosted(bp).e + nu.boosted(bt).boosted(bp).pz;
    }
  }
  return checksum;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Speed of the embedded Z -> tau tau generator against peers measured in the same run"};
  std::size_t n = 200000;
  std::string outDir = "/tmp/nurec-generator-benchmark";
  int threads = 1;
  app.add_option("--events", n, "Events per measurement")->capture_default_str();
  app.add_option("--out-dir", outDir, "Where the output files are written (and removed)")
      ->capture_default_str();
  app.add_option("--threads", threads, "Threads for the extra multi-thread measurement")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(outDir);

  ZTauTauConfig config;
  config.nEvents = n;
  config.seed = 1;
  // Construction (pilot run for w_max) timed separately.
  const Timing tInit = timeIt([&] { ZTauTauGenerator g(config); });
  GeneratedSample sample;
  const Timing tGen = timeIt([&] { sample = generateZTauTauEvents(config, 1); });
  // Stages: the hard process alone (unweighted points) and decays alone.
  const ZTauTauGenerator gen(config);
  std::uint64_t trials = 0;
  const Timing tHard = timeIt([&] {
    for (std::size_t i = 0; i < n; ++i) {
      Rng rng(99, i, streams::generator);
      while (true) {
        const auto hp = gen.sampleHardPoint(rng);
        ++trials;
        if (rng.uniform() * gen.maxWeightPb() < hp.weight) break;
      }
    }
  });
  const Timing tDecay = timeIt([&] {
    std::array<TauDecay, 2> out;
    for (std::size_t i = 0; i < n; ++i) {
      Rng rng(98, i, streams::generator);
      const auto& ev = sample.events[i];
      const std::array<DecayMode, 2> modes = {gen.decayer().sampleMode(rng),
                                              gen.decayer().sampleMode(rng)};
      gen.decayer().decayPair(ev.spin, modes, {0, 0, 1}, {1, 0, 0}, {0, 1, 0}, rng, out);
    }
  });
  ZTauTauConfig cut = config;
  cut.nEvents = n / 4;
  cut.minVisiblePtGeV = 15;
  cut.maxVisibleAbsEta = 2.7;
  GeneratedSample cutSample;
  const Timing tCut = timeIt([&] { cutSample = generateZTauTauEvents(cut, 1); });
  double checksum = 0;
  const Timing tRef = timeIt([&] { checksum = referenceLoop(n, 1); });
  io::EventTable table;
  const Timing tTable = timeIt([&] { table = makeTruthTable(sample, config); });
  const std::string h5 = outDir + "/bench.h5", hepmc = outDir + "/bench.hepmc3";
  const Timing tH5 = timeIt([&] { io::writeEventFile(h5, table); });
  const Timing tHepMC = timeIt([&] { writeHepMC3(hepmc, sample.events, config.sqrtS); });
  const double h5Bytes = std::filesystem::file_size(h5),
               hepmcBytes = std::filesystem::file_size(hepmc);
  std::filesystem::remove(h5);
  std::filesystem::remove(hepmc);
  Timing tMt;
  if (threads != 1) tMt = timeIt([&] { generateZTauTauEvents(config, threads); });

  const double dn = static_cast<double>(n);
  auto rate = [&](const Timing& t, double events) { return events / t.cpu; };
  std::printf(
      "generator_benchmark: %zu events, 1 thread, rates from CPU time (wall time in brackets)\n",
      n);
  std::printf("  %-46s %12s %12s\n", "stage", "events/s", "us/event");
  auto row = [&](const char* name, const Timing& t, double events) {
    std::printf("  %-46s %12.0f %12.2f   [wall %.2f s]\n", name, rate(t, events),
                1e6 * t.cpu / events, t.wall);
  };
  row("full generator (hard + recoil + decays + spin)", tGen, dn);
  row("  hard process, unweighted (m, y, cos theta)", tHard, dn);
  row("  tau-pair decays with spin accept-reject", tDecay, dn);
  row("full generator with cuts pT(vis) > 15, |eta| < 2.7", tCut, dn / 4);
  row("reference loop (flat phase space, no physics)", tRef, dn);
  row("putTruth (events -> columns)", tTable, dn);
  row("write HDF5 event file (compressed)", tH5, dn);
  row("write HepMC3 ASCII", tHepMC, dn);
  std::printf("  generator construction (pilot for w_max): %.3f s CPU\n", tInit.cpu);
  std::printf("  hard-process trials per event: %.3f; decay-pair trials per event: %.3f\n",
              static_cast<double>(trials) / dn,
              static_cast<double>(sample.summary.decayTrials) / dn);
  std::printf("  cut acceptance: %.4f; file sizes: HDF5 %.0f B/event, HepMC3 %.0f B/event\n",
              cutSample.summary.acceptance, h5Bytes / dn, hepmcBytes / dn);
  std::printf("ratios (generator events/s over peer events/s):\n");
  std::printf("  vs writing HDF5:   %.2f   (generation %s than writing to disk)\n",
              tH5.cpu / tGen.cpu, tH5.cpu > tGen.cpu ? "faster" : "slower");
  std::printf("  vs writing HepMC3: %.2f\n", tHepMC.cpu / tGen.cpu);
  std::printf("  vs reference loop: %.3f  (physics costs %.1fx the bare kinematics)\n",
              tRef.cpu / tGen.cpu, tGen.cpu / tRef.cpu);
  if (threads != 1) {
    std::printf("  %d threads: %.0f events/s wall (%.2fx one thread, wall)\n", threads,
                dn / tMt.wall, tGen.wall / tMt.wall);
  }
  std::printf(
      "  1,000,000 events at this rate: %.0f s generation + %.0f s HDF5 writing (1 thread)\n",
      1e6 * tGen.cpu / dn, 1e6 * (tTable.cpu + tH5.cpu) / dn);
  std::printf("(checksum %.3g)\n", checksum);
  return 0;
}

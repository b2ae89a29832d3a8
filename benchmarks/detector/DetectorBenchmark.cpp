// detector_benchmark: events per second of the detector simulation and of HepMC3 reading, each
// next to a peer measured in the same run (docs/detector.md "Speed"):
//   simulateDetector (table in, table out)  vs  reading the truth columns alone (io::getTruth)
//   DetectorSimulation::simulate per event   vs  FastJet anti-kt clustering of the recoil alone
//   io::readHepMC3 (parse + tau finding)     vs  HepMC3::ReaderAscii parsing alone
// Events come from nurec's generator (default) or from --input FILE.h5. One thread unless told.
#include <HepMC3/GenEvent.h>
#include <HepMC3/GenParticle.h>
#include <HepMC3/GenVertex.h>
#include <HepMC3/ReaderAscii.h>
#include <HepMC3/Setup.h>
#include <HepMC3/WriterAscii.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <fastjet/ClusterSequence.hh>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/detector/DetectorSimulation.hpp"
#include "nurec/generator/ZTauTau.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/HepMC3Reader.hpp"
#include "nurec/io/Schema.hpp"

using namespace nurec;

namespace {

double seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A HepMC3 record like a generator's: beams -> partons -> Z + recoil, Z -> taus -> products.
void writeRecords(const std::string& path, const std::vector<TruthEvent>& events) {
  HepMC3::WriterAscii writer(path);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& ev = events[i];
    HepMC3::GenEvent evt(HepMC3::Units::GEV, HepMC3::Units::MM);
    evt.set_event_number(static_cast<int>(i));
    evt.weights() = {ev.weightPb};
    auto mk = [](const FourVector& p, int id, int status) {
      return std::make_shared<HepMC3::GenParticle>(HepMC3::FourVector(p.px, p.py, p.pz, p.e), id,
                                                   status);
    };
    auto b1 = mk({0, 0, 6500, 6500}, 2212, 4), b2 = mk({0, 0, -6500, 6500}, 2212, 4);
    auto hard = std::make_shared<HepMC3::GenVertex>();
    hard->add_particle_in(b1);
    hard->add_particle_in(b2);
    auto z = mk(ev.boson, 23, 22);
    hard->add_particle_out(z);
    for (const auto& r : ev.recoil) hard->add_particle_out(mk(r.p4, r.pdgId, 1));
    evt.add_vertex(hard);
    auto vz = std::make_shared<HepMC3::GenVertex>();
    vz->add_particle_in(z);
    evt.add_vertex(vz);
    for (int t = 0; t < 2; ++t) {
      auto tau = mk(ev.tau[t], t == 0 ? -15 : 15, 2);
      vz->add_particle_out(tau);
      auto vt = std::make_shared<HepMC3::GenVertex>();
      vt->add_particle_in(tau);
      for (const auto& p : ev.tauProducts[t]) vt->add_particle_out(mk(p.p4, p.pdgId, 1));
      for (const auto& p : ev.tauNeutrinos[t]) vt->add_particle_out(mk(p.p4, p.pdgId, 1));
      evt.add_vertex(vt);
    }
    writer.write_event(evt);
  }
  writer.close();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Speed of nurec's detector simulation and HepMC3 reader, with same-run peers"};
  std::size_t nEvents = 100000, nHepMC3 = 20000;
  std::string input;
  int threads = 1;
  app.add_option("--events", nEvents, "Events to generate (ignored with --input)")
      ->capture_default_str();
  app.add_option("--hepmc3-events", nHepMC3, "Events written to and read from HepMC3")
      ->capture_default_str();
  app.add_option("--input", input, "Use this nurec event file (/truth) instead of generating");
  app.add_option("--threads", threads, "Threads of the simulateDetector measurement")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  io::EventTable table;
  if (input.empty()) {
    generator::ZTauTauConfig c;
    c.nEvents = nEvents;
    c.seed = 5;
    auto sample = generator::generateZTauTauEvents(c, 1);
    table = generator::makeTruthTable(sample, c);
  } else {
    table = io::readEventFile(input);
  }
  const std::size_t n = table.nEvents();
  const detector::DetectorConfig config;
  std::printf("detector_benchmark: %zu events (%s), 1 thread unless stated\n", n,
              input.empty() ? "nurec generator, default settings" : input.c_str());

  // Peer 1: reading the truth columns into TruthEvent structs.
  auto t0 = std::chrono::steady_clock::now();
  const std::vector<TruthEvent> truth = io::getTruth(table);
  const double tTruth = seconds(t0);
  // simulateDetector on the table (getTruth + simulation + putReco + point cloud), 1 thread.
  io::EventTable work = table;
  t0 = std::chrono::steady_clock::now();
  detector::simulateDetector(work, config, 1, 1);
  const double tSim1 = seconds(t0);
  double tSimN = 0;
  if (threads != 1) {
    io::EventTable workN = table;
    t0 = std::chrono::steady_clock::now();
    detector::simulateDetector(workN, config, 1, threads);
    tSimN = seconds(t0);
  }
  // Per-event simulate() and, as its peer, FastJet anti-kt on the same recoil particles.
  const detector::DetectorSimulation sim(config);
  std::size_t inSr = 0;
  t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(1, i, streams::detector);
    inSr += sim.simulate(truth[i], rng).reco.passSr ? 1 : 0;
  }
  const double tEvent = seconds(t0);
  const fastjet::JetDefinition jetDef(fastjet::antikt_algorithm, config.jetRadius);
  std::size_t nJets = 0;
  t0 = std::chrono::steady_clock::now();
  for (const auto& ev : truth) {
    std::vector<fastjet::PseudoJet> in;
    for (const auto& p : ev.recoil)
      if (!pdg::isNeutrino(p.pdgId)) in.emplace_back(p.p4.px, p.p4.py, p.p4.pz, p.p4.e);
    if (in.empty()) continue;
    fastjet::ClusterSequence cs(in, jetDef);
    nJets += cs.inclusive_jets(10.0).size();
  }
  const double tJets = seconds(t0);
  double meanRecoil = 0;
  for (const auto& ev : truth) meanRecoil += static_cast<double>(ev.recoil.size());
  meanRecoil /= static_cast<double>(std::max<std::size_t>(n, 1));

  auto rate = [n](double t) { return static_cast<double>(n) / std::max(t, 1e-12); };
  std::printf("\n| measurement | time [s] | events/s | ratio to peer |\n|---|---:|---:|---:|\n");
  std::printf("| io::getTruth (peer: read the truth columns) | %.3f | %.0f | 1 |\n", tTruth,
              rate(tTruth));
  std::printf("| simulateDetector, table in/out, 1 thread | %.3f | %.0f | %.2f x slower |\n", tSim1,
              rate(tSim1), tSim1 / tTruth);
  if (threads != 1)
    std::printf("| simulateDetector, %d threads | %.3f | %.0f | %.2f x the 1-thread rate |\n",
                threads, tSimN, rate(tSimN), tSim1 / tSimN);
  std::printf(
      "| FastJet anti-kt R=0.4 alone (peer), %.1f recoil particles/event | %.3f | %.0f | 1 |\n",
      meanRecoil, tJets, rate(tJets));
  std::printf("| DetectorSimulation::simulate per event | %.3f | %.0f | %.2f x FastJet alone |\n",
              tEvent, rate(tEvent), tEvent / tJets);
  std::printf(
      "(%zu events in the SR, %zu FastJet jets above 10 GeV; target >= 20000 events/s/core)\n",
      inSr, nJets);

  // HepMC3 reading.
  const std::size_t nh = std::min(nHepMC3, n);
  const std::vector<TruthEvent> subset(truth.begin(),
                                       truth.begin() + static_cast<std::ptrdiff_t>(nh));
  const std::string path = (std::filesystem::temp_directory_path() /
                            fmt::format("nurec-detector-bench-{}.hepmc3", ::getpid()))
                               .string();
  writeRecords(path, subset);
  const auto bytes = std::filesystem::file_size(path);
  HepMC3::Setup::set_print_warnings(false);
  t0 = std::chrono::steady_clock::now();
  std::size_t nRaw = 0;
  {
    HepMC3::ReaderAscii reader(path);
    while (true) {
      HepMC3::GenEvent evt;
      if (!reader.read_event(evt) || reader.failed()) {
        if (!evt.particles().empty()) ++nRaw;
        break;
      }
      ++nRaw;
    }
  }
  const double tRaw = seconds(t0);
  t0 = std::chrono::steady_clock::now();
  const auto read = io::readHepMC3(path);
  const double tRead = seconds(t0);
  std::filesystem::remove(path);
  std::printf(
      "\n| HepMC3 (%zu events, %.1f MB ASCII) | time [s] | events/s | ratio to peer |\n"
      "|---|---:|---:|---:|\n",
      nh, static_cast<double>(bytes) / 1e6);
  std::printf("| HepMC3::ReaderAscii alone (peer), %zu events | %.3f | %.0f | 1 |\n", nRaw, tRaw,
              static_cast<double>(nRaw) / tRaw);
  std::printf(
      "| io::readHepMC3 (parse, find taus, classify, recoil), %zu ok | %.3f | %.0f | %.2f x slower "
      "|\n",
      read.statusCounts[0], tRead, static_cast<double>(read.events.size()) / tRead, tRead / tRaw);
  return 0;
}

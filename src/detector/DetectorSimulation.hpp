#pragma once
// Fast detector simulation, triggers and the seven-channel selection (docs/physics.md section 10),
// and the ML point cloud /reco/particles (docs/ml-methods.md section 1; layout documented in
// docs/detector.md).
//
//   DetectorSimulation sim(config);          // validates, const afterwards
//   Rng rng(seed, i, streams::detector);
//   SimulatedEvent out = sim.simulate(truth[i], rng);
//
// or, on a whole event table (reads /truth, adds /reco and /reco/particles[_mask]):
//   simulateDetector(table, config, seed, threads);
#include <array>
#include <cstdint>
#include <memory>

#include "nurec/core/Event.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/detector/DetectorConfig.hpp"
#include "nurec/io/EventTable.hpp"

namespace nurec {
class Progress;
}

namespace nurec::detector {

// Point cloud: 10 slots x 13 features (docs/detector.md). Slots: 0 tau+ track or lepton,
// 1 tau+ pi0 cluster, 2 tau- track or lepton, 3 tau- pi0 cluster, 4-8 up to 5 leading jets,
// 9 MET (always present). Features: log(pT/GeV), eta, phi, log(E/GeV), charge, one-hot type
// (pi+- track, pi0 cluster, e, mu, jet, MET), px/50 GeV, py/50 GeV.
inline constexpr int kCloudSlots = 10;
inline constexpr int kCloudFeatures = 13;
inline constexpr int kCloudMaxJets = 5;
inline constexpr double kCloudMomentumScaleGeV = 50;
inline constexpr double kCloudMinLogArgGeV = 1e-3;  // log(max(x, 1e-3)): a MET of exactly 0
enum class CloudSlot : int {
  TauPlusTrack = 0,
  TauPlusPi0 = 1,
  TauMinusTrack = 2,
  TauMinusPi0 = 3,
  FirstJet = 4,
  Met = 9
};
enum class CloudType : int { Track = 0, Pi0 = 1, Electron = 2, Muon = 3, Jet = 4, Met = 5 };
namespace feature {
inline constexpr int logPt = 0, eta = 1, phi = 2, logE = 3, charge = 4, typeOneHot = 5,
                     pxScaled = 11, pyScaled = 12;
}

struct PointCloud {
  std::array<std::array<float, kCloudFeatures>, kCloudSlots> features{};
  std::array<std::uint8_t, kCloudSlots> mask{};
};

// The point cloud of one reconstructed event; `charges` are the reconstructed charges of the two
// candidates (index 0 is the positive one except in same-sign events, which fail the SR).
PointCloud buildPointCloud(const RecoEvent& reco, const std::array<int, 2>& charges = {+1, -1});

struct SimulatedEvent {
  RecoEvent reco;
  PointCloud cloud;
};

class DetectorSimulation {
 public:
  explicit DetectorSimulation(const DetectorConfig& config);  // validates the config
  ~DetectorSimulation();
  DetectorSimulation(const DetectorSimulation&) = delete;
  DetectorSimulation& operator=(const DetectorSimulation&) = delete;

  // One event; all randomness from rng (use Rng(seed, eventIndex, streams::detector)).
  // vertexRng (the event's streams::detectorVertex stream) measures the primary vertex and track
  // impact parameters when the truth has positions; nullptr skips them.
  SimulatedEvent simulate(const TruthEvent& truth, Rng& rng, Rng* vertexRng = nullptr) const;
  const DetectorConfig& config() const { return config_; }

 private:
  struct Impl;
  DetectorConfig config_;
  std::unique_ptr<const Impl> impl_;
};

// Channel of a pair of reconstructed tau types (order irrelevant); Channel::None for lepton-lepton
// pairs or a missing candidate.
Channel channelOf(RecoTauType a, RecoTauType b);

// One uniform draw in [0, 1) per candidate (index as in RecoEvent): a trigger leg on candidate t
// fires when u[t] < the leg's turn-on efficiency at the candidate's offline pT
// (DetectorConfig::TriggerTurnOn). simulate() draws them from the event's stream.
struct TriggerDraws {
  std::array<double, 2> u{0, 0};
};

// Trigger decision on the reconstructed candidates (docs/physics.md section 10): di-tau, e+tau or
// single e, mu+tau or single mu. Candidates of type None are ignored.
bool passTrigger(const RecoEvent& reco, const DetectorConfig& config, const TriggerDraws& draws);

// Channel, trigger and signal region of an event whose candidates are filled with index 0 the
// positive one (charges: +1 for index 0, -1 for index 1 unless given): sets reco.channel,
// reco.passTrigger and reco.passSr.
void applySelection(RecoEvent& reco, const std::array<int, 2>& charges,
                    const DetectorConfig& config, const TriggerDraws& draws);

// Reads /truth (io::getTruth), simulates every event i with Rng(seed, i, streams::detector), and
// writes /reco (io::putReco) plus /reco/particles (f4, (N,10,13)) and /reco/particles_mask (u1,
// (N,10)). Results do not depend on `threads` (0 = all cores).
void simulateDetector(io::EventTable& table, const DetectorConfig& config, std::uint64_t seed,
                      int threads, Progress* progress = nullptr);

}  // namespace nurec::detector

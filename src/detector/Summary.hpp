#pragma once
// Per-channel selection summary of a simulated event table: events, trigger and signal-region
// efficiencies and the expected yield per fb^-1 (docs/yields.md).
#include <array>
#include <cstddef>
#include <string>

#include "nurec/core/Event.hpp"
#include "nurec/io/EventTable.hpp"

namespace nurec::detector {

// NNLO / LO normalisation of Z/gamma* -> tau tau (docs/physics.md section 4): NNLO about 1.9 nb
// (quoted) over the LO CTEQ5L 1479.8 pb for 66 < m < 116 GeV, applied as a mass-independent
// factor (1.9 / 1.5016 = 1.27 for 60-120 GeV).
inline constexpr double kNnloKFactor = 1.28;
// N3LO / LO normalisation of g g -> H -> tau tau at 13 TeV, m_H = 125 GeV (docs/physics.md
// section 14): 48.58 pb (quoted, LHC Higgs WG YR4) over the generator's LO 15.67 pb.
inline constexpr double kGgfHiggsKFactor = 3.10;

// The default K of a file's yields (`simulate`'s summary, `spin`'s significance): kGgfHiggsKFactor
// when its run card (attribute "config") generated g g -> H, i.e. holds the line
// "resonance: higgs" the generator writes; kNnloKFactor otherwise (Z/gamma*, HepMC3 input).
double defaultKFactor(const io::EventTable& table);

struct ChannelCounts {
  std::size_t events = 0;  // reconstructed in this channel
  std::size_t passTrigger = 0;
  std::size_t passSr = 0;
  double sumWeightSrPb = 0;  // sum of /weight over events in the SR
};

struct SelectionSummary {
  // Index = channel value 0..6; index 7 = no channel.
  std::array<ChannelCounts, kNumChannels + 1> channels{};
  ChannelCounts total;
  std::size_t generated = 0;  // rows in the table
  double kFactor = kNnloKFactor;
  // Expected SR events per fb^-1: sum(weight [pb]) x 1000 pb^-1 x kFactor.
  double yieldPerInvFb(const ChannelCounts& c) const;
  // Adds the counts of another part of the same sample (a file simulated in chunks).
  SelectionSummary& operator+=(const SelectionSummary& part);
  // Multiplies the summed weights by factor (weights normalised after the fact).
  void scaleWeights(double factor);
};

// Reads /weight, /reco/channel, /reco/pass_trigger, /reco/pass_sr.
SelectionSummary summarizeSelection(const io::EventTable& table, double kFactor = kNnloKFactor);
// A Markdown table, one row per channel plus "none" and the total.
std::string formatSummary(const SelectionSummary& s);

}  // namespace nurec::detector

#include "nurec/detector/Summary.hpp"

#include <fmt/format.h>

#include <sstream>

#include "nurec/core/Units.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::detector {

namespace {
void addCounts(ChannelCounts& into, const ChannelCounts& part) {
  into.events += part.events;
  into.passTrigger += part.passTrigger;
  into.passSr += part.passSr;
  into.sumWeightSrPb += part.sumWeightSrPb;
}
}  // namespace

SelectionSummary& SelectionSummary::operator+=(const SelectionSummary& part) {
  for (std::size_t c = 0; c < channels.size(); ++c) addCounts(channels[c], part.channels[c]);
  addCounts(total, part.total);
  generated += part.generated;
  return *this;
}

double defaultKFactor(const io::EventTable& table) {
  if (!table.hasAttribute("config")) return kNnloKFactor;
  std::istringstream lines(table.stringAttribute("config"));
  std::string line;
  while (std::getline(lines, line))
    if (line == "resonance: higgs") return kGgfHiggsKFactor;
  return kNnloKFactor;
}

double SelectionSummary::yieldPerInvFb(const ChannelCounts& c) const {
  return c.sumWeightSrPb * units::invFb * kFactor;
}

void SelectionSummary::scaleWeights(double factor) {
  total.sumWeightSrPb *= factor;
  for (auto& c : channels) c.sumWeightSrPb *= factor;
}

SelectionSummary summarizeSelection(const io::EventTable& table, double kFactor) {
  SelectionSummary s;
  s.kFactor = kFactor;
  s.generated = table.nEvents();
  const auto weight = table.get<double>(io::ds::weight, {});
  const auto channel = table.get<std::int8_t>(io::ds::recoChannel, {});
  const auto trig = table.get<std::uint8_t>(io::ds::recoPassTrigger, {});
  const auto sr = table.get<std::uint8_t>(io::ds::recoPassSr, {});
  for (std::size_t i = 0; i < s.generated; ++i) {
    const int ch = channel[i] >= 0 && channel[i] < kNumChannels ? channel[i] : kNumChannels;
    for (ChannelCounts* c : {&s.channels[static_cast<std::size_t>(ch)], &s.total}) {
      ++c->events;
      c->passTrigger += trig[i] ? 1 : 0;
      if (sr[i]) {
        ++c->passSr;
        c->sumWeightSrPb += weight[i];
      }
    }
  }
  return s;
}

std::string formatSummary(const SelectionSummary& s) {
  auto frac = [](std::size_t a, std::size_t b) {
    return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
  };
  std::string out = fmt::format(
      "| channel | events | trigger eff. | SR eff. | SR / all rows | SR events per fb^-1 (K = "
      "{:.2f}) |\n"
      "|---|---:|---:|---:|---:|---:|\n",
      s.kFactor);
  auto row = [&](const char* name, const ChannelCounts& c) {
    out += fmt::format("| {} | {} | {:.4f} | {:.4f} | {:.5f} | {:.1f} |\n", name, c.events,
                       frac(c.passTrigger, c.events), frac(c.passSr, c.events),
                       frac(c.passSr, s.generated), s.yieldPerInvFb(c));
  };
  for (int ch = 0; ch < kNumChannels; ++ch)
    row(channelName(static_cast<Channel>(ch)), s.channels[static_cast<std::size_t>(ch)]);
  row("none", s.channels[kNumChannels]);
  row("all", s.total);
  return out;
}

}  // namespace nurec::detector

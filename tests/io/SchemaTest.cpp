#include <gtest/gtest.h>

#include <limits>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"

using namespace nurec;
using namespace nurec::io;

namespace {
TruthEvent makeTruth(int i) {
  TruthEvent ev;
  ev.weightPb = 1.5 + i;
  ev.boson = {1, 2, 3, 95};
  for (int t = 0; t < 2; ++t) {
    ev.tau[t] = {10.0 * t + i, 2, 3, 40};
    ev.visible[t] = {5.0 + t, 1, 1, 20};
    ev.neutrinos[t] = {5, 1, 2, 20};
    ev.chargedPion[t] = {4, 1, 1, 15};
    ev.neutralPion[t] = {1, 0, 0, 5};
    ev.decayMode[t] = t == 0 ? DecayMode::Rho : DecayMode::Muon;
    ev.tauProducts[t].push_back({{4, 1, 1, 15}, t == 0 ? 211 : 13});
  }
  ev.tauProducts[0].push_back({{1, 0, 0, 5}, 111});
  for (int j = 0; j < i; ++j) ev.recoil.push_back({{1.0 * j, 0, 0, 1.0 * j + 1}, 211});
  ev.tauNeutrinos[0].push_back({{5, 1, 2, 20}, -16});
  ev.tauNeutrinos[1].push_back({{2, 1, 1, 8}, 16});
  ev.tauNeutrinos[1].push_back({{3, 0, 1, 12}, -14});
  ev.partonPdg = {2, -2};
  ev.partonX = {0.01, 0.02};
  ev.spin.bPlus = {0.1, 0.2, 0.3};
  ev.spin.bMinus = {0.4, 0.5, 0.6};
  ev.spin.c = {{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}};
  return ev;
}
}  // namespace

TEST(Schema, TruthRoundTripThroughFile) {
  TempDir dir;
  std::vector<TruthEvent> events;
  for (int i = 0; i < 4; ++i) events.push_back(makeTruth(i));
  EventTable table(events.size());
  putTruth(table, events);
  writeEventFile(dir.file("t.h5"), table);
  const auto back = getTruth(readEventFile(dir.file("t.h5")));
  ASSERT_EQ(back.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(back[i].weightPb, events[i].weightPb);
    EXPECT_EQ(back[i].tau, events[i].tau);
    EXPECT_EQ(back[i].visible, events[i].visible);
    EXPECT_EQ(back[i].neutralPion, events[i].neutralPion);
    EXPECT_EQ(back[i].decayMode, events[i].decayMode);
    ASSERT_EQ(back[i].tauProducts[0].size(), 2u);
    EXPECT_EQ(back[i].tauProducts[0][1].pdgId, 111);
    EXPECT_EQ(back[i].recoil.size(), events[i].recoil.size());
    EXPECT_EQ(back[i].spin.c[2][1], 8);
    ASSERT_EQ(back[i].tauNeutrinos[1].size(), 2u);
    EXPECT_EQ(back[i].tauNeutrinos[1][1].pdgId, -14);
    EXPECT_EQ(back[i].tauNeutrinos[1][1].p4.e, 12);
    EXPECT_EQ(back[i].partonPdg[1], -2);
    EXPECT_EQ(back[i].partonX[1], 0.02);
    EXPECT_EQ(back[i].spin.bMinus[2], 0.6);
  }
}

TEST(Schema, RecoAndNuRoundTrip) {
  std::vector<RecoEvent> events(3);
  events[1].tauType = {RecoTauType::Pi, RecoTauType::Electron};
  events[1].channel = Channel::EPi;
  events[1].jets = {{30, 0, 0, 31}, {20, 1, 0, 21}};
  events[1].metX = 12.5;
  events[1].passSr = true;
  EventTable table(3);
  putReco(table, events);
  NuEstimate nu;
  nu.p4 = {{FourVector{1, 2, 3, 4}, FourVector{}}, {}, {}};
  nu.status = {0, 1, 2};
  putNu(table, "mmc", nu);
  const auto back = getReco(table);
  EXPECT_EQ(back[1].channel, Channel::EPi);
  EXPECT_EQ(back[1].jets.size(), 2u);
  EXPECT_EQ(back[1].jets[1].py, 1);
  EXPECT_EQ(back[1].metX, 12.5);
  EXPECT_TRUE(back[1].passSr);
  EXPECT_FALSE(back[0].passSr);
  EXPECT_EQ(nuMethods(table), std::vector<std::string>{"mmc"});
  EXPECT_EQ(getNu(table, "mmc").p4[0][0].pz, 3);
  EXPECT_EQ(getNu(table, "mmc").status[2], 2);
}

TEST(Schema, InvalidEnumValueIsAnInputError) {
  EventTable table(1);
  std::vector<RecoEvent> events(1);
  putReco(table, events);
  table.set<std::int8_t>("/reco/channel", {}, {9});
  EXPECT_THROW(getReco(table), InputError);
}

// Issue 22.11: one check of the reco inputs for every method. Negative /reco/sum_et was accepted
// by the classical methods, NaN /reco/met by evaluate; each bad value is named with its event.
TEST(Schema, ValidateRecoRefusesBadValuesNamingDatasetAndEvent) {
  std::vector<RecoEvent> events(4);
  for (auto& ev : events) ev.sumEt = 100;
  EventTable good(4);
  putReco(good, events);
  good.set<std::uint8_t>(ds::recoParticlesMask, {3}, std::vector<std::uint8_t>(12, 1));
  EXPECT_NO_THROW(validateReco(good));
  auto expectRefused = [](const EventTable& t, const std::string& needle) {
    try {
      validateReco(t);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_THROW(getReco(t), InputError) << needle;  // the classical methods read through it
  };
  {
    EventTable t = good;
    t.set<double>(ds::recoSumEt, {}, {100, 100, -5, 100});
    expectRefused(t, "/reco/sum_et is negative (-5) in event 2");
  }
  {
    EventTable t = good;
    std::vector<double> met(8, 1.0);
    met[3] = std::numeric_limits<double>::quiet_NaN();
    t.set<double>(ds::recoMet, {2}, met);
    expectRefused(t, "/reco/met");
  }
  {
    EventTable t = good;
    t.set<std::int8_t>(ds::recoChannel, {}, {0, 100, 0, 0});
    expectRefused(t, "/reco/channel has channel 100, expected -1..6, in event 1");
  }
  {
    EventTable t = good;
    t.set<std::int8_t>(ds::recoTauType, {2}, {0, 0, 0, 0, 0, 0, 7, 0});
    expectRefused(t, "/reco/tau_type has tau type 7");
  }
  {
    EventTable t = good;
    std::vector<std::uint8_t> mask(12, 1);
    mask[10] = 2;
    t.set<std::uint8_t>(ds::recoParticlesMask, {3}, mask);
    expectRefused(t, "/reco/particles_mask has value 2 (not 0/1) in event 3");
  }
  {
    EventTable t = good;
    t.set<double>(ds::recoPrimaryVertex, {3}, std::vector<double>(12, 0.0));
    expectRefused(t, "come together");
  }
}

// The t tbar detector output in the event file (detector/ttbar/TTbarRecoTable.hpp).
#include <gtest/gtest.h>

#include "nurec/core/Error.hpp"
#include "nurec/detector/ttbar/TTbarRecoTable.hpp"

using namespace nurec;
using namespace nurec::detector::ttbar;

namespace {

std::vector<TTbarRecoEvent> sampleEvents() {
  TTbarRecoEvent a;
  a.jets.push_back({FourVector(40, 10, 5, 42), true, 0, 5});
  a.jets.push_back({FourVector(-30, 20, -50, 62), false, -1, 21});
  a.leptons.push_back({FourVector(10, -25, 3, 27.1), -13});
  a.metX = 12.5;
  a.metY = -3;
  a.sumEt = 300;
  a.selection = TTbarSelection::tooFewJets;
  TTbarRecoEvent b;  // no jets, no lepton
  b.selection = TTbarSelection::noLepton;
  return {a, b};
}

}  // namespace

TEST(TTbarRecoTable, RoundTripAndPointCloud) {
  const auto events = sampleEvents();
  io::EventTable table(events.size());
  putTTbarReco(table, events, 20);
  const auto back = getTTbarReco(table);
  ASSERT_EQ(back.size(), 2u);
  ASSERT_EQ(back[0].jets.size(), 2u);
  EXPECT_EQ(back[0].jets[1].p4.pz, -50);
  EXPECT_TRUE(back[0].jets[0].bTagged);
  EXPECT_EQ(back[0].jets[0].truthParton, 0);
  EXPECT_EQ(back[0].jets[1].truthParton, kNoParton);
  ASSERT_EQ(back[0].leptons.size(), 1u);
  EXPECT_EQ(back[0].leptons[0].pdgId, -13);
  EXPECT_EQ(back[0].metY, -3);
  EXPECT_EQ(back[0].selection, TTbarSelection::tooFewJets);
  EXPECT_TRUE(back[1].jets.empty());
  EXPECT_TRUE(back[1].leptons.empty());
  // The point cloud: lepton in slot 0, two jets, the rest masked.
  const auto mask = table.get<std::uint8_t>(ds::particlesMask, {kCloudSlots});
  EXPECT_EQ(mask[0] + mask[1] + mask[2] + mask[3], 3);
  EXPECT_EQ(table.get<std::uint8_t>(ds::passSelection, {})[0], 0);
}

TEST(TTbarRecoTable, MalformedColumnsAreInputErrors) {
  const auto events = sampleEvents();
  io::EventTable table(events.size());
  putTTbarReco(table, events, 20);
  table.setSource("r.h5");
  io::EventTable tooMany = table;
  tooMany.set(ds::nJets, {}, std::vector<std::int32_t>{21, 0});
  EXPECT_THROW(getTTbarReco(tooMany), InputError);
  io::EventTable badLepton = table;
  badLepton.set(ds::leptonsPdg, {2}, std::vector<std::int32_t>{15, 0, 0, 0});
  EXPECT_THROW(getTTbarReco(badLepton), InputError);
  io::EventTable badCode = table;
  badCode.set(ds::selection, {}, std::vector<std::int8_t>{9, 1});
  EXPECT_THROW(getTTbarReco(badCode), InputError);
  io::EventTable nan = table;
  nan.set(ds::met, {2}, std::vector<double>{0, std::nan(""), 0, 0});
  EXPECT_THROW(getTTbarReco(nan), InputError);
}

// The t tbar truth in the event file (generator/ttbar/TTbarTable.hpp, docs/data-format.md
// "t tbar"): columns round-trip, chunked generation equals one piece, bad values are refused.
#include <gtest/gtest.h>

#include "nurec/core/Error.hpp"
#include "nurec/generator/ttbar/TTbarTable.hpp"

using namespace nurec;
using namespace nurec::generator::ttbar;

namespace {

TTbarConfig smallConfig(std::size_t n) {
  TTbarConfig c;
  c.nEvents = n;
  c.seed = 21;
  c.pilotPoints = 2000;
  return c;
}

std::vector<TTbarEvent> generateAll(const TTbarConfig& c, std::size_t chunk,
                                    TTbarChunkedGeneration* summary = nullptr) {
  std::vector<TTbarEvent> all;
  auto run = generateTTbarChunks(c, 1, false, chunk, [&](std::size_t first, auto& events) {
    EXPECT_EQ(first, all.size());
    all.insert(all.end(), events.begin(), events.end());
  });
  if (summary) *summary = run;
  return all;
}

}  // namespace

TEST(TTbarTable, RoundTripKeepsEveryField) {
  const auto events = generateAll(smallConfig(50), 50);
  io::EventTable table(events.size());
  putTTbarTruth(table, events);
  const auto back = getTTbarTruth(table);
  ASSERT_EQ(back.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(back[i].record(), events[i].record()) << i;
    EXPECT_EQ(back[i].leptonPdg, events[i].leptonPdg);
    EXPECT_EQ(back[i].leptonicTop, events[i].leptonicTop);
    EXPECT_EQ(back[i].quarkPdg, events[i].quarkPdg);
    EXPECT_EQ(back[i].antiquarkPdg, events[i].antiquarkPdg);
    EXPECT_EQ(back[i].initial, events[i].initial);
    EXPECT_EQ(back[i].x1, events[i].x1);
    EXPECT_EQ(back[i].scaleGeV, events[i].scaleGeV);
    EXPECT_EQ(back[i].productionC, events[i].productionC);
    ASSERT_EQ(back[i].isr.emissions.size(), events[i].isr.emissions.size());
    for (std::size_t k = 0; k < events[i].isr.emissions.size(); ++k)
      EXPECT_EQ(back[i].isr.emissions[k].y, events[i].isr.emissions[k].y);
    EXPECT_EQ(back[i].isr.pairPx(), events[i].isr.pairPx());
  }
}

TEST(TTbarTable, ChunksGiveTheEventsAndWeightsOfOnePiece) {
  const TTbarConfig c = smallConfig(40);
  TTbarChunkedGeneration whole, chunked;
  const auto a = generateAll(c, 40, &whole);
  const auto b = generateAll(c, 7, &chunked);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].record(), b[i].record()) << i;
  EXPECT_EQ(whole.weightsPb, chunked.weightsPb);
  EXPECT_EQ(whole.summary.crossSectionPb, chunked.summary.crossSectionPb);
  // Unweighted: each event carries sigma x BR / N, so the weights sum to the cross section.
  double sum = 0;
  for (double w : whole.weightsPb) sum += w;
  EXPECT_NEAR(sum, whole.summary.crossSectionPb, 1e-9 * sum);
}

TEST(TTbarTable, UnknownLeptonAndBadEmissionCountAreInputErrors) {
  const auto events = generateAll(smallConfig(3), 3);
  io::EventTable table(events.size());
  putTTbarTruth(table, events);
  table.setSource("t.h5");
  io::EventTable badLepton = table;
  badLepton.set(ds::leptonPdg, {}, std::vector<std::int32_t>{11, 15, 13});
  EXPECT_THROW(getTTbarTruth(badLepton), InputError);
  io::EventTable badCount = table;
  badCount.set(ds::isrCount, {}, std::vector<std::int32_t>{0, -1, 0});
  try {
    getTTbarTruth(badCount);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/truth/isr_count of event 1"), std::string::npos)
        << e.what();
  }
}

// Per-channel selection summary: counts, efficiencies and yields per fb^-1.
#include <gtest/gtest.h>

#include "nurec/detector/Summary.hpp"
#include "nurec/io/Schema.hpp"

using namespace nurec;
using namespace nurec::detector;

TEST(Summary, CountsAndYieldPerInverseFemtobarn) {
  io::EventTable t(5);
  t.set<double>(io::ds::weight, {}, {0.1, 0.2, 0.3, 0.4, 0.5});
  t.set<std::int8_t>(io::ds::recoChannel, {}, {0, 0, 5, -1, 5});
  t.set<std::uint8_t>(io::ds::recoPassTrigger, {}, {1, 0, 1, 1, 1});
  t.set<std::uint8_t>(io::ds::recoPassSr, {}, {1, 0, 1, 0, 0});
  const auto s = summarizeSelection(t, 1.5);
  EXPECT_EQ(s.generated, 5u);
  EXPECT_EQ(s.channels[0].events, 2u);
  EXPECT_EQ(s.channels[0].passTrigger, 1u);
  EXPECT_EQ(s.channels[0].passSr, 1u);
  EXPECT_EQ(s.channels[5].events, 2u);
  EXPECT_EQ(s.channels[7].events, 1u);  // no channel
  EXPECT_EQ(s.total.passSr, 2u);
  // Yield = sum(weight [pb]) x 1000 pb^-1 per fb^-1 x K.
  EXPECT_NEAR(s.yieldPerInvFb(s.channels[0]), 0.1 * 1000 * 1.5, 1e-9);
  EXPECT_NEAR(s.yieldPerInvFb(s.total), 0.4 * 1000 * 1.5, 1e-9);
  const std::string text = formatSummary(s);
  EXPECT_NE(text.find("| murho | 2 | 1.0000 | 0.5000 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| all | 5 |"), std::string::npos);
  EXPECT_NEAR(kNnloKFactor, 1.9e3 / 1479.8, 0.01);  // docs/physics.md section 4
}

// The default K of the yields follows the generator's run card (docs/physics.md sections 4, 14).
TEST(Summary, DefaultKFactorFollowsTheRunCard) {
  io::EventTable table(1);
  EXPECT_EQ(defaultKFactor(table), kNnloKFactor);  // no run card: HepMC3 input
  table.setAttribute("config", std::string("process: ztautau\nmass_prior: physical\n"));
  EXPECT_EQ(defaultKFactor(table), kNnloKFactor);
  table.setAttribute("config",
                     std::string("process: ztautau\nresonance: higgs\nhiggs_mass: 125\n"));
  EXPECT_EQ(defaultKFactor(table), kGgfHiggsKFactor);
}

// The hadronic W's daughters as harder/softer and back (src/ml/unfold/WDaughterOrder.hpp,
// docs/ml-unfold.md "W daughters"): ordering by pT touches only q and qbar', the measured
// probability is P(q harder | lepton charge), and labelling ordered pairs back with it restores
// both the marginals of q and qbar' and their correlation with the charge.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nurec/core/Random.hpp"
#include "nurec/ml/unfold/UnfoldConfig.hpp"
#include "nurec/ml/unfold/WDaughterOrder.hpp"

using namespace nurec;
using namespace nurec::ml::unfold;

namespace {

constexpr std::int64_t kEvents = 40000;
constexpr int kQ = 2, kQbar = 3;

torch::Tensor ptOf(const torch::Tensor& record, int parton) {
  const torch::Tensor p = record.narrow(-1, parton * kComponents, kComponents);
  return torch::hypot(p.select(-1, 2), p.select(-1, 3));
}

// Records whose q is harder with probability 0.7 for charge +1 and 0.35 for charge -1 (as in top
// decays, the harder daughter's label depends on the W charge); other partons random.
struct Sample {
  torch::Tensor record, charge;
};
Sample makeSample(std::uint64_t seed) {
  Rng rng(seed, 0);
  torch::Tensor record = torch::empty({kEvents, kRecordSize}, torch::kFloat64);
  torch::Tensor charge = torch::empty({kEvents}, torch::kFloat32);
  auto r = record.accessor<double, 2>();
  auto c = charge.accessor<float, 1>();
  for (std::int64_t i = 0; i < kEvents; ++i) {
    for (int k = 0; k < kRecordSize; ++k) r[i][k] = rng.normal(0, 40);
    c[i] = rng.uniform() < 0.5 ? 1.0f : -1.0f;
    const double hard = 40 + rng.exponential(30), soft = hard * rng.uniform();
    const bool qHarder = rng.uniform() < (c[i] > 0 ? 0.7 : 0.35);
    const double phiQ = rng.uniform(0, 2 * M_PI), phiQbar = rng.uniform(0, 2 * M_PI);
    const double ptQ = qHarder ? hard : soft, ptQbar = qHarder ? soft : hard;
    r[i][kQ * kComponents + 2] = ptQ * std::cos(phiQ);
    r[i][kQ * kComponents + 3] = ptQ * std::sin(phiQ);
    r[i][kQbar * kComponents + 2] = ptQbar * std::cos(phiQbar);
    r[i][kQbar * kComponents + 3] = ptQbar * std::sin(phiQbar);
  }
  return {record, charge};
}

}  // namespace

TEST(WDaughterOrder, OrderingTouchesOnlyTheWDaughters) {
  const Sample s = makeSample(1);
  const torch::Tensor ordered = orderWDaughtersByPt(s.record);
  EXPECT_TRUE((ptOf(ordered, kQ) >= ptOf(ordered, kQbar)).all().item<bool>());
  // The pair is the same pair, and every other parton is untouched.
  const torch::Tensor pairBefore = s.record.narrow(1, kQ * kComponents, 2 * kComponents);
  const torch::Tensor pairAfter = ordered.narrow(1, kQ * kComponents, 2 * kComponents);
  EXPECT_TRUE(torch::allclose(pairBefore.sum(1), pairAfter.sum(1)));
  EXPECT_TRUE(torch::equal(ordered.narrow(1, 0, kQ * kComponents),
                           s.record.narrow(1, 0, kQ * kComponents)));
  const int rest = (kQbar + 1) * kComponents;
  EXPECT_TRUE(torch::equal(ordered.narrow(1, rest, kRecordSize - rest),
                           s.record.narrow(1, rest, kRecordSize - rest)));
}

TEST(WDaughterOrder, MeasuredProbabilityIsTheHarderQuarksFractionPerCharge) {
  const Sample s = makeSample(2);
  const torch::Tensor p = quarkHarderProbability(s.record, s.charge);
  // Binomial errors at ~20,000 events per charge: 0.0034; 4 sigma.
  EXPECT_NEAR(p[0].item<double>(), 0.35, 0.014);
  EXPECT_NEAR(p[1].item<double>(), 0.70, 0.014);
  // A charge without events gives 0.5.
  const torch::Tensor plus = torch::ones({kEvents});
  EXPECT_EQ(quarkHarderProbability(s.record, plus)[0].item<float>(), 0.5f);
}

TEST(WDaughterOrder, LabellingBackRestoresMarginalsAndChargeCorrelation) {
  // Probability measured on one sample, applied to the ordered pairs of an independent one.
  const torch::Tensor p = quarkHarderProbability(makeSample(3).record, makeSample(3).charge);
  const Sample s = makeSample(4);
  const torch::Tensor ordered = orderWDaughtersByPt(s.record).unsqueeze(1);  // K = 1
  Rng rng(5, 0);
  torch::Tensor uniform = torch::empty({kEvents, 1}, torch::kFloat32);
  for (std::int64_t i = 0; i < kEvents; ++i) uniform[i][0] = static_cast<float>(rng.uniform());
  const torch::Tensor labelled = labelWDaughters(ordered, s.charge, p, uniform).squeeze(1);
  for (int parton : {kQ, kQbar}) {
    const torch::Tensor truth = std::get<0>(ptOf(s.record, parton).sort());
    const torch::Tensor back = std::get<0>(ptOf(labelled, parton).sort());
    // Wasserstein-1 distance of the pT marginals, against their mean (~50 GeV): two independent
    // samples of this size differ by ~0.5 GeV; a wrong labelling (q always the harder) by 17.
    const double w1 = (truth - back).abs().mean().item<double>();
    EXPECT_LT(w1, 1.5) << "parton " << parton;
  }
  for (float c : {-1.0f, 1.0f}) {
    const torch::Tensor m = s.charge == c;
    const double truthFraction = (ptOf(s.record, kQ) > ptOf(s.record, kQbar))
                                     .masked_select(m)
                                     .to(torch::kFloat64)
                                     .mean()
                                     .item<double>();
    const double backFraction = (ptOf(labelled, kQ) > ptOf(labelled, kQbar))
                                    .masked_select(m)
                                    .to(torch::kFloat64)
                                    .mean()
                                    .item<double>();
    EXPECT_NEAR(backFraction, truthFraction, 0.02) << "charge " << c;
  }
}

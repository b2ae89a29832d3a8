#include "nurec/ml/unfold/WDaughterOrder.hpp"

#include "nurec/core/Error.hpp"
#include "nurec/ml/unfold/UnfoldConfig.hpp"

namespace nurec::ml::unfold {

namespace {

constexpr int kQ = 2, kQbar = 3;  // generator::ttbar::Parton order (docs/ttbar.md)

// Components of parton slot `p` in a (..., 55) record: (M, E, px, py, pz).
torch::Tensor slot(const torch::Tensor& record, int p) {
  return record.narrow(-1, p * kComponents, kComponents);
}

torch::Tensor pt(const torch::Tensor& parton) {
  return torch::hypot(parton.select(-1, 2), parton.select(-1, 3));
}

// The record with q and qbar' exchanged where swap (same leading shape, bool) is true.
torch::Tensor swapWhere(const torch::Tensor& record, const torch::Tensor& swap) {
  const torch::Tensor q = slot(record, kQ), qbar = slot(record, kQbar);
  const torch::Tensor s = swap.unsqueeze(-1);
  torch::Tensor out = record.clone();
  slot(out, kQ).copy_(torch::where(s, qbar, q));
  slot(out, kQbar).copy_(torch::where(s, q, qbar));
  return out;
}

}  // namespace

torch::Tensor leptonCharge(const torch::Tensor& particles) {
  return particles.select(1, 0).select(1, kLeptonChargeFeature);
}

torch::Tensor orderWDaughtersByPt(const torch::Tensor& recordGeV) {
  require(recordGeV.dim() == 2 && recordGeV.size(1) == kRecordSize,
          "orderWDaughtersByPt: expected (N, 55) records");
  return swapWhere(recordGeV, pt(slot(recordGeV, kQbar)) > pt(slot(recordGeV, kQ)));
}

torch::Tensor quarkHarderProbability(const torch::Tensor& recordGeV,
                                     const torch::Tensor& leptonCharge) {
  require(recordGeV.dim() == 2 && recordGeV.size(1) == kRecordSize && leptonCharge.dim() == 1 &&
              leptonCharge.size(0) == recordGeV.size(0),
          "quarkHarderProbability: expected (N, 55) records and N lepton charges");
  const torch::Tensor qHarder =
      (pt(slot(recordGeV, kQ)) >= pt(slot(recordGeV, kQbar))).to(torch::kFloat64);
  torch::Tensor p = torch::full({2}, 0.5, torch::kFloat32);
  for (int c = 0; c < 2; ++c) {
    const torch::Tensor m = c == 0 ? leptonCharge < 0 : leptonCharge > 0;
    const auto n = m.sum().item<std::int64_t>();
    if (n > 0) p[c] = qHarder.masked_select(m).mean().item<double>();
  }
  return p;
}

torch::Tensor labelWDaughters(const torch::Tensor& orderedRecordGeV,
                              const torch::Tensor& leptonCharge, const torch::Tensor& probability,
                              const torch::Tensor& uniform) {
  const auto B = orderedRecordGeV.size(0), K = orderedRecordGeV.size(1);
  require(orderedRecordGeV.dim() == 3 && orderedRecordGeV.size(2) == kRecordSize &&
              leptonCharge.numel() == B && uniform.size(0) == B && uniform.size(1) == K &&
              probability.numel() == 2,
          "labelWDaughters: expected (B, K, 55) records, B charges, (B, K) uniforms, 2 "
          "probabilities");
  const torch::Tensor p =
      torch::where(leptonCharge.reshape({B}) > 0, probability[1], probability[0])
          .to(uniform.dtype());
  return swapWhere(orderedRecordGeV, uniform >= p.unsqueeze(1));
}

}  // namespace nurec::ml::unfold

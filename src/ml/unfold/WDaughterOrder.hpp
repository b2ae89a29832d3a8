#pragma once
// The two quarks of the hadronic W in the parton record (slots q and qbar', docs/ttbar.md "Parton
// record") as the unfolding models learn them (docs/ml-unfold.md "W daughters").
//
// The detector sees two light jets and cannot tell the quark from the antiquark, so p(q | event)
// has two modes, one at each jet. A model that does not separate the modes samples between them
// (too soft, the direction off). With `target.w_daughters: pt_ordered` the models learn the
// harder and the softer daughter instead, whose posteriors have one mode each, and the sampler
// gives back the generator's labels by a coin per candidate: the harder one is q with the
// probability measured on the training events for the event's lepton charge (top decays make the
// down-type daughter softer, so this is 0.43 with an l+ and 0.57 with an l-). The labelled
// samples then follow the joint truth of (q, qbar', lepton charge), not only its marginals.
// Only src/ml/ includes this header.
#include <torch/torch.h>

namespace nurec::ml::unfold {

// The lepton charge (N) of point clouds (N, 21, 12): feature kLeptonChargeFeature of slot 0.
torch::Tensor leptonCharge(const torch::Tensor& particles);

// Record rows (N, 55) in GeV with q and qbar' swapped where qbar' has the larger pT, so that
// slot q holds the harder and slot qbar' the softer daughter. Other partons are unchanged.
torch::Tensor orderWDaughtersByPt(const torch::Tensor& recordGeV);

// P(the harder daughter is q | lepton charge) from records (N, 55) in generator order and the
// lepton charges (N, +-1): a (2) float tensor, [0] for charge -1 and [1] for +1. 0.5 where a
// charge has no event.
torch::Tensor quarkHarderProbability(const torch::Tensor& recordGeV,
                                     const torch::Tensor& leptonCharge);

// Records (B, K, 55) with slot q = harder, qbar' = softer back to generator labels: candidate
// (b, k) keeps its order where uniform[b][k] < probability[charge of b], else q and qbar' are
// swapped. leptonCharge (B), uniform (B, K) in [0, 1).
torch::Tensor labelWDaughters(const torch::Tensor& orderedRecordGeV,
                              const torch::Tensor& leptonCharge, const torch::Tensor& probability,
                              const torch::Tensor& uniform);

}  // namespace nurec::ml::unfold

#pragma once
// DDIM and DPM-Solver++(2M) sampling loops on tensors (docs/ml-methods.md sections 5, 8). The
// network enters through a callback, so the same loop runs the exact Gaussian denoiser in the unit
// tests.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "nurec/ml/Schedule.hpp"

namespace nurec::ml {

// v-hat for the current z (B, K, dim) at grid step `step`.
using VelocityFn = std::function<torch::Tensor(const torch::Tensor& z, int step)>;

// Samples B events x K candidates x dim components from t = 1 to t = 0 and returns z at t = 0.
// The noise of event b comes from its own stream Rng(seed, eventIds[b], streams::ml): K*dim
// start values, then K*dim per step when DDIM eta > 0. So an event's candidates do not depend on
// the batch it is in or on the thread count (up to float rounding in the network).
torch::Tensor sampleCandidates(const SamplerGrid& grid, const VelocityFn& velocity,
                               const std::vector<std::uint64_t>& eventIds, std::int64_t K,
                               std::int64_t dim, std::uint64_t seed,
                               torch::ScalarType dtype = torch::kFloat32);

}  // namespace nurec::ml

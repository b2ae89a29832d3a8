#include "nurec/ml/Sampler.hpp"

#include <memory>

#include "nurec/core/Random.hpp"

namespace nurec::ml {

namespace {

// Fills buf (B, K*dim contiguous) with standard normals from each event's stream.
void fillNoise(torch::Tensor& buf, std::vector<Rng>& rngs) {
  const std::int64_t B = buf.size(0);
  const std::int64_t n = buf.numel() / std::max<std::int64_t>(B, 1);
  if (buf.scalar_type() == torch::kFloat64) {
    double* p = buf.data_ptr<double>();
    for (std::int64_t b = 0; b < B; ++b) {
      for (std::int64_t i = 0; i < n; ++i) p[b * n + i] = rngs[b].normal();
    }
  } else {
    float* p = buf.data_ptr<float>();
    for (std::int64_t b = 0; b < B; ++b) {
      for (std::int64_t i = 0; i < n; ++i) p[b * n + i] = static_cast<float>(rngs[b].normal());
    }
  }
}

}  // namespace

torch::Tensor sampleCandidates(const SamplerGrid& grid, const VelocityFn& velocity,
                               const std::vector<std::uint64_t>& eventIds, std::int64_t K,
                               std::int64_t dim, std::uint64_t seed, torch::ScalarType dtype) {
  const auto B = static_cast<std::int64_t>(eventIds.size());
  std::vector<Rng> rngs;
  rngs.reserve(eventIds.size());
  for (auto id : eventIds) rngs.emplace_back(seed, id, streams::ml);
  const auto opts = torch::TensorOptions().dtype(dtype);
  torch::Tensor z = torch::empty({B, K, dim}, opts);
  fillNoise(z, rngs);
  const bool noisy = grid.drawsNoisePerStep();
  torch::Tensor xi = noisy ? torch::empty({B, K, dim}, opts) : torch::Tensor();
  const bool dpm = grid.kind == SamplerKind::DpmSolverPp2M;
  torch::Tensor xhat, xhatPrev, dbuf;
  if (dpm) {
    xhat = torch::empty({B, K, dim}, opts);
    xhatPrev = torch::zeros({B, K, dim}, opts);
    dbuf = torch::empty({B, K, dim}, opts);
  }
  for (int i = 0; i < static_cast<int>(grid.steps.size()); ++i) {
    const SamplerStep& st = grid.steps[i];
    const torch::Tensor v = velocity(z, i);
    if (!dpm) {
      z.mul_(st.zCoef).add_(v, st.vCoef);
      if (noisy) {
        fillNoise(xi, rngs);
        z.add_(xi, st.noiseCoef);
      }
    } else {
      // xhat = alpha z - sigma v; D = w xhat + wPrev xhatPrev; z = zCoef z + dCoef D
      xhat.copy_(z).mul_(st.alpha).add_(v, -st.sigma);
      dbuf.copy_(xhat).mul_(st.w);
      if (st.wPrev != 0) dbuf.add_(xhatPrev, st.wPrev);
      z.mul_(st.zCoef).add_(dbuf, st.dCoef);
      std::swap(xhat, xhatPrev);
    }
  }
  return z;
}

}  // namespace nurec::ml

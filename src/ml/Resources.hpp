#pragma once
// Bounds of the ML options and memory estimates made before anything large is allocated
// (docs/reliability.md): absurd values are refused with the valid range, and a run that cannot
// fit in memory is refused with an estimate instead of being killed by the kernel. Torch-free.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nurec/ml/Config.hpp"

namespace nurec::ml {

inline constexpr int kMaxSamplerSteps = 10000;   // reconstruct --steps, sampler.steps
inline constexpr int kMaxCandidates = 10000;     // reconstruct --candidates
inline constexpr int kMaxBatchEvents = 1 << 20;  // events per reconstruction batch
inline constexpr int kMaxWidth = 4096;           // encoder.width, cond_dim, head.width
inline constexpr int kMaxDepth = 64;             // encoder.layers, encoder.heads, head.blocks
inline constexpr int kMaxTrainBatch = 65536;     // train.batch_size
inline constexpr int kMaxEpochs = 100000;        // train.epochs, --epochs

// Number of trainable parameters of DiffusionNet (ml/Net.cpp) for this architecture.
std::int64_t parameterCount(const DiffusionConfig& config);

// Peak memory (bytes) of `nurec train` on `events` selected events: weights, EMA, gradients and
// optimiser state, the training tensors, and the activations of one batch kept for backward.
double trainingMemoryBytes(const DiffusionConfig& config, std::size_t events);

// Peak memory (bytes) of reconstructDiffusion: the output arrays for `events` events and K
// candidates, the model inputs, and the activations of `concurrentBatches` batches of
// `batchEvents` events x K candidates.
double reconstructionMemoryBytes(const DiffusionConfig& config, std::size_t events, int candidates,
                                 int steps, int batchEvents, int concurrentBatches);

// Memory the process can still use: MemAvailable of /proc/meminfo, lowered to the cgroup limit
// when there is one; physical memory if neither can be read.
double availableMemoryBytes();

// Throws ConfigError "<what> needs about X GB of memory, but only Y GB are available; <hint>"
// when `bytes` exceeds `available`.
void requireMemory(double bytes, double available, const std::string& what,
                   const std::string& hint);

}  // namespace nurec::ml

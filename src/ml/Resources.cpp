#include "nurec/ml/Resources.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "nurec/core/Error.hpp"

namespace nurec::ml {

std::int64_t parameterCount(const DiffusionConfig& config) {
  // Term by term as registered in DiffusionNetImpl's constructor (ml/Net.cpp).
  const EncoderConfig& enc = config.encoder;
  const HeadConfig& head = config.head;
  const std::int64_t F = config.inputs.numFeatures(), T = kNumTargets, C = kNumChannels;
  const std::int64_t D = enc.width, L = enc.layers, R = enc.mlpRatio, Dc = enc.condDim;
  const std::int64_t W = head.width, NB = head.blocks, RW = head.mlpRatio;
  const std::int64_t E = head.channelEmbedding, NF = head.timeFrequencies;
  const std::int64_t embed = 2 * D * F + 2 * D + 2 * D * D + D;
  const std::int64_t edge = 4 * D * F + 2 * D + 2 * D * D + D;
  const std::int64_t layer = (4 + 2 * R) * D * D + (11 + R) * D;
  const std::int64_t encoder = embed + edge + L * layer + 2 * D + 2 * D * Dc + Dc;
  const std::int64_t headCount = C * E + (2 * NF * W + W + W * W + W) + (W * (Dc + E) + W) +
                                 (W * T + W) + NB * (2 * W * W + 2 * W) +
                                 NB * (2 * RW * W * W + RW * W + W) + (T * W + T);
  return encoder + headCount;
}

namespace {

constexpr double kFloat = 4;  // bytes

// Floats of activations of one event in the encoder's forward pass (inputs of every linear
// layer, attention scores and probabilities, GELU and LayerNorm outputs).
double encoderActivationsPerEvent(const EncoderConfig& e, int features) {
  const double P = kNumSlots, F = features, D = e.width, H = e.heads, R = e.mlpRatio;
  const double kk = std::min(e.knn, kNumSlots - 1);
  const double embed = P * (F + 3 * D);
  const double edges = P * kk * (2 * F + 3 * D + 2);
  const double layer = P * (8 * D + 2 * R * D) + 2 * H * P * P;
  return embed + edges + e.layers * layer + P * 3 * D + 2 * D + e.condDim;
}

// Floats of activations of one (event, candidate) row in the head.
double headActivationsPerRow(const HeadConfig& h) {
  const double W = h.width;
  return kNumTargets + W + h.blocks * (5 * W + 2 * h.mlpRatio * W) + kNumTargets;
}

}  // namespace

double trainingMemoryBytes(const DiffusionConfig& c, std::size_t events) {
  const double np = static_cast<double>(parameterCount(c));
  // Model, EMA copy, gradients, Lion momenta and its per-step temporary.
  const double weights = 5 * np * kFloat;
  // EventData (x, mask, channel, targets, bookkeeping) and the train/validation tensors.
  const double perEvent =
      2 * (kNumSlots * c.inputs.numFeatures() + kNumTargets) * kFloat + kNumSlots * 2 + 80;
  const double data = static_cast<double>(events) * perEvent;
  // One batch: forward activations, kept for backward, and their gradients.
  const double B = c.train.batchSize;
  const double activations = 3 * B *
                             (encoderActivationsPerEvent(c.encoder, c.inputs.numFeatures()) +
                              headActivationsPerRow(c.head)) *
                             kFloat;
  // Validation runs in chunks of 1024 events without gradients.
  const double validation = 1024 *
                            (encoderActivationsPerEvent(c.encoder, c.inputs.numFeatures()) +
                             headActivationsPerRow(c.head)) *
                            kFloat;
  return weights + data + activations + validation;
}

double reconstructionMemoryBytes(const DiffusionConfig& c, std::size_t events, int candidates,
                                 int steps, int batchEvents, int concurrentBatches) {
  const double N = static_cast<double>(events), K = candidates;
  const double np = static_cast<double>(parameterCount(c));
  // Outputs: p4 (2x4 doubles), candidates (K x 2 x 3 floats), status; inputs of the model.
  const double outputs = N * (8 * 8 + K * 6 * kFloat + 1);
  const double inputs =
      N * ((kNumSlots * c.inputs.numFeatures()) * kFloat + kNumSlots + 8 * 8 + 64);
  // Sampler grid and the time-embedding table (steps x head width).
  const double grid = static_cast<double>(steps) * (c.head.width * kFloat + 128);
  // Per batch: encoder activations of its events, head activations of events x candidates,
  // noise and state of the sampler (a few copies of z), per-event candidate buffers.
  const double B = batchEvents;
  const double perBatch =
      B * encoderActivationsPerEvent(c.encoder, c.inputs.numFeatures()) * kFloat +
      B * K * (2 * headActivationsPerRow(c.head) + 8 * kNumTargets) * kFloat + K * 12 * 8;
  return 2 * np * kFloat + outputs + inputs + grid + concurrentBatches * perBatch;
}

double availableMemoryBytes() {
  double available = -1;
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    double kb = 0;
    std::string unit;
    while (in >> key >> kb) {
      std::getline(in, unit);
      if (key == "MemAvailable:") {
        available = kb * 1024;
        break;
      }
    }
  }
  if (available < 0) {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) available = static_cast<double>(pages) * static_cast<double>(page);
  }
  // cgroup v2 limit of this process's group ("max" when unlimited) minus what the group uses.
  {
    std::ifstream maxIn("/sys/fs/cgroup/memory.max"), curIn("/sys/fs/cgroup/memory.current");
    double limit = 0, used = 0;
    if (maxIn >> limit && limit > 0) {
      if (!(curIn >> used)) used = 0;
      const double left = std::max(limit - used, 0.0);
      if (available < 0 || left < available) available = left;
    }
  }
  return available > 0 ? available : 1e18;
}

void requireMemory(double bytes, double available, const std::string& what,
                   const std::string& hint) {
  if (bytes <= available) return;
  char b[256];
  std::snprintf(b, sizeof b, "%s needs about %.3g GB of memory, but only %.3g GB are available",
                what.c_str(), bytes / 1e9, available / 1e9);
  throw ConfigError(std::string(b) + (hint.empty() ? "" : "; " + hint));
}

}  // namespace nurec::ml

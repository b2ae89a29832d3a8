#pragma once
// TorchScript export built in C++ (docs/ml-methods.md section 8): a torch::jit::Module with the
// (EMA) weights as parameters, the normalisation constants as buffers, the hyperparameters as
// attributes and a TorchScript transcription of DiffusionNet::encode / timeEmbedding / velocity.
#include <torch/script.h>

#include "nurec/ml/Config.hpp"
#include "nurec/ml/Net.hpp"

namespace nurec::ml {

// Methods: encode(x, mask, channel) -> cond_base (B, W); time_embedding(t) -> (N, W);
// velocity(cond_base, temb, z) -> v (B, K, 6); forward(x, mask, channel, z, t) -> v (B, K, 6).
torch::jit::Module buildTorchScript(DiffusionNet& net, const DiffusionConfig& config);

}  // namespace nurec::ml

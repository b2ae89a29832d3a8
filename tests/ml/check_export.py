"""Loads a nurec TorchScript export and golden tensors written by C++ (torch::pickle_save) and
checks that Python reproduces the C++ outputs exactly (docs/ml-methods.md section 8, test point 11)."""
import sys

import torch

module = torch.jit.load(sys.argv[1])
golden = torch.load(sys.argv[2])
v = module(golden["x"], golden["mask"], golden["channel"], golden["z"], golden["t"])
diff = (v - golden["v"]).abs().max().item()
print(f"check_export: max |python - c++| = {diff:.3g}")
sys.exit(0 if torch.equal(v, golden["v"]) else 1)

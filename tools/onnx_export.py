"""ONNX export of a nurec diffusion model (docs/onnx.md), run by `nurec export-model --format onnx`.

Reads the TorchScript file that nurec writes (ml/Export.cpp), runs its `eager_source` as plain
Python with the module's weights (the same transcription benchmarks/ml/python_peer.py runs) and
traces three small wrappers with torch.onnx.export:

  encoder.onnx   x (B,10,F), mask (B,10), channel (B)  -> cond (B,W)
  denoiser.onnx  cond (B,W), z (B,K,6), t (B or 1)     -> v (B,K,6)
  decoder.onnx   z (B,K,6), vis_p (B,2), rotation (B)  -> nu (B,K,2,3)   lab target frame
  decoder.onnx   z (B,K,6), vis (B,2,3)                -> nu (B,K,2,3)   visible target frame

nu is in GeV in the lab frame; the module's `target_frame` attribute picks the decoder (exports
without it are lab frame).

Every input and output is float32 so that wrappers that only pass float arrays (CMSSW's
cms::Ort::ONNXRuntime) can run the models; mask and channel are converted inside.

Usage: onnx_export.py MODEL_TS.pt OUT_DIR [--opset 17]
Exit codes: 0 ok, 2 bad usage, 3 torch or onnx missing, 1 any other failure (one line on stderr).
"""
import argparse
import os
import sys
import types
import warnings


def fail(code, message):
    print(f"onnx_export: {message}", file=sys.stderr)
    sys.exit(code)


try:
    import torch
    import onnx
except ImportError as e:  # the C++ side passes this line on as the error message
    fail(3, f"{sys.executable} cannot import {e.name} (needs the Python modules torch and onnx; "
            "Debian: python3-torch python3-onnx)")

NAMES = {
    "encoder": (["x", "mask", "channel"], ["cond"]),
    "denoiser": (["cond", "z", "t"], ["v"]),
    "decoder": (["z", "vis_p", "rotation"], ["nu"]),
    "decoder_visible": (["z", "vis"], ["nu"]),
}


def load_eager(path):
    """The TorchScript module's source as eager functions and its weights as attributes."""
    jm = torch.jit.load(path, map_location="cpu")
    ns = {}

    class TorchNames:  # ATen names of the TorchScript source that eager Python spells differently
        gelu = staticmethod(torch.nn.functional.gelu)
        linear = staticmethod(torch.nn.functional.linear)

        @staticmethod
        def layer_norm(x, shape, w, b, eps):
            # Explicit unit scale and zero shift: torch 1.13 exports None as an empty input of
            # LayerNormalization (opset 17), which the ONNX checker refuses.
            w = torch.ones(shape, dtype=x.dtype) if w is None else w
            b = torch.zeros(shape, dtype=x.dtype) if b is None else b
            return torch.layer_norm(x, shape, w, b, eps)

        @staticmethod
        def eye(n, dtype=None):
            # A constant: the slot count is fixed (10, docs/data-format.md), and ONNX Runtime has
            # no boolean EyeLike kernel.
            return torch.eye(int(n), dtype=dtype)

        def __getattr__(self, name):
            return getattr(torch, name)

    exec(jm.eager_source, {"torch": TorchNames()}, ns)
    state = types.SimpleNamespace()
    for n, p in jm.named_parameters():
        setattr(state, n, p.detach().clone())
    for n, b in jm.named_buffers():
        setattr(state, n, b.clone())
    for n in ["width", "heads", "layers", "knn", "head_width", "blocks", "attn_scale"]:
        setattr(state, n, getattr(jm, n))
    # Exports written before the attribute existed have lab-frame targets.
    state.target_frame = getattr(jm, "target_frame", "lab")
    return jm, state, ns


class Encoder(torch.nn.Module):
    def __init__(self, state, fn):
        super().__init__()
        self.state, self.fn = state, fn

    def forward(self, x, mask, channel):
        return self.fn(self.state, x, mask > 0.5, torch.round(channel).to(torch.int64))


class Denoiser(torch.nn.Module):
    def __init__(self, state, temb, velocity):
        super().__init__()
        self.state, self.temb, self.velocity = state, temb, velocity

    def forward(self, cond, z, t):
        return self.velocity(self.state, cond, self.temb(self.state, t), z)


class Decoder(torch.nn.Module):
    """nu = (z y_std + y_mean) |p_vis| per tau, rotated back by -rotation about z."""

    def __init__(self, state):
        super().__init__()
        self.y_mean = state.y_mean.clone()
        self.y_std = state.y_std.clone()

    def forward(self, z, vis_p, rotation):
        y = (z * self.y_std + self.y_mean).reshape(z.size(0), z.size(1), 2, 3)
        p = y * vis_p.unsqueeze(1).unsqueeze(3)
        c = torch.cos(-rotation).view(-1, 1, 1)
        s = torch.sin(-rotation).view(-1, 1, 1)
        px, py, pz = p[..., 0], p[..., 1], p[..., 2]
        return torch.stack([c * px - s * py, s * px + c * py, pz], -1)


class VisibleDecoder(torch.nn.Module):
    """Visible target frame (docs/ml-methods.md section 1, "Target frame"): per tau, with
    u = vis/|vis|, e2 = (-u_y, u_x, 0)/hypot(u_x, u_y) ((0, 1, 0) when hypot < 1e-12) and
    e1 = e2 x u, nu = y0 e1 + y1 e2 + y2 |vis| u for y = z y_std + y_mean. vis is the lab-frame
    visible tau, so no rotation is undone (as ml/Features.cpp neutrinoFromTarget)."""

    def __init__(self, state):
        super().__init__()
        self.y_mean = state.y_mean.clone()
        self.y_std = state.y_std.clone()

    def forward(self, z, vis):
        y = (z * self.y_std + self.y_mean).reshape(z.size(0), z.size(1), 2, 3)
        p = torch.sqrt((vis * vis).sum(-1))  # (B, 2)
        ux, uy, uz = vis[..., 0] / p, vis[..., 1] / p, vis[..., 2] / p
        t = torch.sqrt(ux * ux + uy * uy)
        beam = t <= 1e-12
        t = torch.where(beam, torch.ones_like(t), t)
        e2x = torch.where(beam, torch.zeros_like(t), -uy / t)
        e2y = torch.where(beam, torch.ones_like(t), ux / t)
        e1 = torch.stack([e2y * uz, -e2x * uz, e2x * uy - e2y * ux], -1)  # e2 x u (e2_z = 0)
        e2 = torch.stack([e2x, e2y, torch.zeros_like(t)], -1)
        u = torch.stack([ux, uy, uz], -1) * p.unsqueeze(-1)  # |vis| u
        return (y[..., 0:1] * e1.unsqueeze(1) + y[..., 1:2] * e2.unsqueeze(1) +
                y[..., 2:3] * u.unsqueeze(1))


def register_symbolics(opset):
    # Boolean ops of the encoder's masks that torch 1.13's exporter lacks: ONNX Not/And/Or.
    from torch.onnx import register_custom_op_symbolic as reg
    reg("aten::logical_not", lambda g, a: g.op("Not", a), opset)


def export(module, args, path, kind, dynamic_axes, opset):
    inputs, outputs = NAMES[kind]
    kind = kind.split("_")[0]
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic_axes, opset_version=opset,
                          do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    model.doc_string = f"nurec diffusion {kind} (docs/onnx.md)"
    onnx.save(model, path)


def main():
    ap = argparse.ArgumentParser(description="ONNX export of a nurec TorchScript model")
    ap.add_argument("torchscript")
    ap.add_argument("out_dir")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()
    if not os.path.isdir(args.out_dir):
        fail(2, f"output folder '{args.out_dir}' does not exist")
    torch.set_num_threads(1)
    # The tracer warns about the fixed slot count (a constant by design) and the exporter about
    # shape inference of constants; neither concerns the exported graphs, which nurec checks.
    warnings.filterwarnings("ignore")
    register_symbolics(args.opset)
    jm, state, ns = load_eager(args.torchscript)
    F = state.x_mean.numel()
    W = state.c_b.numel()
    B, P, K = 2, 10, 3
    # Example inputs for tracing: valid slots 0..3 and the MET token (slot 9), as in real events.
    x = torch.zeros(B, P, F)
    x[:, :, 0:4] = torch.randn(B, P, 4)
    x[:, :, 5] = 1
    x[:, 9, 5] = 0
    x[:, 9, 10] = 1
    mask = torch.zeros(B, P)
    mask[:, [0, 1, 2, 3, 9]] = 1
    channel = torch.tensor([1.0, 4.0])
    enc = Encoder(state, ns["encode"])
    export(enc, (x, mask, channel), os.path.join(args.out_dir, "encoder.onnx"), "encoder",
           {"x": {0: "batch"}, "mask": {0: "batch"}, "channel": {0: "batch"},
            "cond": {0: "batch"}}, args.opset)
    cond = torch.randn(B, W)
    z = torch.randn(B, K, 6)
    t = torch.rand(B)
    export(Denoiser(state, ns["time_embedding"], ns["velocity"]), (cond, z, t),
           os.path.join(args.out_dir, "denoiser.onnx"), "denoiser",
           {"cond": {0: "batch"}, "z": {0: "batch", 1: "candidates"}, "t": {0: "time_batch"},
            "v": {0: "batch", 1: "candidates"}}, args.opset)
    decoder = os.path.join(args.out_dir, "decoder.onnx")
    if state.target_frame == "lab":
        export(Decoder(state), (z, torch.rand(B, 2) * 50, torch.rand(B)), decoder, "decoder",
               {"z": {0: "batch", 1: "candidates"}, "vis_p": {0: "batch"},
                "rotation": {0: "batch"}, "nu": {0: "batch", 1: "candidates"}}, args.opset)
    elif state.target_frame == "visible":
        export(VisibleDecoder(state), (z, torch.randn(B, 2, 3) * 30), decoder, "decoder_visible",
               {"z": {0: "batch", 1: "candidates"}, "vis": {0: "batch"},
                "nu": {0: "batch", 1: "candidates"}}, args.opset)
    else:
        fail(1, f"unknown target frame '{state.target_frame}' (expected lab or visible)")
    print(f"onnx_export: wrote encoder.onnx, denoiser.onnx, decoder.onnx "
          f"({state.target_frame} target frame, opset {args.opset})")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # one line for the C++ side; the traceback would hide the reason
        fail(1, f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}")

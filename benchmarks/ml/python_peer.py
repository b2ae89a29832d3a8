"""Python PyTorch (eager) peer of ml_benchmark: the same architecture and weights (the TorchScript
export's parameters, and its source run as plain Python), the same batch, DDIM eta = 1 with
100 steps and DPM-Solver++(2M) with 20 steps, plus training samples/s (forward + backward + Lion +
EMA). Called by ml_benchmark; run alone with --model model_ts.pt."""
import argparse
import math
import time
import types

import torch


def grid(steps, lam_min=-20.0, lam_max=20.0):
    b = math.atan(math.exp(-lam_max / 2))
    a = math.atan(math.exp(-lam_min / 2)) - b
    ts = [1 - i / steps for i in range(steps + 1)]
    lam = [-2 * math.log(math.tan(a * t + b)) for t in ts]
    al = [math.sqrt(1 / (1 + math.exp(-l))) for l in lam]
    si = [math.sqrt(1 / (1 + math.exp(l))) for l in lam]
    return ts, lam, al, si


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--events", type=int, default=512)
    ap.add_argument("--candidates", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    jm = torch.jit.load(args.model)
    ns = {}

    class TorchNames:  # ATen names of the TorchScript source that eager Python spells differently
        gelu = staticmethod(torch.nn.functional.gelu)
        linear = staticmethod(torch.nn.functional.linear)

        def __getattr__(self, name):
            return getattr(torch, name)

    exec(jm.eager_source, {"torch": TorchNames()}, ns)
    self = types.SimpleNamespace()
    for n, p in jm.named_parameters():
        setattr(self, n, p.detach().clone())
    for n, b in jm.named_buffers():
        setattr(self, n, b.clone())
    for n in ["width", "heads", "layers", "knn", "head_width", "blocks", "attn_scale"]:
        setattr(self, n, getattr(jm, n))
    encode, temb_fn, velocity = ns["encode"], ns["time_embedding"], ns["velocity"]
    B, K = args.events, args.candidates
    g = torch.Generator().manual_seed(1)
    x = torch.randn(B, 10, 13, generator=g)
    x[:, :, 5:11] = 0
    x[:, :, 5] = 1
    x[:, 9, 5] = 0
    x[:, 9, 10] = 1
    mask = torch.ones(B, 10, dtype=torch.bool)
    mask[:, 5:9] = False
    channel = torch.randint(0, 7, (B,), generator=g)

    with torch.inference_mode():  # the eager transcription equals the TorchScript module
        z0 = torch.randn(B, K, 6, generator=g)
        t0 = torch.rand(B, generator=g)
        diff = (velocity(self, encode(self, x, mask, channel), temb_fn(self, t0), z0)
                - jm(x, mask, channel, z0, t0)).abs().max().item()
    print(f"  python eager vs TorchScript module: max |diff| = {diff:.2g}")

    def sample_ddim(steps, eta):
        ts, lam, al, si = grid(steps)
        with torch.inference_mode():
            cond = encode(self, x, mask, channel)
            temb = temb_fn(self, torch.tensor(ts[:steps], dtype=torch.float32))
            z = torch.randn(B, K, 6, generator=g)
            for i in range(steps):
                v = velocity(self, cond, temb[i].unsqueeze(0), z)
                st = eta * si[i + 1] * math.sqrt(-math.expm1(lam[i] - lam[i + 1]))
                c = math.sqrt(max(0.0, si[i + 1] ** 2 - st ** 2))
                xhat = al[i] * z - si[i] * v
                eps = si[i] * z + al[i] * v
                z = al[i + 1] * xhat + c * eps
                if st > 0:
                    z = z + st * torch.randn(B, K, 6, generator=g)
        return z

    def sample_dpm(steps):
        ts, lam, al, si = grid(steps)
        with torch.inference_mode():
            cond = encode(self, x, mask, channel)
            temb = temb_fn(self, torch.tensor(ts[:steps], dtype=torch.float32))
            z = torch.randn(B, K, 6, generator=g)
            prev = None
            for i in range(steps):
                v = velocity(self, cond, temb[i].unsqueeze(0), z)
                xhat = al[i] * z - si[i] * v
                h = 0.5 * (lam[i + 1] - lam[i])
                if prev is None or i == steps - 1:
                    d = xhat
                else:
                    r = (0.5 * (lam[i] - lam[i - 1])) / h
                    d = (1 + 1 / (2 * r)) * xhat - (1 / (2 * r)) * prev
                z = (si[i + 1] / si[i]) * z - al[i + 1] * math.expm1(-h) * d
                prev = xhat
        return z

    def best_time(fn):
        best = 1e30
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best

    t = best_time(lambda: sample_ddim(100, 1.0))
    print(f"  python eager: DDIM eta=1, 100 steps: {B * K / t:.0f} candidates/s")
    t = best_time(lambda: sample_dpm(20))
    print(f"  python eager: DPM-Solver++(2M), 20 steps: {B * K / t:.0f} candidates/s")

    # Training: forward + backward + Lion + EMA, batch 256.
    params = {n: getattr(self, n).clone().requires_grad_(True) for n, _ in jm.named_parameters()}
    tr = types.SimpleNamespace(**vars(self))
    for n, p in params.items():
        setattr(tr, n, p)
    ema = {n: p.detach().clone() for n, p in params.items()}
    mom = {n: torch.zeros_like(p) for n, p in params.items()}
    bs = min(256, B)
    xb, mb, cb = x[:bs], mask[:bs], channel[:bs]

    def train_steps(n=5):
        for _ in range(n):
            z = torch.randn(bs, 6, generator=g)
            tt = torch.rand(bs, generator=g)
            v = velocity(tr, encode(tr, xb, mb, cb), temb_fn(tr, tt), z.unsqueeze(1)).squeeze(1)
            loss = (v - z).pow(2).mean()
            for p in params.values():
                p.grad = None
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
            with torch.no_grad():
                for k, p in params.items():
                    c = mom[k] * 0.9 + p.grad * 0.1
                    p.mul_(1 - 1e-4 * 0.05).add_(torch.sign(c), alpha=-1e-4)
                    mom[k].mul_(0.99).add_(p.grad, alpha=0.01)
                    ema[k].mul_(0.999).add_(p, alpha=0.001)

    t = best_time(lambda: train_steps(5)) / 5
    print(f"  python eager: training (batch {bs}): {bs / t:.0f} samples/s")


if __name__ == "__main__":
    main()

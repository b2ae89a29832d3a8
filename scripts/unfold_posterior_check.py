#!/usr/bin/env python3
"""Brute-force posterior check of the t tbar unfolding models (docs/ml-unfold.md "Posterior
check"), the study's sanity check of a learned posterior: for one detector event, every training
event is weighted by exp(-d / h), d being its distance to the event in detector space, and the
weighted truth of the training events approximates p(partons | event). Shown next to each model's
samples for the same event.

    # 1. a small file with a few selected test events
    /usr/bin/python3 scripts/unfold_posterior_check.py pick test.h5 --events 4 --out few.h5
    # 2. many samples per event from each model (nurec reconstruct --candidates)
    nurec reconstruct few.h5 --method vld --model study/vld --candidates 1000 --out few.h5
    # 3. the comparison: a table on stdout and DIR/posterior_check.png
    /usr/bin/python3 scripts/unfold_posterior_check.py compare train.h5 few.h5 --out DIR

Detector space: the Cartesian features (px, py, pz, E in units of 50 GeV) of the lepton and the
four leading jets, their b-tags, the lepton charge and the MET, each divided by its standard
deviation over the training events; d is the Euclidean distance. h is chosen per event so that
the effective number of weighted events, (sum w)^2 / sum w^2, is --ess (default 300).
"""
import argparse
import sys

import h5py
import numpy as np

OBSERVABLES = [  # (label, parton index, component index) in the (11, 5) record
    ("pz(nu) [GeV]", 5, 4),
    ("m(t tbar) [GeV]", 10, 0),
    ("E(t) [GeV]", 8, 1),
]


def detector_features(f, rows=None):
    p = f["reco/particles"][...] if rows is None else f["reco/particles"][rows]
    met = f["reco/met"][...] if rows is None else f["reco/met"][rows]
    slots = p[:, :5, :]  # lepton and four leading jets (a selected event has >= 4)
    cols = [slots[:, :, 3:7].reshape(len(p), -1), slots[:, 1:, 8], slots[:, :1, 7], met / 50.0]
    return np.concatenate(cols, axis=1).astype(np.float64)


def pick(a):
    with h5py.File(a.test, "r") as f:
        selected = np.flatnonzero(f["reco/pass_sr"][...] == 1)
        if len(selected) < a.events:
            sys.exit(f"pick: {a.test} has only {len(selected)} selected events")
        rows = np.sort(np.random.default_rng(a.seed).choice(selected, a.events, replace=False))
        with h5py.File(a.out, "w") as out:
            def copy(name, obj):
                if isinstance(obj, h5py.Dataset) and not name.startswith("nu/"):
                    out.create_dataset(name, data=obj[rows])
            f.visititems(copy)
            for k, v in f.attrs.items():
                out.attrs[k] = v
            out.attrs["n_events"] = np.int64(len(rows))
            out.attrs["picked_rows"] = ",".join(str(r) for r in rows)
    print(f"pick: rows {rows.tolist()} of {a.test} -> {a.out}")


def weights_for(distance, ess):
    """exp(-d/h) with h such that the effective sample size is about `ess` (bisection in log h)."""
    lo, hi = -8.0, 4.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        w = np.exp(-(distance - distance.min()) / np.exp(mid))
        n_eff = w.sum() ** 2 / (w * w).sum()
        lo, hi = (mid, hi) if n_eff < ess else (lo, mid)
    return w / w.sum(), np.exp(0.5 * (lo + hi))


def weighted_quantiles(x, w, q):
    order = np.argsort(x)
    c = np.cumsum(w[order])
    return np.interp(q, c / c[-1], x[order])


def compare(a):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with h5py.File(a.train, "r") as f:
        sel = np.flatnonzero(f["reco/pass_sr"][...] == 1)
        train_x = detector_features(f)[sel]
        train_y = f["truth/partons"][...][sel]
    scale = train_x.std(0)
    scale[scale == 0] = 1
    with h5py.File(a.few, "r") as f:
        x = detector_features(f)
        truth = f["truth/partons"][...]
        methods = sorted(k for k in f["nu"].keys() if "samples" in f["nu"][k]) if "nu" in f else []
        samples = {m: f["nu"][m]["samples"][...] for m in methods}
    if not methods:
        sys.exit(f"compare: {a.few} holds no /nu/<method>/samples: run nurec reconstruct "
                 "--candidates K (K > 1) on it first")
    n = len(x)
    fig, axes = plt.subplots(n, len(OBSERVABLES), figsize=(5 * len(OBSERVABLES), 3.2 * n),
                             squeeze=False)
    print("| event | observable | truth | brute force: median [16, 84 %] | "
          + " | ".join(methods) + " |")
    print("|---|---|---|---|" + "---|" * len(methods))
    for e in range(n):
        d = np.sqrt((((train_x - x[e]) / scale) ** 2).sum(1))
        w, h = weights_for(d, a.ess)
        for k, (label, p, c) in enumerate(OBSERVABLES):
            ref = train_y[:, p, c]
            q = weighted_quantiles(ref, w, [0.16, 0.5, 0.84])
            cells = []
            ax = axes[e][k]
            lo, hi = weighted_quantiles(ref, w, [0.01, 0.99])
            lo, hi = lo - 0.3 * (hi - lo), hi + 0.3 * (hi - lo)
            bins = np.linspace(lo, hi, 40)
            ax.hist(ref, bins=bins, weights=w, color="#999999", alpha=0.5, label="brute force")
            for j, m in enumerate(methods):
                s = samples[m][e, :, p, c].astype(np.float64)
                sq = np.quantile(s, [0.16, 0.5, 0.84])
                cells.append(f"{sq[1]:.1f} [{sq[0]:.1f}, {sq[2]:.1f}]")
                ax.hist(s, bins=bins, weights=np.full(len(s), 1.0 / len(s)), histtype="step",
                        lw=1.5, label=m)
            ax.axvline(truth[e, p, c], color="k", ls="--", lw=1, label="truth")
            ax.set_xlabel(label)
            if e == 0 and k == 0:
                ax.legend(fontsize=7)
            print(f"| {e} | {label} | {truth[e, p, c]:.1f} | {q[1]:.1f} [{q[0]:.1f}, {q[2]:.1f}] "
                  f"(h = {h:.2f}) | " + " | ".join(cells) + " |")
    fig.tight_layout()
    fig.savefig(f"{a.out}/posterior_check.png", dpi=90)
    print(f"compare: {n} events, {len(methods)} methods -> {a.out}/posterior_check.png")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pick")
    p.add_argument("test")
    p.add_argument("--events", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    c = sub.add_parser("compare")
    c.add_argument("train")
    c.add_argument("few")
    c.add_argument("--ess", type=float, default=300)
    c.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.command == "compare":
        import os
        os.makedirs(a.out, exist_ok=True)
    (pick if a.command == "pick" else compare)(a)


if __name__ == "__main__":
    main()

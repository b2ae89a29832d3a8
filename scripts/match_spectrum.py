#!/usr/bin/env python3
"""Thin an event file so that its spectrum of one or two per-event quantities follows another file's.

Used by docs/physics-validation.md ("Without the pile-up") to ask whether a method's resolution loss
between two generator settings is the event mix: thin the nominal test sample to the unseen
sample's spectrum of the true pair pT (and the reconstructed Sigma E_T), then evaluate both with
`nurec evaluate`. If the thinned nominal sample keeps the nominal resolution, the loss is not the
event mix.

    /usr/bin/python3 scripts/match_spectrum.py nominal.h5 unseen.h5 --out thinned.h5 [--by pt,sumet]

Quantities: pt (|pT| of /truth/boson_p4, GeV) and sumet (/reco/sum_et, GeV). The bins are the
deciles of the target file's quantity (for two quantities the decile bins of each, a 10 x 10 grid).
A row is kept with probability w / max(w), w = (target fraction in its bin) / (source fraction),
capped at --cap (a capped bin stays under-populated; the printed medians show by how much).
Rejection sampling with a fixed seed (--seed), so the kept rows are unweighted events that
`nurec evaluate` takes as they are. Every dataset, /nu groups included, and every attribute is
copied for the kept rows.
"""
import argparse
import sys

import h5py
import numpy as np
from atomic_output import write_atomically


def quantity(h, name):
    if name == "pt":
        b = h["truth/boson_p4"][:]
        return np.hypot(b[:, 0], b[:, 1])
    if name == "sumet":
        return h["reco/sum_et"][:]
    raise SystemExit(f"match_spectrum: unknown quantity '{name}' (expected pt or sumet)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source")
    ap.add_argument("target")
    ap.add_argument("--out", required=True)
    ap.add_argument("--by", default="pt", help="pt, sumet or pt,sumet")
    ap.add_argument("--cap", type=float, default=float("inf"), help="largest weight kept")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    names = a.by.split(",")
    if not 1 <= len(names) <= 2:
        sys.exit("match_spectrum: --by takes one or two quantities")
    try:
        with h5py.File(a.source, "r") as s, h5py.File(a.target, "r") as t:
            xs = [quantity(s, n) for n in names]
            xt = [quantity(t, n) for n in names]
    except (OSError, KeyError) as e:
        sys.exit(f"match_spectrum: cannot read the inputs: {e}")
    if len(xs[0]) == 0 or len(xt[0]) == 0:
        sys.exit("match_spectrum: an input file has no events")
    edges = []
    for v in xt:
        e = np.quantile(v, np.linspace(0, 1, 11))
        e[0], e[-1] = -np.inf, np.inf
        edges.append(np.unique(e))
    def bin_index(vals):
        return tuple(np.clip(np.searchsorted(e, v, side="right") - 1, 0, len(e) - 2)
                     for e, v in zip(edges, vals))
    shape = tuple(len(e) - 1 for e in edges)
    hs = np.zeros(shape)
    ht = np.zeros(shape)
    np.add.at(hs, bin_index(xs), 1.0)
    np.add.at(ht, bin_index(xt), 1.0)
    hs /= hs.sum()
    ht /= ht.sum()
    ratio = np.where(hs > 0, ht / np.maximum(hs, 1e-300), 0.0)
    w = np.minimum(ratio[bin_index(xs)], a.cap)
    keep = np.random.default_rng(a.seed).random(len(w)) < w / w.max()
    print(f"match_spectrum: kept {keep.sum()} of {len(w)} rows (largest weight {ratio.max():.2f})")
    for n, v, vt in zip(names, xs, xt):
        print(f"  median {n}: source {np.median(v):.1f}, kept {np.median(v[keep]):.1f}, "
              f"target {np.median(vt):.1f}; mean {v.mean():.1f}, {v[keep].mean():.1f}, {vt.mean():.1f}")
    write_atomically(a.out, lambda tmp: write(a, keep, tmp), "match_spectrum")


def write(a, keep, path):
    """Copies every dataset's kept rows and every attribute of a.source to path."""
    with h5py.File(a.source, "r") as h, h5py.File(path, "w") as o:
        for k, v in h.attrs.items():
            o.attrs[k] = v
        o.attrs["n_events"] = int(keep.sum())
        o.attrs["thinned_to"] = f"{a.target} by {a.by} (scripts/match_spectrum.py, seed {a.seed})"
        def copy(name, obj):
            if isinstance(obj, h5py.Dataset):
                d = o.create_dataset(name, data=obj[:][keep])
            else:
                d = o.require_group(name)
            for k, v in obj.attrs.items():
                d.attrs[k] = v
        h.visititems(copy)


if __name__ == "__main__":
    main()

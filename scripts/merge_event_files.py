#!/usr/bin/env python3
"""Concatenate nurec event files (rows of /weight, /truth/*, /reco/*) into one training file.

Used for the parameter-variation training of docs/physics-validation.md ("Next step: a model
trained on mixed settings"): each input is one generator/detector setting. Ragged per-row shapes
(/truth/recoil_p4, /reco/jets_p4, /truth/products_p4, ...) are zero-padded to the widest input,
which is how nurec pads them itself. Attributes come from the first input, plus `merged_from`
(the input names) and `n_events`; /nu groups are dropped (stale for the merged rows).

    /usr/bin/python3 scripts/merge_event_files.py --out mixed.h5 a.h5 b.h5 c.h5

--flatten-mass LO,HI,WIDTH,PER_BIN thins the merged rows to a flat true m(tau tau) spectrum in
[LO, HI) GeV: in each bin of WIDTH GeV a row is kept with probability min(1, PER_BIN / rows in the
bin) (fixed random seed, --seed); rows outside [LO, HI) are all kept. With --upsample-max F,
bins with fewer rows are filled towards PER_BIN by copying their rows (at most F times as many);
copies of a training row are placed only at training positions (row index % 5 != 4, the split of
`nurec train`) and copies of a validation row only at validation positions, so no event is in
both. Used for the log-flat training sample of docs/ml.md "Flat-mass model", whose
signal-region acceptance rises with m.

--drop PATTERN (repeatable, shell-style, matched against the dataset path without its leading
"/") leaves datasets out, e.g. `--drop 'truth/recoil_*' --drop 'truth/products_*'` for a training
file: the padded recoil lists are most of a file's size and of the memory the merge needs.
"""
import argparse
import fnmatch
import os
import sys

import h5py
import numpy as np
from atomic_output import write_atomically


def datasets(f):
    names = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return [n for n in names if not n.startswith("nu/")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--flatten-mass", help="LO,HI,WIDTH,PER_BIN: thin to a flat true m(tau tau)")
    ap.add_argument("--seed", type=int, default=1, help="random seed of --flatten-mass")
    ap.add_argument("--upsample-max", type=float, default=1.0,
                    help="with --flatten-mass: fill sparse bins by copies, at most this factor")
    ap.add_argument("--drop", action="append", default=[],
                    help="leave out datasets matching this pattern (e.g. 'truth/recoil_*')")
    a = ap.parse_args()
    if a.upsample_max < 1:
        sys.exit(f"merge: --upsample-max {a.upsample_max}: must be >= 1")
    if os.path.abspath(a.out) in (os.path.abspath(p) for p in a.inputs):
        sys.exit(f"merge: --out {a.out} is one of the inputs")
    files = [h5py.File(p, "r") for p in a.inputs]
    names = datasets(files[0])
    required = {"weight", "truth/tau_p4"} if a.flatten_mass else {"weight"}
    for pattern in a.drop:
        hit = [n for n in names if fnmatch.fnmatchcase(n, pattern.lstrip("/"))]
        if not hit:
            sys.exit(f"merge: --drop {pattern}: no dataset of {a.inputs[0]} matches")
        if required & set(hit):
            sys.exit(f"merge: --drop {pattern}: {sorted(required & set(hit))} cannot be left out")
        names = [n for n in names if n not in hit]
    dropped = set(datasets(files[0])) - set(names)
    for p, f in zip(a.inputs[1:], files[1:]):
        missing = (set(names) ^ set(datasets(f))) - dropped
        if missing:
            sys.exit(f"merge: {p} and {a.inputs[0]} hold different datasets: {sorted(missing)}")
    order = None
    if a.flatten_mass:
        order = flat_mass_rows(files, a.flatten_mass, a.seed, a.upsample_max)
    rows = write_atomically(a.out, lambda tmp: write(files, names, order, a, tmp), "merge")
    print(f"merge: {len(files)} files, {rows} rows -> {a.out}")


def write(files, names, order, a, path):
    """Writes the merged rows to path; returns their number."""
    with h5py.File(path, "w") as out:
        for name in names:
            parts = [f[name][...] for f in files]
            width = [max(x.shape[k] for x in parts) for k in range(1, parts[0].ndim)]
            padded = []
            for x in parts:
                pad = [(0, 0)] + [(0, w - s) for w, s in zip(width, x.shape[1:])]
                padded.append(np.pad(x, pad))
            data = np.concatenate(padded)
            if order is not None:
                data = data[order]
            out.create_dataset(name, data=data, compression="gzip", compression_opts=1)
        for k, v in files[0].attrs.items():
            out.attrs[k] = v
        rows = len(order) if order is not None else sum(f["weight"].shape[0] for f in files)
        out.attrs["n_events"] = np.int64(rows)
        out.attrs["merged_from"] = ",".join(a.inputs)
        if a.flatten_mass:
            out.attrs["flatten_mass"] = a.flatten_mass
    return rows


def true_mass(f):
    p = f["truth/tau_p4"][...].sum(axis=1)
    return np.sqrt(np.maximum(p[:, 3] ** 2 - (p[:, :3] ** 2).sum(axis=1), 0))


def flat_mass_rows(files, spec, seed, upsample_max):
    """The merged rows to write, in order (indices into the concatenated inputs)."""
    try:
        lo, hi, width, per_bin = (float(x) for x in spec.split(","))
    except ValueError:
        sys.exit(f"merge: --flatten-mass {spec}: expected LO,HI,WIDTH,PER_BIN")
    if not (0 <= lo < hi and width > 0 and per_bin > 0):
        sys.exit(f"merge: --flatten-mass {spec}: need 0 <= LO < HI, WIDTH > 0, PER_BIN > 0")
    m = np.concatenate([true_mass(f) for f in files])
    edges = np.arange(lo, hi + 0.5 * width, width)
    counts, _ = np.histogram(m, edges)
    b = np.clip(np.searchsorted(edges, m, side="right") - 1, 0, len(counts) - 1)
    inside = (m >= lo) & (m < edges[-1])
    # Expected copies of each row: below 1 thins, above 1 (sparse bins) copies.
    target = np.minimum(per_bin, upsample_max * counts)
    factor = np.where(inside, target[b] / np.maximum(counts[b], 1), 1.0)
    rng = np.random.default_rng(seed)
    copies = np.floor(factor).astype(np.int64)
    copies += rng.random(len(m)) < factor - copies
    short = [f"{edges[i]:g}" for i in range(len(counts)) if target[i] < per_bin]
    if short:
        print(f"merge: bins left below {per_bin:g} rows: {', '.join(short)}")
    kept = np.flatnonzero(copies > 0)
    # Originals keep their order; extra copies follow, training copies at training positions.
    validation = np.arange(len(kept)) % 5 == 4
    extra = {False: [], True: []}
    for row, is_val in zip(kept, validation):
        extra[bool(is_val)].extend([row] * (copies[row] - 1))
    train_extra, val_extra = (rng.permutation(np.array(extra[k], dtype=np.int64))
                              for k in (False, True))
    order, ti, vi = list(kept), 0, 0
    while True:
        if len(order) % 5 == 4:
            if vi == len(val_extra):
                break
            order.append(val_extra[vi])
            vi += 1
        else:
            if ti == len(train_extra):
                break
            order.append(train_extra[ti])
            ti += 1
    return np.array(order, dtype=np.int64)

if __name__ == "__main__":
    main()

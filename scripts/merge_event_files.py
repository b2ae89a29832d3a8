#!/usr/bin/env python3
"""Concatenate nurec event files (rows of /weight, /truth/*, /reco/*) into one training file.

Used for the parameter-variation training of docs/physics-validation.md ("Next step: a model
trained on mixed settings"): each input is one generator/detector setting. Ragged per-row shapes
(/truth/recoil_p4, /reco/jets_p4, /truth/products_p4, ...) are zero-padded to the widest input,
which is how nurec pads them itself. Attributes come from the first input, plus `merged_from`
(the input names) and `n_events`; /nu groups are dropped (stale for the merged rows).

    /usr/bin/python3 scripts/merge_event_files.py --out mixed.h5 a.h5 b.h5 c.h5
"""
import argparse
import sys

import h5py
import numpy as np


def datasets(f):
    names = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return [n for n in names if not n.startswith("nu/")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    files = [h5py.File(p, "r") for p in a.inputs]
    names = datasets(files[0])
    for p, f in zip(a.inputs[1:], files[1:]):
        missing = set(names) ^ set(datasets(f))
        if missing:
            sys.exit(f"merge: {p} and {a.inputs[0]} hold different datasets: {sorted(missing)}")
    with h5py.File(a.out, "w") as out:
        for name in names:
            parts = [f[name][...] for f in files]
            width = [max(x.shape[k] for x in parts) for k in range(1, parts[0].ndim)]
            padded = []
            for x in parts:
                pad = [(0, 0)] + [(0, w - s) for w, s in zip(width, x.shape[1:])]
                padded.append(np.pad(x, pad))
            out.create_dataset(name, data=np.concatenate(padded), compression="gzip",
                               compression_opts=1)
        for k, v in files[0].attrs.items():
            out.attrs[k] = v
        out.attrs["n_events"] = np.int64(sum(f["weight"].shape[0] for f in files))
        out.attrs["merged_from"] = ",".join(a.inputs)
    print(f"merge: {len(files)} files, {sum(f['weight'].shape[0] for f in files)} rows -> {a.out}")


if __name__ == "__main__":
    main()

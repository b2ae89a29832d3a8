#!/usr/bin/env python3
"""Slopes and offsets of `nurec calibrate` responses (docs/quantum.md, "Study with the
visible-frame inputs").

Usage: scripts/spin_response_slopes.py resp-A.json [resp-B.json ...]

A response is raw = R theta + o over the 15 spin parameters (B+ 0-2, B- 3-5, C row-major 6-14 in
the basis k, r, n). Its diagonal slope R_ii says how much of the events' own spin state a method
keeps; its offset o_i is what the method returns whatever the state (for a diffusion model's
posterior mean: the spin state of its training sample). Prints, per file and subset (combined and
each channel), the slopes and offsets of C_kk, C_rr and C_nn of the nominal fit, and cond(R).
Standard library only.
"""
import json
import sys

DIAGONAL = {"C_kk": 6, "C_rr": 10, "C_nn": 14}
N = 15


def row(subset):
    fit = subset.get("nominal")
    if not fit or len(fit.get("o", [])) != N or len(fit.get("R", [])) != N * N:
        return None
    r, o = fit["R"], fit["o"]
    return [(r[i * N + i], o[i]) for i in DIAGONAL.values()]


def label(path):
    return "/".join(path.split("/")[-2:])  # the folder tells the model apart


def main(paths):
    responses = []
    for path in paths:  # all read before anything is printed
        try:
            with open(path) as f:
                responses.append((path, json.load(f)["subsets"]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            sys.exit(f"spin_response_slopes: {path}: not a response file ({e})")
    names = list(DIAGONAL)
    print("| response | subset | " + " | ".join(f"R {n} (o)" for n in names) + " | cond(R) |")
    print("|---|---|" + "---|" * len(names) + "---|")
    for path, subsets in responses:
        for name, subset in subsets.items():
            values = row(subset)
            if values is None:
                print(f"| {label(path)} | {name} | " + " | ".join("-" for _ in names) + " | - |")
                continue
            cells = " | ".join(f"{r:.3f} ({o:+.3f})" for r, o in values)
            cond = subset.get("condition_number")
            cond = f"{cond:.2f}" if isinstance(cond, (int, float)) else "-"
            print(f"| {label(path)} | {name} | {cells} | {cond} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

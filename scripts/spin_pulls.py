#!/usr/bin/env python3
"""Pulls of `nurec spin` results against the truth reference (docs/quantum.md "Pulls").

Usage: scripts/spin_pulls.py spin-A.json [spin-B.json ...]

For every report (a file that carries /truth/spin_*), every subset (the combined sample and each
channel) and every one of the 15 spin parameters: pull = (shown - reference) / error, where
"shown" is the calibrated value (else the raw one) and error = sqrt(stat^2 + calibration^2).
Prints per report the chi2/ndf over the channels (disjoint, hence independent event sets), the
mean and RMS of those pulls, the same for the combined subset, and the fraction of |pull| > 2.
Parameters without a finite error are skipped; subsets whose calibration failed (raw values) are
listed, not pulled. Standard library only.
"""
import json
import math
import sys


def pulls_of(subset):
    ref = (subset.get("truth_reference") or {}).get("parameters")
    if not ref:
        return None
    shown = subset.get("calibrated") or subset.get("raw")
    out = []
    for name, p in shown["parameters"].items():
        stat = p.get("stat")
        cal = p.get("calibration") or 0.0
        if stat is None or not math.isfinite(stat):
            continue
        err = math.hypot(stat, cal)
        if err > 0:
            out.append((p["value"] - ref[name]) / err)
    return out


def summary(pulls):
    n = len(pulls)
    if n == 0:
        return "n/a"
    chi2 = sum(p * p for p in pulls)
    mean = sum(pulls) / n
    rms = math.sqrt(sum((p - mean) ** 2 for p in pulls) / max(n - 1, 1))
    out2 = sum(1 for p in pulls if abs(p) > 2) / n
    return f"chi2/ndf {chi2:.1f}/{n} = {chi2 / n:.2f}, mean {mean:+.2f}, RMS {rms:.2f}, |pull|>2: {100 * out2:.0f} %"


def main(paths):
    print("| report | method | calibration | channels (independent) | combined | flagged | "
          "calibration failed (not pulled) |")
    print("|---|---|---|---|---|---|---|")
    for path in paths:
        with open(path) as f:
            rep = json.load(f)
        channels, combined, flagged, failed = [], [], [], []
        for s in rep["subsets"]:
            p = pulls_of(s)
            if p is None:
                continue
            if s.get("calibration_failed"):
                failed.append(s["channel"])  # raw values: no calibrated result to pull
                continue
            if s.get("flags"):
                flagged.append(s["channel"])
            (combined if s["channel"] == "combined" else channels).extend(p)
        cal = rep.get("calibration_source") or "none"
        cal = cal.split("/")[-1]
        print(f"| {path.split('/')[-1]} | {rep['method']} | {cal} | {summary(channels)} | "
              f"{summary(combined)} | {', '.join(flagged) or '-'} | {', '.join(failed) or '-'} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

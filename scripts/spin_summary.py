#!/usr/bin/env python3
"""One Markdown table from several `nurec spin` reports of the same events (docs/quantum.md).

Usage: scripts/spin_summary.py spin-A.json [spin-B.json ...]

Per report, the combined subset: events, calibrated C_kk, C_rr, C_nn (value ± stat [calibration]),
the bias-corrected concurrence, D and B_opt with their errors, Z of the entanglement witness D and
of Bell violation (B_opt) at the report's luminosity, stat only and with the calibration error,
and the raw (uncalibrated) C_rr and C_nn next to the truth reference of the same events, whose
ratio is the fraction of the transverse spin correlation a reconstruction keeps. Standard
library only.
"""
import json
import math
import os
import sys


def fmt(p, cal=True):
    if p is None or p.get("value") is None:
        return "n/a"
    s = f"{p['value']:+.3f} ± {p['stat']:.3f}"
    if cal and p.get("calibration") is not None:
        s += f" [{p['calibration']:.3f}]"
    return s


def significance(sub, statistic):
    for g in sub.get("significance", []):
        if g.get("statistic") == statistic:
            return g
    return None


def main(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            d = json.load(f)
        sub = next(s for s in d["subsets"] if s["channel"] == "combined")
        shown = sub.get("calibrated") or sub["raw"]
        par, obs = shown["parameters"], shown["observables"]
        raw = sub["raw"]["parameters"]
        ref = (sub.get("truth_reference") or {}).get("parameters", {})
        name = os.path.basename(path).removeprefix("spin-").removesuffix(".json")
        zs = []
        for stat in ("entanglement_D", "bell_opt"):
            g = significance(sub, stat)
            if g is None:
                zs.append("n/a")
                continue
            zc = g.get("z_at_lumi_with_calibration")
            zs.append(f"{g['z_at_lumi']:.1f} ({zc:.1f})" if zc is not None else f"{g['z_at_lumi']:.1f}")
        keep = []
        for c in ("C_rr", "C_nn"):
            r, t = raw[c]["value"], ref.get(c)
            keep.append(f"{r:+.3f} / {t:+.3f}" if t else f"{r:+.3f}")
        rows.append([name, f"{sub['events']:,}", fmt(par["C_kk"]), fmt(par["C_rr"]), fmt(par["C_nn"]),
                     fmt(obs.get("concurrence_unbiased"), False), fmt(obs.get("entanglement_D"), False),
                     fmt(obs.get("bell_opt"), False), zs[0], zs[1], keep[0], keep[1]])
    head = ["method", "events", "C_kk", "C_rr", "C_nn", "concurrence", "D", "B_opt",
            "Z_ent (with cal.)", "Z_Bell B_opt (with cal.)", "raw C_rr / truth", "raw C_nn / truth"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1:])

#!/usr/bin/env python3
"""Recoil, underlying event and pile-up validation (docs/physics-validation.md "Recoil model",
"Underlying event and MET").

Generates an unbiased sample with `nurec generate`, simulates it with the default detector card
and a prefix of it with the pile-up card, and writes the pT(tau tau), jet, sum E_T and MET
figures to docs/figures/realism/ plus the Markdown tables to stdout.

    /usr/bin/python3 scripts/validate_recoil.py --nurec build/app/nurec --events 200000
"""
import argparse
import os
import subprocess

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PYTHIA_MEDIAN, PYTHIA_MEAN = 13.0, 20.7  # Pythia 8.311 Monash, all events (independent test)


def run(cmd):
    print("$ " + " ".join(cmd), flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


def old_power_law_cdf(pt, pt0=7.0, power=1.9, ptmax=300.0):
    """The previous parametrisation dN/dpT ~ pT/(pT^2 + pT0^2)^power, for comparison."""
    a = power - 1
    f = lambda x: 1 - (pt0 * pt0 / (x * x + pt0 * pt0)) ** a  # noqa: E731
    return f(np.minimum(pt, ptmax)) / f(ptmax)


def met_resolution(f):
    met = f["reco/met"][:]
    nu = f["truth/nu_p4"][:]
    return met[:, 0] - (nu[:, 0, 0] + nu[:, 1, 0]), f["reco/sum_et"][:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nurec", default="build/app/nurec")
    ap.add_argument("--events", type=int, default=200000)
    ap.add_argument("--pileup-events", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", default="/tmp/nurec_validate_recoil")
    ap.add_argument("--figures", default="docs/figures/realism")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(a.figures, exist_ok=True)
    w = lambda n: os.path.join(a.work, n)  # noqa: E731
    n, s = str(a.events), str(a.seed)
    lines = {}
    lines["gen"] = run([a.nurec, "-q", "generate", "--events", n, "--seed", s, "--threads", "1",
                        "--out", w("truth.h5")])
    lines["sim"] = run([a.nurec, "-q", "simulate", w("truth.h5"), "--threads", "1", "--seed", "1",
                        "--out", w("sim.h5")])
    # The first events of the same seed are the same events (per-event random streams).
    run([a.nurec, "-q", "generate", "--events", str(a.pileup_events), "--seed", s, "--threads", "1",
         "--out", w("truth_pu.h5")])
    lines["pu"] = run([a.nurec, "-q", "simulate", w("truth_pu.h5"), "--threads", "1", "--seed", "1",
                       "--config", "configs/detector_atlas_pileup.yaml", "--out", w("sim_pu.h5")])

    f = h5py.File(w("sim.h5"), "r")
    fpu = h5py.File(w("sim_pu.h5"), "r")
    b = f["truth/boson_p4"][:]
    ptz = np.hypot(b[:, 0], b[:, 1])
    sr = f["reco/pass_sr"][:] == 1
    njet = f["reco/n_jets"][:]
    jets = f["reco/jets_p4"][:]
    out = []
    P = out.append
    P("Runs:\n")
    P("```")
    for k in ("gen", "sim", "pu"):
        P(lines[k])
    P("```\n")
    med, mean = np.median(ptz), ptz.mean()
    P("| pT(ττ) | nurec | Pythia 8.311 (independent test) | ratio |")
    P("|---|---:|---:|---:|")
    P(f"| median, all events [GeV] | {med:.2f} | {PYTHIA_MEDIAN} | {med / PYTHIA_MEDIAN:.3f} |")
    P(f"| mean, all events [GeV] | {mean:.2f} | {PYTHIA_MEAN} | {mean / PYTHIA_MEAN:.3f} |")
    P(f"| median, signal region [GeV] | {np.median(ptz[sr]):.2f} | 14.2 | "
      f"{np.median(ptz[sr]) / 14.2:.3f} |")
    P(f"| SR events with pT(ττ) > 20 GeV | {np.mean(ptz[sr] > 20):.3f} | 0.39 | "
      f"{np.mean(ptz[sr] > 20) / 0.39:.3f} |")
    P(f"\n{len(ptz)} events, {sr.sum()} in the signal region. Fractions above 50 / 100 GeV: "
      f"{np.mean(ptz > 50):.4f} / {np.mean(ptz > 100):.4f}.\n")

    # pT(tau tau) figure.
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    edges = np.linspace(0, 150, 76)
    centers = 0.5 * (edges[1:] + edges[:-1])
    h, _ = np.histogram(ptz, edges)
    ax[0].step(centers, h / len(ptz) / np.diff(edges), where="mid", label="nurec (ISR shower)")
    old = np.diff(old_power_law_cdf(edges)) / np.diff(edges)
    ax[0].step(centers, old, where="mid", ls="--", label="previous model (power law)")
    ax[0].axvline(PYTHIA_MEDIAN, color="grey", ls=":", label="Pythia 8.311 median / mean")
    ax[0].axvline(PYTHIA_MEAN, color="grey", ls=":")
    ax[0].set_xlabel("pT(ττ) [GeV]")
    ax[0].set_ylabel("1/N dN/dpT [1/GeV]")
    ax[0].legend()
    ax[1].step(centers, h / len(ptz) / np.diff(edges), where="mid", label="nurec, all events")
    hs, _ = np.histogram(ptz[sr], edges)
    ax[1].step(centers, hs / max(sr.sum(), 1) / np.diff(edges), where="mid",
               label="nurec, signal region")
    ax[1].step(centers, old, where="mid", ls="--", label="previous model")
    ax[1].set_yscale("log")
    ax[1].set_xlabel("pT(ττ) [GeV]")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(a.figures, "pt_tautau.png"), dpi=90)

    # Jets.
    P("| jets (pT > 20 GeV, \\|η\\| < 4.5) | 0 | 1 | 2 | 3 | ≥ 4 |")
    P("|---|---:|---:|---:|---:|---:|")
    for name, m in (("all events", np.ones_like(sr)), ("signal region", sr)):
        fr = [np.mean(njet[m] == k) for k in range(4)] + [np.mean(njet[m] >= 4)]
        P(f"| {name} | " + " | ".join(f"{x:.3f}" for x in fr) + " |")
    lead = jets[njet > 0, 0]
    lead_eta = np.arcsinh(lead[:, 2] / np.hypot(lead[:, 0], lead[:, 1]))
    P(f"\nLeading-jet |η|: median {np.median(np.abs(lead_eta)):.2f}, fraction beyond 2.5: "
      f"{np.mean(np.abs(lead_eta) > 2.5):.3f}.\n")

    # Sum E_T and MET resolution.
    d, se = met_resolution(f)
    dpu, sepu = met_resolution(fpu)
    srpu = fpu["reco/pass_sr"][:] == 1
    P("| sample | median ΣE_T [GeV] | mean ΣE_T [GeV] | RMS(MET_x − ν_x) all [GeV] | same, SR [GeV] |")
    P("|---|---:|---:|---:|---:|")
    P(f"| default card (no pile-up) | {np.median(se):.0f} | {se.mean():.0f} | {d.std():.2f} | "
      f"{d[sr].std():.2f} |")
    P(f"| pile-up card (⟨μ⟩ = 34) | {np.median(sepu):.0f} | {sepu.mean():.0f} | {dpu.std():.2f} | "
      f"{dpu[srpu].std():.2f} |")
    P("| Pythia 8.311 through nurec's detector (independent test) | 189 | | | 8.6 |")
    P("")
    bins = [0, 100, 150, 200, 250, 300, 400, 600, 1e9]
    P("| ΣE_T bin [GeV] | events | RMS [GeV] | Gaussian core σ (IQR/1.349) [GeV] | 0.5 √⟨ΣE_T⟩ [GeV] |")
    P("|---|---:|---:|---:|---:|")
    xs, rms, core = [], [], []
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (se >= lo) & (se < hi)
        if m.sum() < 50:
            continue
        q = np.percentile(d[m], [25, 75])
        xs.append(se[m].mean())
        rms.append(d[m].std())
        core.append((q[1] - q[0]) / 1.349)
        label = f"{lo:.0f}–{hi:.0f}" if hi < 1e8 else f"> {lo:.0f}"
        P(f"| {label} | {m.sum()} | {rms[-1]:.2f} | {core[-1]:.2f} | {0.5 * np.sqrt(xs[-1]):.2f} |")
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    e2 = np.linspace(0, 1200, 61)
    ax[0].hist(se, e2, histtype="step", density=True, label="default card")
    ax[0].hist(sepu, e2, histtype="step", density=True, label="⟨μ⟩ = 34")
    ax[0].axvline(189, color="grey", ls=":", label="Pythia 8.311 median (independent test)")
    ax[0].set_xlabel("ΣE_T [GeV]")
    ax[0].set_ylabel("1/N dN/dΣE_T")
    ax[0].legend()
    ax[1].plot(xs, rms, "o-", label="RMS, default card")
    ax[1].plot(xs, core, "s-", label="Gaussian core, default card")
    xpu, rpu = [], []
    for lo, hi in zip(bins[:-1] + [600, 900], bins[1:] + [900, 1e9]):
        m = (sepu >= lo) & (sepu < hi)
        if m.sum() >= 50:
            xpu.append(sepu[m].mean())
            rpu.append(dpu[m].std())
    ax[1].plot(xpu, rpu, "^-", label="RMS, ⟨μ⟩ = 34")
    xx = np.linspace(20, 1200, 100)
    ax[1].plot(xx, 0.5 * np.sqrt(xx), "k--", label="0.5 √ΣE_T (ATLAS 7 TeV fit)")
    ax[1].set_xlabel("ΣE_T [GeV]")
    ax[1].set_ylabel("σ(MET_x − ν_x) [GeV]")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(a.figures, "sumet_met.png"), dpi=90)
    print("\n".join(out))


if __name__ == "__main__":
    main()

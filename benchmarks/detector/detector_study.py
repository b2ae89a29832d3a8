#!/usr/bin/python3
"""Validation study of `nurec simulate` output (docs/detector.md, docs/yields.md).

    /usr/bin/python3 benchmarks/detector/detector_study.py sim.h5 --out docs/detector

Prints Markdown tables (decay-mode classification, resolutions, truth-channel efficiencies,
yield factors of extra cuts) and writes resolution plots (PNG) into --out.
"""
import argparse
import os

import h5py
import numpy as np

MODES = ["pi", "rho", "e", "mu", "other"]
TYPES = {-1: "none", 0: "pi", 1: "rho", 2: "e", 3: "mu"}
CHANNELS = ["pipi", "epi", "mupi", "pirho", "erho", "murho", "rhorho"]
K_FACTOR = 1.28


def pt(p):
    return np.hypot(p[..., 0], p[..., 1])


def hwhm(x, bins=400, lo=None, hi=None):
    """Half width at half maximum of a histogram (smoothed with a 5-bin running mean)."""
    lo = np.percentile(x, 1) if lo is None else lo
    hi = np.percentile(x, 99) if hi is None else hi
    h, e = np.histogram(x, bins=bins, range=(lo, hi))
    h = np.convolve(h, np.ones(5) / 5, mode="same")
    c = 0.5 * (e[1:] + e[:-1])
    peak = np.argmax(h)
    half = h[peak] / 2
    left = np.where(h[:peak] < half)[0]
    right = np.where(h[peak:] < half)[0]
    if len(left) == 0 or len(right) == 0:
        return float("nan")
    return 0.5 * (c[peak + right[0]] - c[left[-1]])


def truth_channel(modes):
    a, b = modes[:, 0], modes[:, 1]
    ch = np.full(len(a), -1)
    def pair(x, y):
        return ((a == x) & (b == y)) | ((a == y) & (b == x))
    ch[pair(0, 0)] = 0
    ch[pair(2, 0)] = 1
    ch[pair(3, 0)] = 2
    ch[pair(0, 1)] = 3
    ch[pair(2, 1)] = 4
    ch[pair(3, 1)] = 5
    ch[pair(1, 1)] = 6
    return ch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--out", default=None, help="directory for the PNG plots")
    args = ap.parse_args()
    f = h5py.File(args.file, "r")
    w = f["/weight"][:]
    modes = f["/truth/decay_mode"][:]
    types = f["/reco/tau_type"][:]
    channel = f["/reco/channel"][:]
    sr = f["/reco/pass_sr"][:].astype(bool)
    trig = f["/reco/pass_trigger"][:].astype(bool)
    vis = f["/truth/vis_p4"][:]
    nu = f["/truth/nu_p4"][:]
    reco = f["/reco/tau_p4"][:]
    met = f["/reco/met"][:]
    sumet = f["/reco/sum_et"][:]
    n = len(w)
    print(f"file {args.file}: {n} events, sum of weights {w.sum():.2f} pb\n")

    # Decay-mode classification (all taus with a reconstructed candidate or not).
    print("### Decay-mode classification (fraction of truth taus of each mode)\n")
    print("| truth \\ reco | " + " | ".join(TYPES[t] for t in [0, 1, 2, 3, -1]) + " |")
    print("|---" * 6 + "|")
    for m in range(5):
        sel = modes == m
        row = [np.mean(types[sel] == t) for t in [0, 1, 2, 3, -1]]
        print(f"| {MODES[m]} | " + " | ".join(f"{x:.3f}" for x in row) + " |")
    print("\nPurity of the reconstructed types among candidates with visible pT > 25 GeV:\n")
    print("| reco type | " + " | ".join(MODES) + " |")
    print("|---" * 6 + "|")
    for t in [0, 1, 2, 3]:
        sel = (types == t) & (pt(reco) > 25)
        row = [np.mean(modes[sel] == m) for m in range(5)]
        print(f"| {TYPES[t]} | " + " | ".join(f"{x:.3f}" for x in row) + " |")

    # Resolutions of the visible tau momentum.
    print("\n### Visible-tau resolution, reco pT / truth visible pT (candidates with truth mode = reco type)\n")
    print("| type | candidates | mean | RMS | HWHM |")
    print("|---|---:|---:|---:|---:|")
    ratios = {}
    for t in [0, 1, 2, 3]:
        sel = (types == t) & (modes == t)
        r = pt(reco[sel]) / pt(vis[sel])
        ratios[TYPES[t]] = r
        core = r[(r > 0.5) & (r < 1.5)]
        print(f"| {TYPES[t]} | {sel.sum()} | {core.mean():.4f} | {core.std():.4f} | {hwhm(r, lo=0.5, hi=1.5):.4f} |")
    sel = (types == 1) & (modes == 0)
    if sel.any():
        r = pt(reco[sel]) / pt(vis[sel])
        print(f"| pi reconstructed as rho (fake pi0) | {sel.sum()} | {r.mean():.4f} | {r.std():.4f} | - |")
    sel = (types == 0) & (modes == 1)
    if sel.any():
        r = pt(reco[sel]) / pt(vis[sel])
        print(f"| rho reconstructed as pi (lost pi0) | {sel.sum()} | {r.mean():.4f} | {r.std():.4f} | - |")

    # MET resolution: reco MET vs the truth neutrinos (both taus, plus recoil neutrinos if any).
    nuxy = nu[:, 0, :2] + nu[:, 1, :2]
    if "/truth/recoil_pdg" in f:
        rp = f["/truth/recoil_pdg"][:]
        r4 = f["/truth/recoil_p4"][:]
        isnu = np.isin(np.abs(rp), [12, 14, 16])
        nuxy = nuxy + (r4[..., :2] * isnu[..., None]).sum(axis=1)
    dmet = met - nuxy
    print("\n### MET resolution, reco MET_x - truth sum(nu_x)\n")
    print("| sum E_T bin [GeV] | events | RMS [GeV] | HWHM [GeV] | 0.5 sqrt(<sum E_T>) |")
    print("|---|---:|---:|---:|---:|")
    for lo, hi in [(0, 60), (60, 90), (90, 120), (120, 160), (160, 250), (250, 1e9)]:
        sel = (sumet >= lo) & (sumet < hi)
        if sel.sum() < 100:
            continue
        d = dmet[sel, 0]
        print(f"| {lo:.0f}-{hi if hi < 1e8 else 'inf'} | {sel.sum()} | {d.std():.2f} | {hwhm(d, lo=-40, hi=40):.2f} | "
              f"{0.5 * np.sqrt(sumet[sel].mean()):.2f} |")
    d = dmet[sr, 0]
    print(f"| SR events | {sr.sum()} | {d.std():.2f} | {hwhm(d, lo=-40, hi=40):.2f} | {0.5 * np.sqrt(sumet[sr].mean()):.2f} |")

    # Efficiencies per truth channel.
    tch = truth_channel(modes)
    print("\n### Efficiency per truth channel (SR events reconstructed in the same channel)\n")
    print("| truth channel | pair fraction | SR, same reco channel | SR, any channel | SR yield per fb^-1 (same channel) |")
    print("|---|---:|---:|---:|---:|")
    for c in range(7):
        sel = tch == c
        same = sel & sr & (channel == c)
        anyc = sel & sr
        print(f"| {CHANNELS[c]} | {sel.mean():.4f} | {same.sum() / max(sel.sum(), 1):.4f} | "
              f"{anyc.sum() / max(sel.sum(), 1):.4f} | {w[same].sum() * 1000 * K_FACTOR:.0f} |")
    print("\nComposition of each reco channel in the SR (truth channel fractions; 'other' = any other pair):\n")
    print("| reco channel | " + " | ".join(CHANNELS) + " | other |")
    print("|---" * 9 + "|")
    for c in range(7):
        sel = sr & (channel == c)
        row = [np.mean(tch[sel] == t) for t in range(7)] + [np.mean(tch[sel] == -1)]
        print(f"| {CHANNELS[c]} | " + " | ".join(f"{x:.3f}" for x in row) + " |")

    # Extra cuts that typical analyses add, and what they do to the yield.
    print("\n### Yield after extra cuts (SR events per fb^-1, K = 1.28)\n")
    lep = (types == 2) | (types == 3)
    had = (types == 0) | (types == 1)
    metpt = np.hypot(met[:, 0], met[:, 1])
    mt = np.zeros(n)
    for t in range(2):
        l = lep[:, t]
        dphi = np.arctan2(reco[:, t, 1], reco[:, t, 0]) - np.arctan2(met[:, 1], met[:, 0])
        mt_t = np.sqrt(np.maximum(0, 2 * pt(reco[:, t]) * metpt * (1 - np.cos(dphi))))
        mt[l] = mt_t[l]
    pvis = reco[:, 0] + reco[:, 1]
    mvis = np.sqrt(np.maximum(0, pvis[:, 3] ** 2 - (pvis[:, :3] ** 2).sum(axis=1)))
    eta = np.arcsinh(reco[..., 2] / np.maximum(pt(reco), 1e-9))
    deta = np.abs(eta[:, 0] - eta[:, 1])
    nhad = had.sum(axis=1)

    def yld(mask):
        return w[mask].sum() * 1000 * K_FACTOR

    base = yld(sr)
    print("| selection | yield per fb^-1 | ratio to SR |")
    print("|---|---:|---:|")
    steps = [
        ("SR (this simulation)", sr),
        ("SR and m_T(lepton, MET) < 50 GeV (lep-had)", sr & (mt < 50)),
        ("SR and 40 < m_vis < 85 GeV", sr & (mvis > 40) & (mvis < 85)),
    ]
    steps.append(("SR and |d eta(tau, tau)| < 1.5", sr & (deta < 1.5)))
    steps.append(("all three above", sr & (mt < 50) & (mvis > 40) & (mvis < 85) & (deta < 1.5)))
    for name, mask in steps:
        print(f"| {name} | {yld(mask):.0f} | {yld(mask) / base:.3f} |")
    # Tight instead of Medium RNN tau identification (0.60 / 0.75 per hadronic tau; the card's
    # values, docs/detector.md), as a reweighting of the same events.
    tight = 0.60 / 0.75
    scaled = (w[sr] * tight ** nhad[sr]).sum() * 1000 * K_FACTOR
    print(f"| SR with the Tight tau ID (0.60 instead of 0.75 per hadronic tau) | {scaled:.0f} | {scaled / base:.3f} |")

    # Analysis-level cuts a published set-up may add (assumptions, not docs/physics.md numbers): offline
    # thresholds above the trigger thresholds, the three cuts above, the Tight tau ID.
    lead = np.max(np.where(had, pt(reco), 0), axis=1)
    sub = np.min(np.where(had, pt(reco), 1e9), axis=1)
    lpt = np.max(np.where(lep, pt(reco), 0), axis=1)
    hh = np.isin(channel, [0, 3, 6])
    eh = np.isin(channel, [1, 4])
    mh = np.isin(channel, [2, 5])
    offline = (hh & (lead > 40) & (sub > 30)) | (eh & ((lpt > 27) | ((lpt > 18) & (lead > 30)))) | \
              (mh & ((lpt > 27.3) | ((lpt > 15) & (lead > 30))))
    sel = sr & offline
    print(f"| SR and offline thresholds (di-tau 40/30; e 27 or e 18 + tau 30; mu 27.3 or mu 15 + tau 30) "
          f"| {yld(sel):.0f} | {yld(sel) / base:.3f} |")
    sel = sel & (mt < 50) & (mvis > 40) & (mvis < 85) & (deta < 1.5)
    print(f"| ... and the three cuts above | {yld(sel):.0f} | {yld(sel) / base:.3f} |")
    scen = (w[sel] * tight ** nhad[sel]).sum() * 1000 * K_FACTOR
    print(f"| ... and the Tight tau ID | {scen:.0f} | {scen / base:.3f} |")

    if args.out:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        os.makedirs(args.out, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, r in ratios.items():
            ax.hist(r, bins=120, range=(0.7, 1.3), histtype="step", density=True, label=f"{name} ({len(r)})")
        ax.set_xlabel("reco pT / truth visible pT")
        ax.set_ylabel("density")
        ax.set_title("Visible tau candidates (truth mode = reco type)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "visible_tau_resolution.png"), dpi=110)
        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax[0].hist(dmet[:, 0], bins=160, range=(-40, 40), histtype="step", label="all events")
        ax[0].hist(dmet[sr, 0], bins=160, range=(-40, 40), histtype="step", density=False, label="SR")
        ax[0].set_yscale("log")
        ax[0].set_xlabel("reco MET_x - truth sum nu_x [GeV]")
        ax[0].legend()
        bins = np.linspace(0, 300, 16)
        centers, widths = [], []
        for lo, hi in zip(bins[:-1], bins[1:]):
            sel = (sumet >= lo) & (sumet < hi)
            if sel.sum() > 200:
                centers.append(0.5 * (lo + hi))
                widths.append(dmet[sel, 0].std())
        ax[1].plot(centers, widths, "o", label="RMS of MET_x - nu_x")
        xs = np.linspace(1, 300, 100)
        ax[1].plot(xs, 0.5 * np.sqrt(xs), "-", label="0.5 sqrt(sum E_T)")
        ax[1].set_xlabel("sum E_T [GeV]")
        ax[1].set_ylabel("GeV")
        ax[1].legend()
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "met_resolution.png"), dpi=110)
        fig, ax = plt.subplots(figsize=(6, 4))
        for t, name in [(0, "pi"), (1, "rho"), (2, "e"), (3, "mu")]:
            sel = (types == t) & (modes == t)
            ax.plot(pt(vis[sel])[:3000], pt(reco[sel])[:3000], ".", ms=1.5, label=name)
        ax.plot([0, 120], [0, 120], "k-", lw=0.5)
        ax.set_xlim(0, 120)
        ax.set_ylim(0, 120)
        ax.set_xlabel("truth visible pT [GeV]")
        ax.set_ylabel("reco pT [GeV]")
        ax.legend(markerscale=6)
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, "visible_tau_reco_vs_truth.png"), dpi=110)
        print(f"\nplots written to {args.out}")


if __name__ == "__main__":
    main()

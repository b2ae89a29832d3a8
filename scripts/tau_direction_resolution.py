#!/usr/bin/env python3
"""Angle between the reconstructed and the true tau direction, in units of m_tau/|p_tau|, per
method, for hadronic and leptonic legs of signal-region events, and the rest-frame analyser angle
of single-pion legs: the angle between the charged pion's direction in the reconstructed tau rest
frame (tau mass imposed) and in the true one (docs/reco.md, "Impact-parameter method"), also per
channel. Prints medians and the fraction of tau directions below 0.5 m/p. For a method that stores
candidates (/nu/<method>/candidates) also the 16/50/84 % quantiles of the candidates' tau masses
on the same single-pion legs (visible tau + one candidate, massless nu), next to the mass of the
visible tau plus the true neutrino (docs/ml.md, "Visible-frame targets").

    /usr/bin/python3 scripts/tau_direction_resolution.py nu.h5 fastmtt ip [...]
"""
import sys

import h5py
import numpy as np

M_TAU = 1.77686
CHANNELS = ["pipi", "epi", "mupi", "pirho", "erho", "murho", "rhorho"]  # /reco/channel 0..6


def rest_frame_direction(p, tau):
    """Unit 3-vectors of the four-vectors p (..., 4: px, py, pz, E) boosted into the rest frame of
    tau (..., 3 momentum; energy from the tau mass)."""
    t3 = tau[..., :3]
    e = np.sqrt((t3 ** 2).sum(-1) + M_TAU ** 2)
    beta = t3 / e[..., None]
    b2 = (beta ** 2).sum(-1)
    gamma = 1 / np.sqrt(1 - b2)
    bp = (beta * p[..., :3]).sum(-1)
    coef = (gamma - 1) * bp / np.where(b2 > 0, b2, 1) - gamma * p[..., 3]
    v = p[..., :3] + coef[..., None] * beta
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def mass(p3, e):
    return np.sqrt(np.maximum(e ** 2 - (p3 ** 2).sum(-1), 0))


def candidate_tau_masses(f, method, ok, typ, mode):
    """(candidate tau masses, reference masses) on single-pion legs, or None without candidates."""
    if f"nu/{method}/candidates" not in f:
        return None
    cand = f[f"nu/{method}/candidates"][:]  # (N, K, 2, 3)
    vis = f["reco/tau_p4"][:]
    nu = f["truth/nu_p4"][:]
    out, ref = [], []
    for t in range(2):
        sel = ok & (typ[:, t] == 0) & (mode[:, t] == 0)
        v, c = vis[sel, t], cand[sel, :, t]
        p3 = v[:, None, :3] + c
        out.append(mass(p3, v[:, None, 3] + np.linalg.norm(c, axis=-1)).ravel())
        ref.append(mass(v[:, :3] + nu[sel, t, :3], v[:, 3] + nu[sel, t, 3]))
    return np.concatenate(out), np.concatenate(ref)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    f = h5py.File(sys.argv[1], "r")
    true_tau = f["truth/tau_p4"][:]
    vis = f["reco/tau_p4"][:]
    typ = f["reco/tau_type"][:]
    sr = f["reco/pass_sr"][:] == 1
    charged = f["reco/charged_p4"][:]
    true_pi = f["truth/charged_pi_p4"][:]
    mode = f["truth/decay_mode"][:]
    channel = f["reco/channel"][:]
    for method in sys.argv[2:]:
        if f"nu/{method}/p4" not in f:
            sys.exit(f"{sys.argv[1]}: no dataset /nu/{method}/p4")
        nu = f[f"nu/{method}/p4"][:]
        ok = (f[f"nu/{method}/status"][:] == 0) & sr
        tau = vis + nu
        row = [method]
        for name, hadronic in (("hadronic", True), ("leptonic", False)):
            ratios = []
            for t in range(2):
                sel = ok & (typ[:, t] >= 0) & ((typ[:, t] <= 1) == hadronic)
                a, b = tau[sel, t, :3], true_tau[sel, t, :3]
                cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
                ratios.append(np.arccos(np.clip(cos, -1, 1)) * np.linalg.norm(b, axis=1) / M_TAU)
            r = np.concatenate(ratios)
            row.append(f"{name}: median {np.median(r):.3f}, <0.5: {np.mean(r < 0.5):.3f} ({r.size} legs)")
        angles, chans = [], []
        for t in range(2):
            sel = ok & (typ[:, t] == 0) & (mode[:, t] == 0)
            a = rest_frame_direction(charged[sel, t], tau[sel, t])
            b = rest_frame_direction(true_pi[sel, t], true_tau[sel, t])
            angles.append(np.arccos(np.clip((a * b).sum(-1), -1, 1)))
            chans.append(channel[sel])
        r, c = np.concatenate(angles), np.concatenate(chans)
        row.append(f"pi analyser angle: median {np.median(r):.3f} rad ({r.size} legs)")
        per = [f"{CHANNELS[k]} {np.median(r[c == k]):.3f}" for k in range(len(CHANNELS)) if (c == k).sum() > 0]
        row.append("by channel: " + ", ".join(per))
        masses = candidate_tau_masses(f, method, ok, typ, mode)
        if masses is not None:
            q = lambda x: "/".join(f"{v:.2f}" for v in np.percentile(x, [16, 50, 84]))
            row.append(f"candidate tau mass (pi legs) 16/50/84 %: {q(masses[0])} GeV "
                       f"(visible + true nu: {q(masses[1])})")
        print(" | ".join(row))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Angle between the reconstructed and the true tau direction, in units of m_tau/|p_tau|, per
method, for hadronic and leptonic legs of signal-region events (docs/reco.md, "Impact-parameter
method"). Prints the median and the fraction below 0.5.

    /usr/bin/python3 scripts/tau_direction_resolution.py nu.h5 fastmtt ip [...]
"""
import sys

import h5py
import numpy as np

M_TAU = 1.77686


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    f = h5py.File(sys.argv[1], "r")
    true_tau = f["truth/tau_p4"][:]
    vis = f["reco/tau_p4"][:]
    typ = f["reco/tau_type"][:]
    sr = f["reco/pass_sr"][:] == 1
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
        print(" | ".join(row))


if __name__ == "__main__":
    main()

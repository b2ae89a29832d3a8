#!/usr/bin/env bash
# The per-event m_tautau interval calibration of a flat-prior model (docs/ml.md "Calibrated mass
# intervals"; models/ztautau_logflat_ip): Drell-Yan events with ln m uniform in 40-500 GeV and,
# with SCALAR=1, g g -> Phi -> tau tau (CP-even scalar) at 12 masses, the midpoints of 12 equal
# steps in ln m over the same range, with the same number of generated events in total. All tau
# decay modes, as in data: the signal region also takes events whose tau decayed to a mode the
# model was not trained on (a1, three prongs, kaons; about 28 % of the events), and the
# calibration must see them. Reconstructed with the model (K = 20, DDIM-100, its card's sampler),
# then `nurec calibrate-intervals` writes WORK/mass_intervals.json, to be copied into the model.
#   [EVENTS=4800000] [SEED=964] [SCALAR=0|1] \
#     scripts/interval_calibration_sample.sh [nurec] [work dir] [model dir]
# The defaults are the shipped calibration of models/ztautau_logflat_ip (397,989 signal-region
# events; fewer leave the low-mass cells with a few hundred events, docs/ml.md "The calibration
# sample"). Cost on 2 cores: 18 min generation, 9 min simulation, 15 min reconstruction; the
# generator file takes about 18 GB until it is simulated. Finished steps are kept, so an
# interrupted run continues.
set -euo pipefail
nurec="${1:-build/app/nurec}"; work="${2:-/tmp/nurec_interval_calibration}"
model="${3:-models/ztautau_logflat_ip}"
events="${EVENTS:-4800000}"; seed="${SEED:-964}"
cuts=(--min-vis-pt 12 --min-lead-vis-pt 20 --max-vis-eta 2.7 --threads 2)
mkdir -p "$work"
source "$(dirname "$0")/lib/simulated_part.sh"

scalar="${SCALAR:-0}"
[[ "$scalar" == 0 || "$scalar" == 1 ]] || { echo "SCALAR must be 0 or 1, not '$scalar'" >&2; exit 1; }
# With the scalar, half of the generated events are Drell-Yan and 1/24 go to each scalar mass.
simulated_part "$nurec" "$work/sr_dy.h5" "$seed" - - $((events / (1 + scalar))) "${cuts[@]}" \
  --mass-prior log-flat --mass-window 40,500
parts=("$work/sr_dy.h5")
if [[ "$scalar" == 1 ]]; then
  for i in $(seq 0 11); do
    mass=$(/usr/bin/python3 -c "print(f'{40 * 12.5 ** (($i + 0.5) / 12):.2f}')")
    simulated_part "$nurec" "$work/sr_scalar_$i.h5" $((seed * 100 + i)) - - $((events / 24)) \
      "${cuts[@]}" --resonance higgs --higgs-mass "$mass"
    parts+=("$work/sr_scalar_$i.h5")
  done
fi
[[ -f "$work/sample.h5" ]] ||
  /usr/bin/python3 "$(dirname "$0")/merge_event_files.py" --out "$work/sample.h5" "${parts[@]}"

# K and sampler: the model card's (the calibration holds only for the settings it was fitted at).
if [[ ! -f "$work/reco.h5" ]]; then
  for part in 0 1; do
    "$nurec" -q reconstruct "$work/sample.h5" --method diffusion --model "$model" \
      --candidates 20 --seed "$seed" --threads 1 --shard $part/2 --out "$work/reco_$part.h5" &
  done
  wait
  "$nurec" -q merge "$work/reco_0.h5" "$work/reco_1.h5" --out "$work/reco.h5"
  rm -f "$work/reco_0.h5" "$work/reco_1.h5"
fi
"$nurec" -q calibrate-intervals "$work/reco.h5" --out "$work/mass_intervals.json"

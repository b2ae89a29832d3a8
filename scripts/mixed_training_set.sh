#!/usr/bin/env bash
# The 1.09 M-event mixed training set of docs/physics-validation.md "A model trained on mixed
# settings" and docs/ml.md "Training on a million events": 34 parts of 400,000 generated Z -> tau tau
# events (generator cuts of models/ztautau_ip/MODEL_CARD.md), 18 with the nominal generator and
# detector, 16 with one of seven generator/detector variations (configs/variations/), each
# simulated keeping its signal-region events only, then merged without the truth recoil and
# decay-product lists (not needed for training, most of the memory of the merge).
#   [EVENTS=400000] scripts/mixed_training_set.sh [nurec] [work dir] [parallel jobs]
# Cost: about 2.5 min per part and job on one core (12 min for the two pile-up parts); with 2 jobs
# about 50 min. A part already simulated is kept, so an interrupted run continues.
set -euo pipefail
nurec="${1:-build/app/nurec}"; work="${2:-/tmp/nurec_mixed_training}"; jobs="${3:-2}"
V=configs/variations
cuts=(--min-vis-pt 12 --min-lead-vis-pt 20 --max-vis-eta 2.7 --decay-modes pi,rho,e,mu --threads 1)
# seed | generator card | detector card
settings=()
for s in $(seq 301 316) 333 334; do settings+=("$s|-|-"); done
for s in 317 318 319 320; do settings+=("$s|$V/generator_harder_recoil.yaml|-"); done
for s in 321 322; do settings+=("$s|$V/generator_softer_recoil.yaml|$V/detector_worse_met.yaml"); done
for s in 323 324; do settings+=("$s|$V/generator_more_ue.yaml|configs/detector_atlas_pileup.yaml"); done
for s in 325 326; do settings+=("$s|$V/generator_more_ue.yaml|-"); done
for s in 327 328; do settings+=("$s|$V/generator_less_ue.yaml|-"); done
for s in 329 330; do settings+=("$s|-|$V/detector_worse_met.yaml"); done
for s in 331 332; do settings+=("$s|$V/generator_hardest_busiest.yaml|$V/detector_worse_met.yaml"); done
mkdir -p "$work"
source "$(dirname "$0")/lib/simulated_part.sh"
running=0
for s in "${settings[@]}"; do
  IFS='|' read -r seed gen det <<< "$s"
  simulated_part "$nurec" "$work/sr_$seed.h5" "$seed" "$gen" "$det" "${EVENTS:-400000}" "${cuts[@]}" &
  running=$((running + 1))
  if (( running >= jobs )); then wait -n; running=$((running - 1)); fi
done
while (( running > 0 )); do wait -n; running=$((running - 1)); done
# In seed order: the rows' order fixes the training/validation split of `nurec train`.
parts=(); for seed in $(seq 301 334); do parts+=("$work/sr_$seed.h5"); done
/usr/bin/python3 scripts/merge_event_files.py --out "$work/train.h5" \
  --drop 'truth/recoil_*' --drop 'truth/products_*' "${parts[@]}"

#!/usr/bin/env bash
# The best any model can do on the unseen robustness setting (docs/physics-validation.md "The best
# any model can do on the unseen setting"): the recipe of models/ztautau_ip (8 x 400,000 generated
# events, its generator cuts, configs/diffusion_ztautau_ip.yaml for 26 epochs) with the unseen
# generator card and the pile-up detector card instead of the nominal ones, then every given model
# and the shipped ones evaluated on the two robustness test samples (seeds 202 and 203, 120,000
# generated each, nominal and unseen).
#   [UNSEEN_DETECTOR=card|-] scripts/unseen_oracle.sh [nurec] [work dir] [model dir ...]
# UNSEEN_DETECTOR (default configs/detector_atlas_pileup.yaml, <mu> = 34) is the unseen setting's
# detector card; "-" keeps the default card (the unseen generator setting without pile-up).
# Cost: about 13 min of generation and simulation per unseen part and job (pile-up overlay), 2 jobs
# in parallel (about 65 min for the 8 parts); training 26 min data-parallel on 2 ranks (mpirun,
# docs/distributed.md); evaluation a few minutes per model. Finished steps are kept.
set -euo pipefail
nurec="${1:-build/app/nurec}"; work="${2:-/tmp/nurec_unseen_oracle}"; shift $(($# < 2 ? $# : 2))
extra_models=("$@")
V=configs/variations
unseen_gen=$V/generator_unseen_hard_busy.yaml
unseen_det="${UNSEEN_DETECTOR:-configs/detector_atlas_pileup.yaml}"
train_cuts=(--min-vis-pt 12 --min-lead-vis-pt 20 --max-vis-eta 2.7 --decay-modes pi,rho,e,mu --threads 1)
test_cuts=(--min-vis-pt 15 --max-vis-eta 2.7 --decay-modes pi,rho,e,mu --threads 1)
mkdir -p "$work"

source "$(dirname "$0")/lib/simulated_part.sh"
jobs_list=()
for s in 202 203; do
  jobs_list+=("test_unseen_$s $s $unseen_gen $unseen_det 120000 test" "test_nominal_$s $s - - 120000 test")
done
for s in $(seq 351 358); do jobs_list+=("u$s $s $unseen_gen $unseen_det 400000 train"); done
running=0
for j in "${jobs_list[@]}"; do
  read -r name seed gen det events kind <<< "$j"
  if [[ $kind == test ]]; then cuts=("${test_cuts[@]}"); else cuts=("${train_cuts[@]}"); fi
  simulated_part "$nurec" "$work/$name.h5" "$seed" "$gen" "$det" "$events" "${cuts[@]}" &
  running=$((running + 1))
  if (( running >= 2 )); then wait -n; running=$((running - 1)); fi
done
wait
merge=(/usr/bin/python3 scripts/merge_event_files.py)
[[ -f "$work/train_unseen.h5" ]] || "${merge[@]}" --out "$work/train_unseen.h5" \
  --drop 'truth/recoil_*' --drop 'truth/products_*' "$work"/u35?.h5
for t in nominal unseen; do
  [[ -f "$work/test_$t.h5" ]] || "${merge[@]}" --out "$work/test_$t.h5" "$work/test_${t}_202.h5" "$work/test_${t}_203.h5"
done

# Training: the same card and epochs as models/ztautau_ip; the global batch is that of one process.
if [[ ! -f "$work/oracle/.done" ]]; then
  resume=(); [[ -f "$work/oracle/checkpoint.pt" ]] && resume=(--resume)
  mpirun --allow-run-as-root -np 2 "$nurec" train --config configs/diffusion_ztautau_ip.yaml \
    --data "$work/train_unseen.h5" --out "$work/oracle" --epochs 26 --threads 1 "${resume[@]}"
  touch "$work/oracle/.done"
fi

# Evaluation: MMC and FastMTT once per test sample, then each model (K = 10, seed 4).
for t in nominal unseen; do
  [[ -f "$work/classical_$t.h5" ]] && continue
  "$nurec" -q reconstruct "$work/test_$t.h5" --method mmc --threads 1 --out "$work/mmc_$t.h5"
  "$nurec" -q reconstruct "$work/mmc_$t.h5" --method fastmtt --threads 1 --out "$work/classical_$t.h5"
  rm -f "$work/mmc_$t.h5"
done
for m in "$work/oracle" models/ztautau_ip models/ztautau_mixed_fm "${extra_models[@]}"; do
  name=$(basename "$m")
  for t in nominal unseen; do
    out="$work/nu_${name}_$t.h5"
    [[ -f "$out" ]] || "$nurec" -q reconstruct "$work/classical_$t.h5" --method diffusion --model "$m" \
      --candidates 10 --seed 4 --threads 1 --out "$out"
    "$nurec" -q evaluate "$out" --out "$work/report_${name}_$t" --no-plots --threads 1
  done
done
echo "reports: $work/report_<model>_<nominal|unseen>/README.md (mean tau HWHM; metrics.json calibration: CRPS, spread)"

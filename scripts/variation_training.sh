#!/usr/bin/env bash
# Parameter-variation training ("robust model"), prepared, documented in
# docs/physics-validation.md "Next step". Trains the diffusion model on a mixture of generator
# settings (recoil hardness, underlying-event level) and detector settings (MET noise, pile-up),
# then measures it on (a) the nominal setting and (b) an unseen harder + busier setting, each
# against MMC on the same events.
#   scripts/variation_training.sh [nurec] [events per setting] [work dir]
# CPU cost with the defaults (1 thread): about 6 x 6 min of generation and simulation and
# ~1 h of training on this kind of machine.
set -euo pipefail
nurec="${1:-build/app/nurec}"; per="${2:-250000}"; work="${3:-/tmp/nurec_variation_training}"
cuts=(--min-vis-pt 15 --max-vis-eta 2.7 --decay-modes pi,rho,e,mu --threads 1)
mkdir -p "$work"
V=configs/variations
# generator card | detector card | seed
settings=(
  "-|-|301"
  "$V/generator_harder_recoil.yaml|-|302"
  "$V/generator_softer_recoil.yaml|$V/detector_worse_met.yaml|303"
  "$V/generator_more_ue.yaml|configs/detector_atlas_pileup.yaml|304"
  "$V/generator_less_ue.yaml|-|305"
  "-|$V/detector_worse_met.yaml|306"
)
parts=()
for s in "${settings[@]}"; do
  IFS='|' read -r gen det seed <<< "$s"
  g=(); [[ "$gen" != - ]] && g=(--config "$gen")
  d=(); [[ "$det" != - ]] && d=(--config "$det")
  "$nurec" -q generate --events "$per" --seed "$seed" "${cuts[@]}" "${g[@]}" --out "$work/gen_$seed.h5"
  "$nurec" -q simulate "$work/gen_$seed.h5" --only-selected --seed "$seed" --threads 1 "${d[@]}" \
    --out "$work/sr_$seed.h5" | tail -1
  rm -f "$work/gen_$seed.h5"
  parts+=("$work/sr_$seed.h5")
done
/usr/bin/python3 scripts/merge_event_files.py --out "$work/train.h5" "${parts[@]}"
"$nurec" train --config configs/diffusion_ztautau.yaml --data "$work/train.h5" --out "$work/model" --threads 1
test_on() {  # name generator-card detector-card
  local name="$1" gen="$2" det="$3"
  local g=(); [[ "$gen" != - ]] && g=(--config "$gen")
  local d=(); [[ "$det" != - ]] && d=(--config "$det")
  "$nurec" -q generate --events 120000 --seed 202 "${cuts[@]}" "${g[@]}" --out "$work/test_gen_$name.h5"
  "$nurec" -q simulate "$work/test_gen_$name.h5" --only-selected --seed 202 --threads 1 "${d[@]}" \
    --out "$work/test_$name.h5" | tail -1
  "$nurec" -q reconstruct "$work/test_$name.h5" --method mmc --threads 1 --out "$work/mmc_$name.h5"
  "$nurec" -q reconstruct "$work/mmc_$name.h5" --method diffusion --model "$work/model" --threads 1 \
    --out "$work/nu_$name.h5"
  "$nurec" -q evaluate "$work/nu_$name.h5" --out "$work/report_$name" --no-plots --threads 1
}
test_on nominal - -
test_on unseen "$V/generator_unseen_hard_busy.yaml" configs/detector_atlas_pileup.yaml
echo "reports: $work/report_nominal/README.md $work/report_unseen/README.md"

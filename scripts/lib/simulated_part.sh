# shellcheck shell=bash
# Sourced by the scripts that build samples in parts (scripts/mixed_training_set.sh,
# scripts/unseen_oracle.sh): one part = `nurec generate` with a generator card, then
# `nurec simulate --only-selected` with a detector card, keeping only the simulated file.
#   simulated_part NUREC OUT SEED GENERATOR_CARD DETECTOR_CARD EVENTS [generate options...]
# A card "-" is the default one. Generation and simulation use SEED; the generator output is a
# temporary gen_<OUT name> beside OUT. An existing OUT is kept, so an interrupted run continues.
simulated_part() {
  local nurec=$1 out=$2 seed=$3 gen=$4 det=$5 events=$6; shift 6
  [[ -f "$out" ]] && return 0
  local truth g=() d=()
  truth="$(dirname "$out")/gen_$(basename "$out")"
  [[ "$gen" != - ]] && g=(--config "$gen")
  [[ "$det" != - ]] && d=(--config "$det")
  "$nurec" -q generate --events "$events" --seed "$seed" "$@" "${g[@]}" --out "$truth" > /dev/null
  "$nurec" -q simulate "$truth" --only-selected --seed "$seed" --threads 1 "${d[@]}" --out "$out" |
    tail -1
  rm -f "$truth"
}

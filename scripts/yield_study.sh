#!/usr/bin/env bash
# SR yields per fb^-1 of docs/yields.md: the default card and card variations on one sample.
#   scripts/yield_study.sh [nurec binary] [events] [work dir]
set -euo pipefail
nurec="${1:-build/app/nurec}"; events="${2:-300000}"; work="${3:-/tmp/nurec_yield_study}"
mkdir -p "$work"
"$nurec" -q generate --events "$events" --seed 21 --min-vis-pt 12 --threads 1 --out "$work/truth.h5"
run() {  # name [card]
  local name="$1"; shift
  echo "== $name"
  "$nurec" -q simulate "$work/truth.h5" --only-selected --seed 3 --threads 1 "$@" \
    --out "$work/sr_$name.h5" | tail -12
}
run default
run no_isolation --config configs/variations/detector_no_isolation.yaml
run tight_tau_id --config configs/variations/detector_tight_tau_id.yaml
run sharp_triggers --config configs/variations/detector_sharp_triggers.yaml
run previous_card --config configs/variations/detector_previous.yaml
run pileup --config configs/detector_atlas_pileup.yaml

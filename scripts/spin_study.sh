#!/usr/bin/env bash
# The spin study of docs/quantum.md on two samples: every method reconstructed on an independent
# calibration sample and on a measurement sample, a response fitted on the first, applied to the
# second; the diffusion model both as a point estimate and with the posterior-mean estimator.
#
#   scripts/spin_study.sh CALIB.h5 MEAS.h5 MODEL_DIR OUT_DIR
#
# CALIB and MEAS: `nurec simulate` outputs with the same generator cuts and detector card and
# different generator seeds. MODEL_DIR: a diffusion model (nurec train, or models/<name>).
# Environment: NUREC (default build/app/nurec), METHODS (default "truth collinear fastmtt mmc ip
# diffusion"), CANDIDATES (diffusion samples per event, default 20), SIGNAL_PER_FB (default 4996.6,
# the quoted yield of docs/yields.md), THREADS (default 1), DIFFUSION_OPTIONS (extra options of the
# diffusion `nurec reconstruct`, default none, e.g. "--sampler dpm++2m --steps 25" or "--steps 200
# --selection tau-mass"; docs/quantum.md "Candidates and samplers"). One thread each keeps the outputs
# independent of the machine; every step is skipped when its output exists, so a killed run resumes.
# Output: OUT_DIR/{calib,meas}.h5, resp-<m>.json, spin-<m>.json, and spin-summary.md
# (scripts/spin_summary.py).
set -euo pipefail
if [ $# -ne 4 ]; then
  sed -n 2,18p "$0" >&2
  exit 2
fi
CALIB=$1 MEAS=$2 MODEL=$3 OUT=$4
NUREC=${NUREC:-build/app/nurec}
METHODS=${METHODS:-truth collinear fastmtt mmc ip diffusion}
K=${CANDIDATES:-20}
SIGNAL=${SIGNAL_PER_FB:-4996.6}
T=${THREADS:-1}
read -r -a DOPTS <<< "${DIFFUSION_OPTIONS:-}"
for f in "$CALIB" "$MEAS"; do [ -f "$f" ] || { echo "spin_study: no such file: $f" >&2; exit 1; }; done
[ -f "$MODEL/model.pt" ] || { echo "spin_study: $MODEL holds no model.pt" >&2; exit 1; }
mkdir -p "$OUT"
log() { echo "[spin_study $(date +%T)] $*"; }

# Reconstruction, in place on copies of the inputs; one marker file per (sample, method).
for s in calib meas; do
  src=$CALIB; seed=7101
  if [ $s = meas ]; then src=$MEAS; seed=7201; fi
  [ -f "$OUT/$s.h5" ] || cp "$src" "$OUT/$s.h5"
  for m in $METHODS; do
    [ "$m" = truth ] && continue
    [ -f "$OUT/.$s.$m.done" ] && continue
    log "reconstruct $s $m"
    extra=()
    if [ "$m" = diffusion ]; then extra=(--model "$MODEL" --candidates "$K" "${DOPTS[@]}"); fi
    "$NUREC" reconstruct "$OUT/$s.h5" --method "$m" --seed $seed --threads "$T" -q \
      "${extra[@]}" --out "$OUT/$s.h5"
    touch "$OUT/.$s.$m.done"
  done
done

# Responses on the calibration sample, measurements on the other.
run_pair() {  # tag method [extra options]
  local tag=$1 m=$2
  shift 2
  local model=()
  if [ "$m" = diffusion ]; then model=(--model "$MODEL"); fi
  if [ ! -f "$OUT/resp-$tag.json" ]; then
    log "calibrate $tag"
    "$NUREC" calibrate "$OUT/calib.h5" --method "$m" "${model[@]}" "$@" --threads "$T" -q \
      --out "$OUT/resp-$tag.json"
  fi
  if [ ! -f "$OUT/spin-$tag.json" ]; then
    log "spin $tag"
    local replicas=()
    if [ "$*" = "--candidates posterior-mean" ]; then replicas=(--candidate-replicas 0); fi
    "$NUREC" spin "$OUT/meas.h5" --method "$m" "$@" "${replicas[@]}" --toys 0 \
      --signal-per-fb "$SIGNAL" --calibration "$OUT/resp-$tag.json" --threads "$T" -q \
      --out "$OUT/spin-$tag.json"
  fi
}
for m in $METHODS; do
  if [ "$m" = diffusion ]; then
    run_pair diffusion diffusion --candidates estimate
    run_pair diffusion-posterior-mean diffusion --candidates posterior-mean
  else
    run_pair "$m" "$m"
  fi
done
/usr/bin/python3 "$(dirname "$0")/spin_summary.py" "$OUT"/spin-*.json > "$OUT/spin-summary.md"
cat "$OUT/spin-summary.md"

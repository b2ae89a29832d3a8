#!/usr/bin/env bash
# The unfolding study of docs/ml-unfold.md "Study": trains the seven t tbar unfolding models on one
# training file, samples each on a test file next to the chi2 reconstruction, and evaluates them
# all on the same events (the Table-1 distances and the 55-component resolutions).
#
#   scripts/unfold_study.sh TRAIN.h5 TEST.h5 OUT_DIR
#
# TRAIN and TEST: `nurec simulate` outputs of t tbar files with different generator seeds.
# Environment: NUREC (default build/app/nurec), MODELS (default "vld cvld ucvld ldm vdm cvae
# cinn"), EPOCHS (default: the run cards'), MAX_EVENTS (selected training events, default: the run
# cards'), THREADS (default 1), JOBS (models trained at once, default 1). Every step is skipped
# when its output exists, so a killed run continues (training resumes from its checkpoint).
# Output: OUT_DIR/<model>/ (model directories), OUT_DIR/test.h5 (all samples), OUT_DIR/report/.
set -euo pipefail
if [ $# -ne 3 ]; then
  sed -n 2,14p "$0" >&2
  exit 2
fi
TRAIN=$1 TEST=$2 OUT=$3
NUREC=${NUREC:-build/app/nurec}
MODELS=${MODELS:-vld cvld ucvld ldm vdm cvae cinn}
T=${THREADS:-1}
JOBS=${JOBS:-1}
here="$(cd "$(dirname "$0")" && pwd)"
for f in "$TRAIN" "$TEST"; do [ -f "$f" ] || { echo "unfold_study: no such file: $f" >&2; exit 1; }; done
mkdir -p "$OUT"
log() { echo "[unfold_study $(date +%T)] $*"; }

train_one() {  # model
  local m=$1 card="$OUT/$1.yaml" extra=()
  [ -f "$OUT/$m/.done" ] && return 0
  cp "$here/../configs/ttbar_$m.yaml" "$card"
  if [ -n "${MAX_EVENTS:-}" ]; then
    /usr/bin/python3 - "$card" "$MAX_EVENTS" <<'PY'
import sys, re
path, n = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r'(\ntrain:\n)', r'\1  max_events: %s\n' % n, text, count=1)
open(path, 'w').write(text)
PY
  fi
  if [ -n "${EPOCHS:-}" ]; then
    extra+=(--epochs "$EPOCHS")
    # ldm: the VAE stage keeps its share of the run card's epochs (8 of 20), at least one epoch.
    if [ "$m" = ldm ]; then
      sed -i -E "s/^  vae_epochs: .*/  vae_epochs: $(( EPOCHS * 2 / 5 > 0 ? EPOCHS * 2 / 5 : 1 ))/" "$card"
    fi
  fi
  if [ -f "$OUT/$m/checkpoint.pt" ]; then extra+=(--resume); else extra+=(--force); fi
  log "train $m"
  "$NUREC" -q train --config "$card" --data "$TRAIN" --out "$OUT/$m" --threads "$T" "${extra[@]}" \
    > "$OUT/$m.train.log" 2>&1
  touch "$OUT/$m/.done"
  log "trained $m: $(tail -1 "$OUT/$m.train.log")"
}

running=0
for m in $MODELS; do
  train_one "$m" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait

[ -f "$OUT/test.h5" ] || { log "chi2 on the test file"; "$NUREC" -q reconstruct "$TEST" --method chi2 \
  --threads "$T" --out "$OUT/test.h5" > /dev/null; }
for m in $MODELS; do
  [ -f "$OUT/.sampled.$m" ] && continue
  log "sample $m"
  /usr/bin/time -f "%e s" -o "$OUT/$m.sample.time" "$NUREC" -q reconstruct "$OUT/test.h5" \
    --method "$m" --model "$OUT/$m" --seed 7 --threads "$T" --out "$OUT/test.h5"
  touch "$OUT/.sampled.$m"
done
log "evaluate"
"$NUREC" -q evaluate "$OUT/test.h5" --out "$OUT/report"
log "done: $OUT/report/README.md"

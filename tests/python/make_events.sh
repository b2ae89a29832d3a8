#!/bin/sh
# The sample of the Python tests: 2000 generated events with generator cuts, so that about 150
# land in the signal region (enough for a calibrated spin measurement), then the detector.
# Usage: make_events.sh NUREC WORKDIR
set -eu
nurec="$1"; work="$2"
rm -rf "$work" && mkdir -p "$work"
"$nurec" -q generate --events 2000 --seed 1 --min-vis-pt 25 --max-vis-eta 2.4 --threads 1 \
  --out "$work/truth.h5"
"$nurec" -q simulate "$work/truth.h5" --out "$work/events.h5" --threads 1

#!/usr/bin/env bash
# The workflow of docs/detector.md "Your own generator's events", end to end on HepMC3 input:
# simulate a gzipped HepMC3 training file -> train (tiny model, one epoch) -> simulate and
# reconstruct a second HepMC3 file with the trained model -> evaluate. The HepMC3 files are written
# by nurec's own generator here; any Pythia / Herwig / MadGraph file takes the same path.
set -euo pipefail
nurec="$1"; work="$2"; card="$3"
rm -rf "$work" && mkdir -p "$work"
"$nurec" -q generate --events 8000 --seed 11 --threads 1 --min-vis-pt 15 --format hepmc3 --out "$work/train.hepmc3.gz"
"$nurec" -q generate --events 1000 --seed 12 --threads 1 --min-vis-pt 15 --format hepmc3 --out "$work/test.hepmc3.gz"
"$nurec" -q simulate "$work/train.hepmc3.gz" --threads 1 --out "$work/train.h5"
"$nurec" -q simulate "$work/test.hepmc3.gz" --only-selected --threads 1 --seed 2 --out "$work/test.h5"
"$nurec" -q train --config "$card" --data "$work/train.h5" --out "$work/model" --epochs 1 --threads 1
"$nurec" -q reconstruct "$work/test.h5" --method diffusion --model "$work/model" --candidates 2 --steps 5 --threads 1 --out "$work/nu.h5"
"$nurec" -q evaluate "$work/nu.h5" --out "$work/report" --no-plots --bootstrap 0 --threads 1
test -s "$work/report/metrics.json"
echo "ok: hepmc3 -> simulate -> train -> reconstruct -> evaluate"

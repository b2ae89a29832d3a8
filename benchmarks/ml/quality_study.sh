#!/bin/bash
# Reproduces the shipped model and the resolution/speed tables of docs/ml.md (about 1.5 h on
# 2 cores; run from the repository root with a build in $BUILD, default build/).
#   benchmarks/ml/quality_study.sh [workdir]
set -euo pipefail
BUILD=${BUILD:-build}
NUREC=$BUILD/app/nurec
W=${1:-ml-study}
mkdir -p "$W"
export OMP_WAIT_POLICY=PASSIVE
# Training sample: generator-level cuts looser than the triggers, the decay modes of the seven
# channels, signal-region events only (187,782 of 1.2M generated).
$NUREC generate --events 1200000 --seed 101 --min-vis-pt 15 --max-vis-eta 2.7 --decay-modes pi,rho,e,mu --out "$W/truth_train.h5" --threads 1
$NUREC simulate "$W/truth_train.h5" --out "$W/train.h5" --only-selected --seed 101 --threads 1
# Held-out test sample (another seed): 31,619 signal-region events.
$NUREC generate --events 200000 --seed 202 --min-vis-pt 15 --max-vis-eta 2.7 --decay-modes pi,rho,e,mu --out "$W/truth_test.h5" --threads 1
$NUREC simulate "$W/truth_test.h5" --out "$W/test.h5" --only-selected --seed 202 --threads 1
# Training (1 thread each: two intra-op threads on a busy 2-core machine collapse).
$NUREC train --config configs/diffusion_ztautau.yaml --data "$W/train.h5" --out "$W/ztautau_small" --threads 1
$NUREC train --config configs/diffusion_ztautau_augment.yaml --data "$W/train.h5" --out "$W/ztautau_augment" --threads 1
$NUREC train --config configs/diffusion_ztautau_tiny.yaml --data "$W/train.h5" --out "$W/ztautau_tiny" --threads 1
# MMC on the test sample, then the diffusion variants, then the tables.
$NUREC reconstruct "$W/test.h5" --method mmc --out "$W/test_mmc.h5" --threads 1
$BUILD/benchmarks/ml/ml_quality --data "$W/test_mmc.h5" --model "$W/ztautau_small" --out "$W/study.h5" --threads 1
$NUREC evaluate "$W/study.h5" --out "$W/report" --threads 1
for m in ztautau_augment ztautau_tiny; do
  $BUILD/benchmarks/ml/ml_quality --data "$W/test_mmc.h5" --model "$W/$m" --out "$W/study_$m.h5" --threads 1 --no-solvers
  $NUREC evaluate "$W/study_$m.h5" --out "$W/report_$m" --threads 1 --no-plots
done
# Speed (state the thread count; C++ and the Python eager peer in the same run).
$BUILD/benchmarks/ml/ml_benchmark --model "$W/ztautau_small" --data "$W/test.h5" --threads 1
$BUILD/benchmarks/ml/ml_benchmark --model "$W/ztautau_small" --data "$W/test.h5" --threads 2

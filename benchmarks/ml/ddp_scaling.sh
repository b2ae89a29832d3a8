#!/bin/bash
# Data-parallel scaling on one machine (docs/distributed.md): training samples/s of one
# single-thread process against `mpirun -np 2` (one thread per rank), (a) with the same global
# batch and (b) with the global batch doubled (weak scaling), and the time of one gradient
# all-reduce of the networks of the shipped and the large config. Run from the repository root
# with a build in $BUILD (default build/); a few minutes on 2 cores.
#   benchmarks/ml/ddp_scaling.sh [workdir]
set -euo pipefail
BUILD=${BUILD:-build}
NUREC=$(realpath "$BUILD/app/nurec")
W=${1:-ddp-scaling}
EPOCHS=${EPOCHS:-3}
mkdir -p "$W"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI=(mpirun --oversubscribe --bind-to none -np 2 -x OMP_NUM_THREADS -x OMP_WAIT_POLICY -x MASTER_PORT)
export MASTER_PORT=${MASTER_PORT:-29631}
if [ ! -s "$W/events.h5" ]; then
  $NUREC -q generate --events 150000 --seed 31 --min-vis-pt 15 --max-vis-eta 2.7 --decay-modes pi,rho,e,mu --out "$W/truth.h5" --threads 1
  $NUREC -q simulate "$W/truth.h5" --out "$W/events.h5" --only-selected --seed 31 --threads 1
fi
# The shipped config with its batch (256) and with the doubled batch (512).
sed 's/^  batch_size: .*/  batch_size: 512/' configs/diffusion_ztautau.yaml > "$W/batch512.yaml"
rate() {  # samples/s of the training steps: the last progress line (the summary line's rate also
  # counts reading the data and validation)
  grep '^epoch .*ETA' "$1" | tail -1 | grep -o '[0-9]* samples/s' | cut -d' ' -f1
}
run() {  # name, card, launcher...
  local name=$1 card=$2; shift 2
  rm -rf "$W/$name"
  "$@" "$NUREC" train --config "$card" --data "$W/events.h5" --out "$W/$name" --epochs "$EPOCHS" --threads 1 --no-export > "$W/$name.log" 2>&1
  echo "$name: $(rate "$W/$name.log") samples/s"
}
run single_b256 configs/diffusion_ztautau.yaml
run mpi2_b256 configs/diffusion_ztautau.yaml "${MPI[@]}"
run single_b512 "$W/batch512.yaml"
run mpi2_b512 "$W/batch512.yaml" "${MPI[@]}"
r() { rate "$W/$1.log"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "(a) same global batch 256: 2 ranks / 1 process = $(ratio "$(r mpi2_b256)" "$(r single_b256)")"
echo "(b) weak scaling, 2 ranks at 512 / 1 process at 256 = $(ratio "$(r mpi2_b512)" "$(r single_b256)")"
echo "    2 ranks at 512 / 1 process at 512 = $(ratio "$(r mpi2_b512)" "$(r single_b512)")"
for card in configs/diffusion_ztautau.yaml configs/diffusion_ztautau_large.yaml; do
  "${MPI[@]}" "$BUILD/benchmarks/ml/ddp_allreduce" --config "$card"
done

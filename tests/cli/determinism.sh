#!/usr/bin/env bash
# docs/design.md "Determinism": the same seed gives the same output, independent of the thread count.
# Runs the whole demo chain (generate, simulate, collinear, MMC, diffusion when built) with 1 and
# with 2 threads and requires bit-identical event files.
set -euo pipefail
nurec="$1"; work="$2"
rm -rf "$work" && mkdir -p "$work"
for t in 1 2; do
  "$nurec" -q demo --out "$work/t$t" --events 3000 --seed 77 --threads "$t" --no-plots > "$work/t$t.log"
done
for f in truth events nu; do
  if ! h5diff -q "$work/t1/$f.h5" "$work/t2/$f.h5"; then
    echo "FAIL: $f.h5 differs between 1 and 2 threads"; h5diff -r "$work/t1/$f.h5" "$work/t2/$f.h5" | head -20; exit 1
  fi
done
echo "ok: truth.h5, events.h5, nu.h5 identical for 1 and 2 threads ($(ls "$work/t1" | tr '\n' ' '))"

#!/usr/bin/env bash
# docs/design.md "Processes and methods", docs/data-format.md "Processes": the process comes from
# --process or the file attribute; options and methods of another process are refused naming it;
# t tbar generation is independent of --chunk-events and --threads.
set -euo pipefail
nurec="$1"; work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
expect="$here/expect_error.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work"

"$nurec" -q generate --process ttbar-semilep -n 600 --seed 5 --out tt.h5 > tt.log
grep -q "600 t tbar events" tt.log || { echo "FAIL: summary line"; cat tt.log; exit 1; }
h5dump -A -a process tt.h5 | grep -q '"ttbar-semilep"' || { echo "FAIL: process attribute"; exit 1; }
h5ls tt.h5/truth/partons | grep -q "{600/Inf, 11/Inf, 5/Inf}" || { echo "FAIL: /truth/partons shape"; h5ls -r tt.h5; exit 1; }
"$nurec" -q generate --process ttbar-semilep -n 600 --seed 5 --chunk-events 128 --threads 2 --out tt_chunks.h5 > /dev/null
h5diff -q tt.h5 tt_chunks.h5 || { echo "FAIL: t tbar events depend on chunks or threads"; exit 1; }

"$expect" "unknown process 'wprime' \(this nurec knows: ztautau, ttbar-semilep\)" --no-file x.h5 -- \
  "$nurec" generate --process wprime -n 10 --out x.h5
"$expect" "--mass-window is an option of --process ztautau, not of --process ttbar-semilep" \
  --no-file x.h5 -- "$nurec" generate --process ttbar-semilep --mass-window 50,100 -n 10 --out x.h5
"$expect" "--on-shell is an option of --process ttbar-semilep, not of --process ztautau" \
  --no-file x.h5 -- "$nurec" generate --on-shell -n 10 --out x.h5
"$expect" "--method collinear reconstructs ztautau events, but tt.h5 holds ttbar-semilep events" \
  --no-file nu.h5 -- "$nurec" reconstruct tt.h5 --method collinear --out nu.h5
echo "processes-ok"

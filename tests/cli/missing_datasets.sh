#!/usr/bin/env bash
# Usage: missing_datasets.sh NUREC WORKDIR
# No command exits 0 on a file that lacks a dataset it needs: each (command, dataset) pair below
# deletes one dataset from a valid file (h5py) and expects exit 1 with a message naming it, and no
# output. Empty results (nothing selected or reconstructed) warn, and fail with --strict
# (docs/reliability.md).
set -u
nurec="$1"; work="$2"; expect="$(cd "$(dirname "$0")" && pwd)/expect_error.sh"
py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fail=0
"$nurec" -q generate --events 3000 --seed 11 --threads 1 --min-vis-pt 12 --min-lead-vis-pt 20 --out truth.h5 >/dev/null &&
  "$nurec" -q simulate truth.h5 --out sim.h5 >/dev/null &&
  "$nurec" -q reconstruct sim.h5 --method collinear --threads 1 --out nu.h5 >/dev/null ||
  { echo "FAIL: fixture"; exit 1; }
without() {  # without FILE DATASET -> writes cut.h5, a copy of FILE lacking DATASET
  cp "$1" cut.h5 && "$py" -c "import h5py, sys; f = h5py.File('cut.h5', 'a'); del f[sys.argv[1]]" "$2"
}
case_() {  # case_ FILE DATASET command args... (the command reads cut.h5 and writes out.*)
  local file=$1 dataset=$2; shift 2
  without "$file" "$dataset" || { echo "FAIL: cannot delete $dataset"; fail=1; return; }
  "$expect" "$dataset" --no-file out -- "$@" || fail=1
}
for d in /truth/products_p4 /truth/products_pdg /truth/recoil_p4 /truth/recoil_pdg /truth/tau_p4 /weight; do
  case_ truth.h5 "$d" "$nurec" -q simulate cut.h5 --out out.h5
done
for d in /reco/tau_p4 /reco/met /reco/channel /reco/tau_type /reco/charged_p4 /reco/neutral_p4 /reco/n_jets /reco/jets_p4 /reco/pass_sr /reco/pass_trigger; do
  case_ sim.h5 "$d" "$nurec" -q reconstruct cut.h5 --method fastmtt --threads 1 --out out.h5
done
# (without /nu/collinear/p4 the method is not in the file: "method 'collinear' not found")
for d in /truth/tau_p4 /reco/tau_p4 /reco/channel /reco/pass_sr /nu/collinear/status; do
  case_ nu.h5 "$d" "$nurec" -q evaluate cut.h5 --methods collinear --no-plots --out out
done
for d in /weight /reco/tau_p4 /reco/channel /reco/pass_sr /nu/collinear/p4 /nu/collinear/status; do
  case_ nu.h5 "$d" "$nurec" -q spin cut.h5 --method collinear --calibration none --bootstrap 0 --out out.json
done
for d in /truth/tau_p4 /truth/decay_mode /truth/charged_pi_p4 /truth/vis_p4; do
  case_ nu.h5 "$d" "$nurec" -q spin cut.h5 --method truth --calibration none --bootstrap 0 --out out.json
done
for d in /truth/tau_p4 /truth/decay_mode; do
  case_ truth.h5 "$d" "$nurec" -q mmc-pdfs --data cut.h5 --out out.yaml
done

without nu.h5 /nu/collinear/p4
"$expect" "'collinear' not found" --no-file out.h5 -- "$nurec" -q evaluate cut.h5 --methods collinear --out out || fail=1

# Empty results: a warning (exit 0) by default, exit 1 and no output with --strict.
"$nurec" -q generate --events 20 --seed 9 --threads 1 --out tiny.h5 >/dev/null || fail=1
err=$("$nurec" -q simulate tiny.h5 --out tiny_sim.h5 2>&1 >/dev/null) ||
  { echo "FAIL: simulate without --strict failed: $err"; fail=1; }
grep -q "warning: simulate: no event of tiny.h5 passes the signal region" <<<"$err" ||
  { echo "FAIL: no warning for an empty signal region: $err"; fail=1; }
"$expect" "no event of tiny.h5 passes the signal region.*--strict" --no-file strict.h5 -- \
  "$nurec" -q --strict simulate tiny.h5 --out strict.h5 || fail=1
"$expect" "no event of tiny_sim.h5 was reconstructed" --no-file strict.h5 -- \
  "$nurec" -q reconstruct tiny_sim.h5 --method collinear --strict --out strict.h5 || fail=1
"$nurec" -q reconstruct tiny_sim.h5 --method collinear --out tiny_nu.h5 >/dev/null 2>&1 || fail=1
"$expect" "no event of tiny_nu.h5 passes the selection" --no-file strict -- \
  "$nurec" -q evaluate tiny_nu.h5 --strict --no-plots --out strict || fail=1
"$expect" "no event with spin analysers" --no-file strict.json -- \
  "$nurec" -q spin tiny_nu.h5 --method truth --calibration none --bootstrap 0 --out strict.json || fail=1
# Five events with analysers: too few for the 15 spin parameters (was: numbers with zero errors).
"$nurec" -q generate --events 700 --seed 11 --threads 1 --min-vis-pt 12 --min-lead-vis-pt 20 --out few.h5 >/dev/null &&
  "$nurec" -q simulate few.h5 --out few_sim.h5 >/dev/null || fail=1
"$expect" "only 5 event.*needs at least 16" --no-file strict.json -- \
  "$nurec" -q spin few_sim.h5 --method truth --calibration none --bootstrap 0 --out strict.json || fail=1
[ $fail -eq 0 ] || { echo "missing-dataset checks failed"; exit 1; }
echo "all missing-dataset checks passed"

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

# The t tbar chain: detector, chi2 reconstruction and evaluation, each independent of chunking.
"$nurec" -q simulate tt.h5 --seed 2 --out ev.h5 > sim.log
grep -q "selected (.* per fb^-1 with K = 1.891)" sim.log || { echo "FAIL: simulate summary"; cat sim.log; exit 1; }
"$nurec" -q simulate tt.h5 --seed 2 --chunk-events 100 --threads 2 --out ev_chunks.h5 > /dev/null
h5diff -q ev.h5 ev_chunks.h5 || { echo "FAIL: t tbar detector depends on chunks or threads"; exit 1; }
"$nurec" -q reconstruct ev.h5 --method chi2 --out nu.h5 > reco.log
grep -Eq "reconstruct chi2: 600 events, [1-9][0-9]* ok" reco.log || { echo "FAIL: reco summary"; cat reco.log; exit 1; }
"$nurec" -q reconstruct ev.h5 --method chi2 --chunk-events 100 --threads 2 --out nu_chunks.h5 > /dev/null
h5diff -q nu.h5 nu_chunks.h5 || { echo "FAIL: chi2 depends on chunks or threads"; exit 1; }
"$nurec" -q evaluate nu.h5 --out report --bootstrap 0 > eval.log
grep -q '"ttbar_pz"' report/metrics.json || { echo "FAIL: 55-component metrics"; exit 1; }
# 11 pz components for the method and 11 for the sampling-noise floor.
python3 -c 'import json,sys; m=json.load(open("report/metrics.json"))
for comps in (m["methods"]["chi2"]["components"], m["sampling_noise_floor"]["components"]):
    assert sum(k.endswith("_pz") for k in comps) == 11 and len(comps) == 55, sorted(comps)' ||
  { echo "FAIL: expected 55 components (11 pz) for chi2 and the floor"; exit 1; }
grep -q "| chi2 |" report/README.md || { echo "FAIL: summed distances table"; exit 1; }

"$nurec" -q generate --process ttbar-semilep -n 20 --seed 5 --out tt.hepmc3 > /dev/null
[ "$(grep -c '^E ' tt.hepmc3)" -eq 20 ] || { echo "FAIL: 20 HepMC3 records expected"; exit 1; }
grep -Eq '^P [0-9]+ -3 6 .* 22$' tt.hepmc3 || { echo "FAIL: no top at the hard vertex"; exit 1; }
"$nurec" -q generate -n 50 --out z.h5 > /dev/null
"$expect" "--method chi2 reconstructs ttbar-semilep events, but z.h5 holds ztautau events" \
  --no-file x.h5 -- "$nurec" reconstruct z.h5 --method chi2 --out x.h5
"$expect" "selection any_channel: t tbar files know signal_region .* and all" --no-file rep2 -- \
  "$nurec" evaluate nu.h5 --selection any_channel --out rep2
"$expect" "unknown process 'wprime' \(this nurec knows: ztautau, ttbar-semilep\)" --no-file x.h5 -- \
  "$nurec" generate --process wprime -n 10 --out x.h5
"$expect" "--mass-window is an option of --process ztautau, not of --process ttbar-semilep" \
  --no-file x.h5 -- "$nurec" generate --process ttbar-semilep --mass-window 50,100 -n 10 --out x.h5
"$expect" "--on-shell is an option of --process ttbar-semilep, not of --process ztautau" \
  --no-file x.h5 -- "$nurec" generate --on-shell -n 10 --out x.h5
"$expect" "--method collinear reconstructs ztautau events, but tt.h5 holds ttbar-semilep events" \
  --no-file nu.h5 -- "$nurec" reconstruct tt.h5 --method collinear --out nu.h5
echo "processes-ok"

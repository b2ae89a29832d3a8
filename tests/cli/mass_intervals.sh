#!/usr/bin/env bash
# docs/ml.md "Calibrated mass intervals": calibrate-intervals fits on one sample, the model
# directory carries the fit, reconstruct writes the calibrated intervals of another sample and
# evaluate reports their coverage; mistakes are refused naming what is wrong.
set -euo pipefail
nurec="$1"; work="$2"; models="$3"
here="$(cd "$(dirname "$0")" && pwd)"
expect="$here/expect_error.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work"

cuts="--min-vis-pt 12 --min-lead-vis-pt 20 --max-vis-eta 2.7 --decay-modes pi,rho,e,mu"
for s in 31 32; do
  "$nurec" -q generate -n 12000 --seed $s --mass-prior log-flat --mass-window 60,300 $cuts --out g$s.h5 > /dev/null
  "$nurec" -q simulate g$s.h5 --only-selected --seed $s --out s$s.h5 > /dev/null
done
cp -r "$models/ztautau_ip" model
rm -f model/mass_intervals.json
"$nurec" -q reconstruct s31.h5 --method diffusion --model model --candidates 20 --steps 10 --seed 1 --out r31.h5 > /dev/null
"$nurec" -q calibrate-intervals r31.h5 --edges 60,100,150,300 --out model/mass_intervals.json > fit.log
grep -q '"format": "nurec-mass-intervals"' model/mass_intervals.json || { echo "FAIL: no calibration written"; cat fit.log; exit 1; }
"$nurec" -q reconstruct s32.h5 --method diffusion --model model --candidates 20 --steps 10 --seed 2 --out r32.h5 > /dev/null
h5ls r32.h5/nu/diffusion/mtautau_interval68 | grep -q "/Inf, 2/Inf}" || { echo "FAIL: no calibrated intervals"; exit 1; }
grep -q '"sampling": "sampler=ddim steps=10 eta=1 candidates=20"' model/mass_intervals.json ||
  { echo "FAIL: the calibration does not record its sampling settings"; exit 1; }
# Other sampling settings (here K = 10): the factors do not hold, so no intervals and a warning
# (before, the K = 20 factors were applied to any K: K = 100 over-covered).
"$nurec" -q reconstruct s32.h5 --method diffusion --model model --candidates 10 --steps 10 --seed 2 \
  --out r32k10.h5 > /dev/null 2> k10.err
grep -q "intervals not calibrated: mass_intervals.json of the model was fitted with sampler=ddim steps=10 eta=1 candidates=20, this run uses sampler=ddim steps=10 eta=1 candidates=10" k10.err ||
  { echo "FAIL: no warning for other sampling settings"; cat k10.err; exit 1; }
if h5ls r32k10.h5/nu/diffusion/mtautau_interval68 > /dev/null 2>&1; then
  echo "FAIL: intervals written with factors fitted for other settings"; exit 1
fi
h5dump -a reco_diffusion_intervals r32k10.h5 | grep -q "not calibrated" ||
  { echo "FAIL: the file does not say why it has no intervals"; exit 1; }
"$nurec" -q evaluate r32.h5 --out report --bootstrap 0 --no-plots > /dev/null
grep -q "Coverage of the calibrated per-event 68 % m_ττ intervals" report/README.md ||
  { echo "FAIL: evaluate lacks the calibrated coverage"; exit 1; }
# On the independent sample the calibrated intervals cover ~68 % (binomial error ~0.015 here);
# the raw intervals of a sample are also printed by calibrate-intervals for comparison.
/usr/bin/python3 - <<'PY'
import json, sys
j = json.load(open("report/metrics.json"))
inside = events = 0
for b in j["by_true_mass"]:
    m = b["methods"]["diffusion"]
    c = m["calibrated_coverage68"]
    if c is not None:
        inside += c * m["coverage_events"]; events += m["coverage_events"]
cov = inside / events
print(f"calibrated coverage {cov:.3f} on {events} events")
sys.exit(0 if 0.62 < cov < 0.74 else 1)
PY

"$expect" "no dataset /nu/diffusion/mtautau_quantiles" --no-file x.json -- \
  "$nurec" calibrate-intervals s32.h5 --out x.json
"$expect" "calibration events with a median m_tautau in \[500, 900\) GeV" --no-file x.json -- \
  "$nurec" calibrate-intervals r31.h5 --edges 60,500,900 --out x.json
"$expect" "bin edges must increase" --no-file x.json -- \
  "$nurec" calibrate-intervals r31.h5 --edges 100,60 --out x.json
echo '{"format": "nurec-mass-intervals", "format_version": 7}' > model/mass_intervals.json
"$expect" "mass_intervals.json: format_version 7 is not supported" --no-file x.h5 -- \
  "$nurec" reconstruct s32.h5 --method diffusion --model model --candidates 2 --steps 2 --out x.h5
echo mass-intervals-ok

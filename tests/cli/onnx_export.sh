#!/usr/bin/env bash
# `nurec export-model --format onnx` verified in ONNX Runtime (docs/onnx.md): the shipped
# impact-parameter model (DDIM-100, eta 1), the small model switched to DPM-Solver++(2M) and the
# visible-frame model models/ztautau_ip_vf_neutral (train.target_frame: visible, whose decoder takes
# the visible taus' momenta) are exported with a reference, and tools/onnx_check.mjs compares
# encoder and denoiser with LibTorch (<= 1e-5) and its own sampler loop with the candidates of
# `reconstruct --method diffusion` (<= 1e-4 relative). Bad usage fails with a clear message and
# leaves no output. Fails (does not skip) without node or onnxruntime-node: scripts/setup installs
# both.
# Usage: onnx_export.sh NUREC WORK SOURCE_DIR
set -u
nurec="$1"; work="$2"; src="$3"; expect="$src/tests/cli/expect_error.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export OMP_NUM_THREADS=1
fail=0
check() { "$expect" "$@" || fail=1; }
command -v node > /dev/null || { echo "FAIL: node is not installed (scripts/setup)"; exit 1; }
checker="$src/tools/onnx_check.mjs"
onnx_check() { node "$checker" "$@"; }

# 80 events give a handful with a reconstructed channel; the reference takes up to 8.
"$nurec" -q generate --events 80 --seed 7 --min-vis-pt 12 --min-lead-vis-pt 20 --out truth.h5 > /dev/null &&
  "$nurec" -q simulate truth.h5 --out events.h5 > /dev/null 2>&1 || { echo "FAIL: fixture"; exit 1; }

# 1. The default model: export, then ONNX Runtime against LibTorch and against reconstruct.
if ! "$nurec" export-model "$src/models/ztautau_ip" --format onnx --out ip --reference events.h5 \
     --reference-events 8 > export.log 2>&1; then
  echo "FAIL: export of models/ztautau_ip"; cat export.log; exit 1
fi
for f in encoder.onnx denoiser.onnx decoder.onnx model.json reference.json; do
  [ -s "ip/$f" ] || { echo "FAIL: ip/$f missing"; fail=1; }
done
if ls -a ip | grep -q "staging\|\.work"; then echo "FAIL: staging left in ip/: $(ls -a ip)"; fail=1; fi
if onnx_check ip > check_ip.log 2>&1 && grep -q "onnx_check: ok" check_ip.log; then
  cat check_ip.log
else
  echo "FAIL: onnx_check on models/ztautau_ip"; cat check_ip.log; fail=1
fi
# reference.json's candidates are those `reconstruct` writes for the whole file (same rows, seed).
"$nurec" -q reconstruct events.h5 --method diffusion --model "$src/models/ztautau_ip" --threads 1 \
  --out nu.h5 > /dev/null 2>&1 || { echo "FAIL: reconstruct"; fail=1; }
/usr/bin/python3 - <<'EOF' || fail=1
import json, sys
import h5py, numpy as np
ref = json.load(open("ip/reference.json"))
cand = h5py.File("nu.h5", "r")["nu/diffusion/candidates"][:][ref["rows"]]
d = np.abs(cand.ravel() - np.asarray(ref["nu_candidates"], dtype=np.float32)).max()
print(f"reference vs reconstruct: {len(ref['rows'])} events, max |diff| = {d:.3g} GeV")
sys.exit(0 if d == 0 else 1)
EOF

# 2. DPM-Solver++(2M) with 20 steps (the small model, sampler switched in its config.yaml).
cp -r "$src/models/ztautau_small" dpm
sed -i -e 's/^  name: ddim/  name: dpm++2m/' -e 's/^  steps: 100/  steps: 20/' dpm/config.yaml
if "$nurec" -q export-model dpm --format onnx --out dpm_onnx --reference events.h5 \
     --reference-events 4 --candidates 5 > export_dpm.log 2>&1 &&
   onnx_check dpm_onnx > check_dpm.log 2>&1 && grep -q "sampler dpm++2m, 20 steps" check_dpm.log; then
  cat check_dpm.log
else
  echo "FAIL: dpm++2m export or check"; cat export_dpm.log check_dpm.log; fail=1
fi

# 3. Visible target frame and visible-frame inputs (docs/onnx.md "Files"): decoder.onnx takes z and
# the lab-frame visible taus `vis`; its candidates must match reconstruct's (a lab-frame decoder
# formula misses them by GeV).
if "$nurec" -q export-model "$src/models/ztautau_ip_vf_neutral" --format onnx --out vf \
     --reference events.h5 --reference-events 4 --candidates 4 > export_vf.log 2>&1 &&
   onnx_check vf > check_vf.log 2>&1 && grep -q "onnx_check: ok" check_vf.log &&
   grep -q "visible target frame" check_vf.log; then
  cat check_vf.log
else
  echo "FAIL: visible-frame export or check"; cat export_vf.log check_vf.log; fail=1
fi
/usr/bin/python3 - <<'EOF' || { echo "FAIL: vf/model.json"; fail=1; }
import json, sys
m = json.load(open("vf/model.json"))
names = [f["name"] for f in m["inputs"]["features"]]
ok = (m["target_frame"] == "visible"
      and [i["name"] for i in m["files"]["decoder"]["inputs"]] == ["z", "vis"]
      and "vis" in m["inputs"] and "vis_p" not in m["inputs"]
      and names[-4:] == ["vis_track_p_e1", "vis_track_p_e2", "vis_ip_e1", "vis_ip_e2"])
sys.exit(0 if ok else 1)
EOF

# 4. The check is not vacuous: an impossible tolerance fails, a missing runtime is an error, and
# decoder inputs that do not fit the target frame are refused.
check "candidate relative difference" -- node "$checker" ip --candidate-tolerance 1e-15
check "cannot load onnxruntime-node" -- node "$checker" ip --ort-dir "$work/no-ort"
cp -r vf vf_lab && sed -i 's/"target_frame": "visible"/"target_frame": "lab"/' vf_lab/model.json
check "decoder inputs z, vis do not match target_frame lab" -- node "$checker" vf_lab

# 5. Bad usage: exit 1, one clear line, no output folder.
check "unknown --format 'tflite'.*torchscript.*onnx" --no-file out_fmt -- \
  "$nurec" export-model "$src/models/ztautau_small" --format tflite --out out_fmt
check "does not hold a trained model" --no-file out_missing -- \
  "$nurec" export-model missing_model --format onnx --out out_missing
cp -r "$src/models/ztautau_small" damaged
size=$(stat -c %s damaged/model.pt)
head -c 256 /dev/zero | tr '\0' '\377' | dd of=damaged/model.pt bs=1 seek=$((size / 2)) conv=notrunc status=none
check "damaged/model.pt: damaged" --no-file out_damaged -- \
  "$nurec" export-model damaged --format onnx --out out_damaged
check "is a file; with --format onnx it names a folder" -- \
  "$nurec" export-model "$src/models/ztautau_small" --format onnx --out events.h5
check "cannot run the Python interpreter '/nonexistent/python3'" --no-file out_nopy -- \
  "$nurec" export-model "$src/models/ztautau_small" --format onnx --out out_nopy --python /nonexistent/python3
# A Python without its site packages stands in for one without torch and onnx.
printf '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n' > bare_python && chmod +x bare_python
check "cannot import torch.*python3-torch python3-onnx" --no-file out_bare -- \
  "$nurec" export-model "$src/models/ztautau_small" --format onnx --out out_bare --python ./bare_python
check "--reference needs --format onnx" --no-file out_ts.pt -- \
  "$nurec" export-model "$src/models/ztautau_small" --out out_ts.pt --reference events.h5
check "--reference-events must be in \[1, 1000\] \(got 0\)" --no-file out_zero -- \
  "$nurec" export-model "$src/models/ztautau_small" --format onnx --out out_zero --reference-events 0
check "no such file" --no-file out_noref -- \
  "$nurec" export-model "$src/models/ztautau_small" --format onnx --out out_noref --reference missing.h5

[ $fail -eq 0 ] && echo "onnx-export-ok"
exit $fail

#!/usr/bin/env bash
# `nurec train`, `reconstruct --method diffusion` and `export-model` on hostile input (issues 20
# and 22, docs/reliability.md): every case must fail with a clear one-line message and exit 1, or
# succeed as documented. A tiny model trained here (a few seconds) is the fixture.
set -u
nurec="$1"; work="$2"; expect="$(cd "$(dirname "$0")" && pwd)/expect_error.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export OMP_NUM_THREADS=1
fail=0
check() { "$expect" "$@" || fail=1; }
ok() { if ! "$@" > /dev/null 2> ok.err; then echo "FAIL: expected success: $*"; cat ok.err; fail=1; fi; }

"$nurec" -q generate --events 1500 --seed 5 --min-vis-pt 12 --min-lead-vis-pt 20 --out truth.h5 > /dev/null &&
  "$nurec" -q simulate truth.h5 --out events.h5 > /dev/null &&
  "$nurec" -q generate --events 1500 --seed 6 --min-vis-pt 12 --min-lead-vis-pt 20 --out truth2.h5 > /dev/null &&
  "$nurec" -q simulate truth2.h5 --out events2.h5 > /dev/null || { echo "FAIL: fixture"; exit 1; }
card() {  # tiny model, one epoch; extra "key: value" lines go into the train section
  printf 'encoder: {width: 16, heads: 2, layers: 1, cond_dim: 16}\nhead: {width: 16, blocks: 1}\n'
  printf 'sampler: {steps: 4}\ntrain:\n  epochs: 1\n  batch_size: 32\n  warmup_steps: 10\n'
  for kv in "$@"; do printf '  %s\n' "$kv"; done
}
card > tiny.yaml
# One intra-op thread (shared machines); exported so that expect_error.sh can run them.
export nurec
train() { "$nurec" -q train --threads 1 "$@"; }
recon() { "$nurec" -q reconstruct --threads 1 "$@"; }
export -f train recon
ok train --config tiny.yaml --data events.h5 --out model --no-export

# 22.4: a damaged model.pt (256 bytes flipped in the middle) is refused, not used.
cp -r model damaged
size=$(stat -c %s damaged/model.pt)
head -c 256 /dev/zero | tr '\0' '\377' | dd of=damaged/model.pt bs=1 seek=$((size / 2)) conv=notrunc status=none
check "damaged/model.pt: damaged" --no-file out_damaged.h5 -- \
  recon events.h5 --method diffusion --model damaged --out out_damaged.h5

# 22.6: a diverging run (learning rate 1e6) is an error and writes no model.
card "lr_peak: 1.0e+6" > diverge.yaml
check "training diverged.*no model was written" -- \
  train --config diverge.yaml --data events.h5 --out diverged
[ -e diverged/model.pt ] && { echo "FAIL: diverged run left a model"; fail=1; }

# 22.7: an existing model directory is refused; --force replaces it and removes stale files.
check "already holds a model.*--force" -- \
  train --config tiny.yaml --data events.h5 --out model
cp -r model forced && echo "old card" > forced/MODEL_CARD.md && echo x > forced/golden.pt
ok train --config tiny.yaml --data events.h5 --out forced --force --no-export
[ -e forced/MODEL_CARD.md ] || [ -e forced/golden.pt ] && { echo "FAIL: --force kept stale files"; fail=1; }
echo mine > forced/notes.txt
check "did not write \(notes.txt\)" -- \
  train --config tiny.yaml --data events.h5 --out forced --force

# 22.9: absurd sizes are refused with the valid range before anything is allocated.
printf 'encoder: {width: 100000, heads: 4}\n' > wide.yaml
check "encoder.width must be in \[1, 4096\] \(got 100000\)" -- \
  train --config wide.yaml --data events.h5 --out wide
check "steps.*10000" --no-file out_steps.h5 -- \
  recon events.h5 --method diffusion --model model --steps 100000000 --out out_steps.h5

# 22.12: --eta nan, an empty card, --resume without a checkpoint or with other data.
check "eta.*\[0, 1\]" --no-file out_eta.h5 -- \
  recon events.h5 --method diffusion --model model --eta nan --out out_eta.h5
# --mass-hypothesis: malformed, impossible, or together with --selection.
check "mass hypothesis '91': expected M,GAMMA" --no-file out_h1.h5 -- \
  recon events.h5 --method diffusion --model model --mass-hypothesis 91 --out out_h1.h5
check "'x' is not a number" --no-file out_h2.h5 -- \
  recon events.h5 --method diffusion --model model --mass-hypothesis 91,x --out out_h2.h5
check "width <= mass \(got M = 91 GeV, Gamma = -2 GeV\)" --no-file out_h3.h5 -- \
  recon events.h5 --method diffusion --model model --mass-hypothesis 91,-2 --out out_h3.h5
check "drop --selection 'median'" --no-file out_h4.h5 -- \
  recon events.h5 --method diffusion --model model --mass-hypothesis 91,2.5 --selection median \
  --out out_h4.h5
: > empty.yaml
check "the run card is empty" -- train --config empty.yaml --data events.h5 --out empty
check "holds no checkpoint.pt" -- \
  train --config tiny.yaml --data events.h5 --out fresh --resume
card "epochs: 2" > two.yaml
cp -r model resumed
check "other training data" -- \
  train --config two.yaml --data events2.h5 --out resumed --resume --no-export
ok train --config two.yaml --data events.h5 --out resumed --resume --no-export
ok "$nurec" -q export-model model --out new/sub/dir/model_ts.pt
# 22.10: train pointed at an existing file is an error that says so (was "unexpected error").
check "is an existing file" -- train --config tiny.yaml --data events.h5 --out events.h5
[ -s new/sub/dir/model_ts.pt ] || { echo "FAIL: export-model did not create its folders"; fail=1; }

# Issue 20: a file-size limit (as a full disk) while writing the model is exit 1 with a message
# naming the file, no crash and no temporary left. SIGXFSZ is ignored so that write() fails with
# EFBIG as it does on a full disk (otherwise the kernel kills the process).
limited=$(trap '' XFSZ; ulimit -f 8; train --config tiny.yaml --data events.h5 \
  --out limited 2>&1 >/dev/null; echo "exit $?")
case "$limited" in
  *"cannot write "*"limited/model.pt: write failed (File too large)"*"exit 1") echo "ok: $limited" ;;
  *) echo "FAIL: under ulimit -f: $limited"; fail=1 ;;
esac
if ls limited | grep -q tmp; then echo "FAIL: temporaries left: $(ls limited)"; fail=1; fi

exit $fail

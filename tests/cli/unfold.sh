#!/usr/bin/env bash
# docs/ml-unfold.md: the t tbar unfolding models from the command line. A tiny model trains,
# samples independently of --chunk-events and --threads, is evaluated with the chi2 baseline;
# mistakes are refused naming what is wrong.
set -euo pipefail
nurec="$1"; work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
expect="$here/expect_error.sh"
rm -rf "$work" && mkdir -p "$work" && cd "$work"

"$nurec" -q generate --process ttbar-semilep -n 6000 --seed 11 --out tt.h5 > /dev/null
"$nurec" -q simulate tt.h5 --seed 12 --out ev.h5 > /dev/null
cat > tiny.yaml <<'CARD'
model: cvld
encoder: {width: 16, heads: 2, layers: 1}
latent: {dim: 4, width: 32, blocks: 1}
diffusion: {width: 32, blocks: 1, time_frequencies: 4}
sampler: {steps: 8}
train: {epochs: 2, batch_size: 128, warmup_steps: 10, ema_decay: 0.9}
CARD
"$nurec" -q train --config tiny.yaml --data ev.h5 --out model --threads 1 > train.log
grep -Eq "nurec train: cvld, [0-9]+ training \+ [0-9]+ validation events, 2 epochs" train.log ||
  { echo "FAIL: train summary"; cat train.log; exit 1; }
for f in config.yaml model.pt checkpoint.pt train_log.csv; do
  [ -f "model/$f" ] || { echo "FAIL: model/$f missing"; exit 1; }
done
"$nurec" -q reconstruct ev.h5 --method cvld --model model --candidates 2 --out nu.h5 > reco.log
grep -Eq "reconstruct cvld: 6000 events, [1-9][0-9]* ok" reco.log || { echo "FAIL: reco summary"; cat reco.log; exit 1; }
"$nurec" -q reconstruct ev.h5 --method cvld --model model --candidates 2 --chunk-events 700 \
  --threads 2 --out nu_chunks.h5 > /dev/null
h5diff -q nu.h5 nu_chunks.h5 || { echo "FAIL: samples depend on chunks or threads"; exit 1; }
h5ls nu.h5/nu/cvld/samples | grep -q "{6000/Inf, 2/Inf, 11/Inf, 5/Inf}" || { echo "FAIL: samples shape"; exit 1; }
"$nurec" -q reconstruct nu.h5 --method chi2 --out both.h5 > /dev/null
"$nurec" -q evaluate both.h5 --out report --bootstrap 0 > /dev/null
grep -q "| cvld |" report/README.md && grep -q "| chi2 |" report/README.md ||
  { echo "FAIL: both methods in the distance table"; cat report/README.md; exit 1; }

# The shipped model (models/ttbar_cvld) samples the same file.
"$nurec" -q reconstruct ev.h5 --method cvld --model "$here/../../models/ttbar_cvld" --out shipped.h5 > shipped.log
grep -Eq "reconstruct cvld: 6000 events, [1-9][0-9]* ok" shipped.log || { echo "FAIL: shipped model"; cat shipped.log; exit 1; }

"$expect" "give the trained model with --model DIR" --no-file x.h5 -- \
  "$nurec" reconstruct ev.h5 --method vld --out x.h5
"$expect" "--method vdm was given a cvld model .*use --method cvld" --no-file x.h5 -- \
  "$nurec" reconstruct ev.h5 --method vdm --model model --out x.h5
"$expect" "--sampler of the unfolding models must be 'pndm' or 'ddim' \\(got 'dpm\\+\\+2m'\\)" \
  --no-file x.h5 -- "$nurec" reconstruct ev.h5 --method cvld --model model --sampler dpm++2m --out x.h5
"$expect" "--decoder must be 'mean' or 'sample' \\(got 'noisy'\\)" --no-file x.h5 -- \
  "$nurec" reconstruct ev.h5 --method cvld --model model --decoder noisy --out x.h5
"$nurec" -q generate -n 300 --out z.h5 > /dev/null
"$nurec" -q simulate z.h5 --out zs.h5 > /dev/null
"$expect" "a 'ztautau' file; the unfolding models read t tbar files" --no-file m2 -- \
  "$nurec" train --config tiny.yaml --data zs.h5 --out m2
"$expect" "--method vld reconstructs ttbar-semilep events, but zs.h5 holds ztautau events" \
  --no-file x.h5 -- "$nurec" reconstruct zs.h5 --method vld --model model --out x.h5
sed 's/model: cvld/model: vld\nlatent: {dim: 0}/' tiny.yaml > bad.yaml
"$expect" "latent.dim must be in \[1, 1024\] \(got 0\)" --no-file m3 -- \
  "$nurec" train --config bad.yaml --data ev.h5 --out m3
echo unfold-ok

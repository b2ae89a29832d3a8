#!/usr/bin/env bash
# docs/data-format.md "Reading and writing in chunks", "Shards and merging": generate, simulate
# and reconstruct give identical files whatever --chunk-events is, and a reconstruction split
# into shards and merged equals the single run (h5diff, data and attributes).
set -euo pipefail
nurec="$1"; work="$2"; withDiffusion="${3:-0}"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
same() {  # same A B what
  if ! h5diff -q "$1" "$2"; then
    echo "FAIL: $3: $1 and $2 differ"; h5diff -r "$1" "$2" | head -20; exit 1
  fi
}
"$nurec" -q generate --events 2500 --seed 5 --out g_whole.h5
"$nurec" -q generate --events 2500 --seed 5 --out g_chunks.h5 --chunk-events 333
same g_whole.h5 g_chunks.h5 "generate in chunks"
"$nurec" -q generate --events 2500 --seed 5 --mass-prior flat --mass-window 40,300 --out gf1.h5
"$nurec" -q generate --events 2500 --seed 5 --mass-prior flat --mass-window 40,300 --out gf2.h5 --chunk-events 700
same gf1.h5 gf2.h5 "generate with the flat mass prior in chunks"

"$nurec" -q simulate g_whole.h5 --out s_whole.h5 --seed 3 > /dev/null
"$nurec" -q simulate g_whole.h5 --out s_chunks.h5 --seed 3 --chunk-events 401 > /dev/null
same s_whole.h5 s_chunks.h5 "simulate in chunks"
"$nurec" -q simulate g_whole.h5 --out sel_whole.h5 --seed 3 --only-selected > /dev/null
"$nurec" -q simulate g_whole.h5 --out sel_chunks.h5 --seed 3 --only-selected --chunk-events 401 > /dev/null
same sel_whole.h5 sel_chunks.h5 "simulate --only-selected in chunks"

# HepMC3 input is streamed too; /weight (normalised by the file's sum) is written at commit.
"$nurec" -q generate --events 1500 --seed 6 --format hepmc3 --out g.hepmc3 > /dev/null
# HepMC3 output is written in chunks (two passes: the totals, then the records): same bytes.
"$nurec" -q generate --events 1500 --seed 6 --format hepmc3 --chunk-events 97 --out g97.hepmc3 > /dev/null
cmp -s g.hepmc3 g97.hepmc3 || { echo "FAIL: generate --format hepmc3 depends on --chunk-events"; exit 1; }
# Per-event weights (the flat mass prior): each record must get its own event's weight.
"$nurec" -q generate --events 1500 --seed 6 --mass-prior flat --mass-window 40,300 --format hepmc3 --out f.hepmc3 > /dev/null
"$nurec" -q generate --events 1500 --seed 6 --mass-prior flat --mass-window 40,300 --format hepmc3 --chunk-events 97 --out f97.hepmc3 > /dev/null
cmp -s f.hepmc3 f97.hepmc3 || { echo "FAIL: flat-prior HepMC3 weights depend on --chunk-events"; exit 1; }
"$nurec" -q generate --process ttbar-semilep --events 40 --seed 6 --format hepmc3 --out tt.hepmc3 > /dev/null
"$nurec" -q generate --process ttbar-semilep --events 40 --seed 6 --format hepmc3 --chunk-events 7 \
  --out tt7.hepmc3 > /dev/null
cmp -s tt.hepmc3 tt7.hepmc3 || { echo "FAIL: t tbar HepMC3 output depends on --chunk-events"; exit 1; }
"$nurec" -q simulate g.hepmc3 --out h_whole.h5 --seed 3 --chunk-events 100000 > /dev/null
"$nurec" -q simulate g.hepmc3 --out h_chunks.h5 --seed 3 --chunk-events 97 > /dev/null
same h_whole.h5 h_chunks.h5 "simulate of HepMC3 input in chunks"
"$nurec" -q simulate g.hepmc3 --out hs_whole.h5 --seed 3 --only-selected --chunk-events 100000 > /dev/null
"$nurec" -q simulate g.hepmc3 --out hs_chunks.h5 --seed 3 --only-selected --chunk-events 97 > /dev/null
same hs_whole.h5 hs_chunks.h5 "simulate --only-selected of HepMC3 input in chunks"
/usr/bin/python3 - <<'EOF2' || { echo "FAIL: HepMC3 weights do not add up to the cross section"; exit 1; }
import h5py
f = h5py.File("h_chunks.h5", "r")
w = f["/weight"][:]
xs = f.attrs["cross_section_pb"]
assert len(w) == 1500 and abs(w.sum() / xs - 1) < 1e-9, (len(w), w.sum(), xs)
EOF2

methods="collinear mmc"
if [ "$withDiffusion" = 1 ]; then methods="$methods diffusion"; fi
for m in $methods; do
  extra=""; if [ "$m" = diffusion ]; then extra="--candidates 4 --steps 4"; fi
  "$nurec" -q reconstruct s_whole.h5 --method "$m" $extra --seed 9 --out "r_$m.h5" > /dev/null
  "$nurec" -q reconstruct s_whole.h5 --method "$m" $extra --seed 9 --chunk-events 257 --out "rc_$m.h5" > /dev/null
  same "r_$m.h5" "rc_$m.h5" "reconstruct $m in chunks"
  for i in 0 1 2; do
    "$nurec" -q reconstruct s_whole.h5 --method "$m" $extra --seed 9 --shard "$i/3" --out "p${i}_$m.h5" > /dev/null
  done
  "$nurec" -q merge "p2_$m.h5" "p0_$m.h5" "p1_$m.h5" --out "m_$m.h5" > /dev/null
  same "r_$m.h5" "m_$m.h5" "reconstruct $m in 3 shards, merged"
done
# A shard missing is refused, and leaves no output.
if "$nurec" -q merge p0_mmc.h5 p2_mmc.h5 --out bad.h5 2> bad.err; then
  echo "FAIL: merge of 2 of 3 shards succeeded"; exit 1
fi
grep -q "every shard is needed" bad.err || { echo "FAIL: unclear message: $(cat bad.err)"; exit 1; }
[ ! -e bad.h5 ] || { echo "FAIL: merge left bad.h5"; exit 1; }
echo "streaming-ok ($methods)"

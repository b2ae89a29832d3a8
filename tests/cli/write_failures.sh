#!/usr/bin/env bash
# Usage: write_failures.sh NUREC WORKDIR
# A write that fails (here a file-size limit, EFBIG, standing in for a full disk) is exit 1 with
# a message naming the file: no crash in HDF5's clean-up, no temporary left, and an existing
# output under the same name untouched (docs/reliability.md).
set -u
nurec="$1"; work="$2"
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
"$nurec" -q generate --events 400 --seed 5 --threads 1 --out g.h5 >/dev/null || { echo "FAIL: generate"; exit 1; }
"$nurec" -q simulate g.h5 --out existing.h5 >/dev/null || { echo "FAIL: simulate"; exit 1; }
before=$(md5sum existing.h5)
fails=0
limited() {  # limited "<regex>" command...: run under a 100 kB file-size limit
  local pattern="$1"; shift
  local err rc
  err=$( (ulimit -f 100; "$@") 2>&1 >/dev/null); rc=$?
  if [ $rc -ne 1 ] || ! grep -Eq -- "$pattern" <<<"$err"; then
    echo "FAIL (exit $rc): $*"; echo "  $err" | tail -3; fails=$((fails + 1))
  else
    echo "ok: $*: $err"
  fi
}
limited "cannot write big.h5" "$nurec" -q generate --events 2000 --seed 1 --threads 1 --out big.h5
limited "cannot write existing.h5" "$nurec" -q simulate g.h5 --out existing.h5
limited "big.hepmc3: writing the HepMC3 file failed" "$nurec" -q generate --events 2000 --seed 1 --threads 1 --out big.hepmc3
limited "cannot write existing.h5" "$nurec" -q reconstruct existing.h5 --method collinear --out existing.h5
[ "$(md5sum existing.h5)" = "$before" ] || { echo "FAIL: the existing output changed"; fails=$((fails + 1)); }
ls ./*.tmp.* >/dev/null 2>&1 && { echo "FAIL: temporaries left: $(ls ./*.tmp.*)"; fails=$((fails + 1)); }
ls big.h5 big.hepmc3 >/dev/null 2>&1 && { echo "FAIL: big.h5 or big.hepmc3 exists"; fails=$((fails + 1)); }
# A temporary of a killed run (its pid no longer exists) is removed by the next write.
touch existing.h5.tmp.999999
"$nurec" -q simulate g.h5 --out existing.h5 >/dev/null || fails=$((fails + 1))
[ -e existing.h5.tmp.999999 ] && { echo "FAIL: stale temporary kept"; fails=$((fails + 1)); }
# A report that cannot be written completely is not written at all (issue 22.12: a full disk left
# a partial report): README.md fits under 50 kB, metrics.json does not.
"$nurec" -q reconstruct existing.h5 --method collinear --out nu.h5 >/dev/null || fails=$((fails + 1))
err=$( (ulimit -f 50; "$nurec" -q evaluate nu.h5 --out rep --selection any_channel --no-plots) 2>&1 >/dev/null); rc=$?
if [ $rc -ne 1 ] || ! grep -q "cannot write rep/.*metrics.json" <<<"$err"; then
  echo "FAIL (exit $rc): evaluate under a file-size limit: $err"; fails=$((fails + 1))
fi
[ -e rep ] && { echo "FAIL: a partial report was left: $(find rep)"; fails=$((fails + 1)); }
"$nurec" -q evaluate nu.h5 --out rep --selection any_channel --no-plots >/dev/null || fails=$((fails + 1))
[ -s rep/README.md ] && [ -s rep/metrics.json ] && [ -z "$(ls -A rep | grep staging)" ] ||
  { echo "FAIL: the report without a limit is incomplete: $(ls -A rep)"; fails=$((fails + 1)); }
# Two in-place writers at once (issue 22.8): the output lock makes the second wait and read the
# first one's result, so the file ends with both methods; no lock file is left.
"$nurec" -q simulate g.h5 --out both.h5 >/dev/null || fails=$((fails + 1))
for round in 1 2 3; do
  cp both.h5 race.h5
  "$nurec" -q reconstruct race.h5 --method mmc --threads 1 --out race.h5 >/dev/null 2>race_mmc.err &
  "$nurec" -q reconstruct race.h5 --method fastmtt --threads 1 --out race.h5 >/dev/null 2>race_fmtt.err &
  wait
  methods=$("$nurec" info race.h5 2>/dev/null | grep -Ec "/nu/(mmc|fastmtt)/p4")
  [ "$methods" = 2 ] || { echo "FAIL: round $round: race.h5 holds $methods of the 2 methods"; fails=$((fails + 1)); }
done
ls ./*.lock >/dev/null 2>&1 && { echo "FAIL: lock files left: $(ls ./*.lock)"; fails=$((fails + 1)); }
[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "all write-failure checks passed"

#!/usr/bin/env bash
# Usage: bad_usage.sh NUREC WORKDIR
# Mistyped outputs and options (docs/reliability.md): each gives exit code 1 and a message that
# says what is wrong, and no command writes its output over one of its inputs.
set -u
nurec="$1"; work="$2"
rm -rf "$work"; mkdir -p "$work/adir"; cd "$work" || exit 1
"$nurec" -q generate --events 300 --seed 5 --threads 1 --out g.h5 >/dev/null || { echo "FAIL: generate"; exit 1; }
before=$(md5sum g.h5)
fails=0
check() {  # check "<regex>" command...
  local pattern="$1"; shift
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -ne 1 ] || ! grep -Eq -- "$pattern" <<<"$err" || [ ${#err} -gt 400 ]; then
    echo "FAIL (exit $rc): $*"; echo "  $err" | head -3; fails=$((fails + 1))
  else
    echo "ok: $*: $(head -1 <<<"$err")"
  fi
}
check "would overwrite the input" "$nurec" simulate g.h5 --out g.h5
check "would overwrite the input" "$nurec" simulate g.h5 --out ./adir/../g.h5
check "would overwrite the input" "$nurec" mmc-pdfs --data g.h5 --out g.h5
check "is a directory" "$nurec" simulate g.h5 --out adir
check "is a directory" "$nurec" simulate g.h5 --out newdir/
check "empty path" "$nurec" simulate g.h5 --out ""
check "is an existing file" "$nurec" evaluate g.h5 --out g.h5
check "is an existing file" "$nurec" demo --out g.h5
check "is a directory" "$nurec" generate --events 10 --out adir
# A folder given as a card or run card opens but cannot be read: once a silent default card.
check "adir: cannot open the detector card" "$nurec" simulate g.h5 --config adir --out s.h5
check "adir: cannot read the generator config file" "$nurec" generate --events 10 --config adir --out x.h5
check "cannot open config file .adir." "$nurec" train --config adir --data g.h5 --out m
check "unknown command 'frobnicate'" "$nurec" frobnicate
check "not in range 1 to 1000000000" "$nurec" generate --events 4294967296 --out x.h5
check "not in range 0 to 256" "$nurec" generate --events 10 --threads 2147483647 --out x.h5
check "not in range 0 to 100000" "$nurec" evaluate g.h5 --bootstrap 1e400 --out r
check "missing|exist" "$nurec" evaluate missing.h5 --out r
# Options of the other resonance are refused, not ignored (docs/physics.md section 14).
check "needs --resonance higgs" "$nurec" generate --events 10 --cp-mixing-angle 0.3 --out x.h5
check "applies to --resonance z only" "$nurec" generate --events 10 --resonance higgs --mass-window 100,150 --out x.h5
check "CP-mixing angle must be in" "$nurec" generate --events 10 --resonance higgs --cp-mixing-angle 7 --out x.h5
printf 'resonance: higgs\nmass_prior: flat\n' > hflat.yaml
check "flat mass prior is for the Z" "$nurec" generate --events 10 --config hflat.yaml --out x.h5
[ "$(md5sum g.h5)" = "$before" ] || { echo "FAIL: the input file changed"; fails=$((fails + 1)); }
# 22.10: a folder that exists but cannot be written. Root writes everywhere, so as root the check
# runs as the unprivileged user "nobody" (setpriv), when that user can run this nurec.
mkdir -p ro && chmod 555 ro
asUser=()
if [ "$(id -u)" = 0 ]; then
  asUser=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  "${asUser[@]}" "$nurec" --version >/dev/null 2>&1 || asUser=()
fi
if [ "$(id -u)" != 0 ] || [ ${#asUser[@]} -gt 0 ]; then
  check "cannot write in .*ro \\(permission denied\\)" "${asUser[@]}" "$nurec" generate --events 10 --out ro/x.h5
  check "cannot write in .*ro \\(permission denied\\)" "${asUser[@]}" "$nurec" generate --events 10 --out ro/sub/x.h5
else
  echo "note: the read-only folder check is skipped (root, and user nobody cannot run $nurec)"
fi
# -q is accepted after the subcommand too.
"$nurec" simulate g.h5 --out s.h5 -q >/dev/null 2>&1 || { echo "FAIL: -q after the subcommand"; fails=$((fails + 1)); }
# spin: neither the JSON nor the .md/.scan.csv written beside it may replace the event file.
cp s.h5 t.md
before=$(md5sum s.h5 t.md)
check "would overwrite the input" "$nurec" spin s.h5 --method truth --out s.h5
check "would overwrite the input" "$nurec" spin t.md --method truth --out t.json
check "is an existing file" "$nurec" spin s.h5 --method truth --write-met-variations s.h5 --out v.json
[ "$(md5sum s.h5 t.md)" = "$before" ] || { echo "FAIL: spin changed its input"; fails=$((fails + 1)); }
ls ./*.tmp.* >/dev/null 2>&1 && { echo "FAIL: temporaries left: $(ls ./*.tmp.*)"; fails=$((fails + 1)); }
[ $fails -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "all bad-usage checks passed"

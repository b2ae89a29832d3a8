#!/usr/bin/env bash
# Usage: expect_error.sh "<regex the message must match>" [--no-file PATH] -- command args...
# Passes when the command exits non-zero, prints one line matching the regex on stderr, does not
# crash (exit code < 128), and leaves no file at PATH (no half-written output).
set -u
pattern="$1"; shift
nofile=""
if [ "${1:-}" = "--no-file" ]; then nofile="$2"; shift 2; fi
[ "${1:-}" = "--" ] && shift
rm -f "${nofile:-/nonexistent-nurec}" 2>/dev/null
err=$("$@" 2>&1 >/dev/null); rc=$?
if [ $rc -eq 0 ]; then echo "FAIL: exit code 0 for: $*"; exit 1; fi
if [ $rc -ge 128 ]; then echo "FAIL: crashed (exit $rc): $*"; echo "$err"; exit 1; fi
if ! grep -Eq -- "$pattern" <<<"$err"; then echo "FAIL: message does not match /$pattern/:"; echo "$err"; exit 1; fi
if [ -n "$nofile" ] && ls "$nofile"* >/dev/null 2>&1; then echo "FAIL: output left behind: $(ls "$nofile"*)"; exit 1; fi
echo "ok: exit $rc: $err"

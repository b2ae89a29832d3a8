#!/usr/bin/env bash
# Runs one reader fuzzer for a fixed time from the seed corpus (docs/reliability.md).
# Usage: run_fuzzer.sh FUZZER SEED_DIR WORK_DIR SECONDS [extra libFuzzer flags]
# New corpus entries go to WORK_DIR/corpus, a crashing input to WORK_DIR/crash-*; exit non-zero on
# any finding (crash, sanitizer report, uncaught exception, timeout of one input, memory limit).
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3 seconds=$4
shift 4
mkdir -p "$work/corpus"
# Reports inside libhdf5 itself (docs/reliability.md) are suppressed; everything else is a finding.
here="$(cd "$(dirname "$0")" && pwd)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}:suppressions=$here/asan_suppressions.txt"
export LSAN_OPTIONS="${LSAN_OPTIONS:-}:suppressions=$here/lsan_suppressions.txt"
exec "$fuzzer" "$work/corpus" "$seeds" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
  -max_len=200000 -artifact_prefix="$work/" -print_final_stats=1 "$@"

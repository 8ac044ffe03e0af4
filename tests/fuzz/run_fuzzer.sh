#!/usr/bin/env bash
# Runs one libFuzzer binary for a fixed time (used by ctest, label fuzz).
#   run_fuzzer.sh BINARY WORK_DIR SECONDS [SEED_DIR]
# New interesting inputs go to WORK_DIR (under the build tree), never into the
# checked-in seed corpus. A crash leaves its input as WORK_DIR/../crash-* and fails.
set -euo pipefail
bin=$1 work=$2 secs=$3 seeds=${4:-}
mkdir -p "$work"
cd "$(dirname "$work")"
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1)
# shellcheck disable=SC2086
exec "$bin" "${args[@]}" "$work" $seeds

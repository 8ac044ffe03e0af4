#!/usr/bin/env bash
# Twenty-ninth session, call 5: gpu.sh's new chain stage and the sanitize stage's W4A4 chains
# (SAN_ONLY=pdl), on build-pack from call 3 (7ea4875's kernels and benches; what came after
# changed tests, docs and scripts only).
# Here: run(command="bash docs/kernels/h200/s29-run5.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-/tmp/out}
SAN_ONLY=pdl OUT=$O/gpu timeout 230 bash scripts/gpu.sh --prebuilt build-pack sanitize chain \
  >"$O/s29-run5-log.txt" 2>&1
echo "exit $?" >>"$O/s29-run5-log.txt"
cat "$O/gpu/sanitizer_pdl.log" "$O/gpu/bench_chain_w4a16.txt" "$O/gpu/bench_chain_w4a4.txt" \
  >>"$O/s29-run5-log.txt" 2>&1
rm -rf "$O/gpu"
sed -n '/== summary/,$p' "$O/s29-run5-log.txt" | head -8

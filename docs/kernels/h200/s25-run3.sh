#!/usr/bin/env bash
# Twenty-fifth session, call 3: gpu::Fp4Linear (new: the layer that holds the prepared weight and
# picks its path by M). Its tests and their memcheck, test_kernels (cpu_quant moved into
# gpu_test_util.hpp), then the MXFP4 W4A4 layer's two paths by M on the four layer shapes
# (bench_w4a4_fp8 --linear, two rounds), which sets kFp8MinM.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s25-run3.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
export PATH=/usr/local/cuda/bin:$PATH
date -u
F='^\[ +(OK|FAILED|PASSED|SKIPPED) +\]|Failure$|Expected|Which is|error'
for t in test_fp4_linear test_kernels; do
  timeout 120 "$B/$t" >"$O/$t.log" 2>&1; echo "$t: exit $?"
  grep -E "$F" "$O/$t.log" | head -30
done
timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_fp4_linear" \
  >"$O/memcheck-fp4-linear.log" 2>&1
echo "memcheck test_fp4_linear: exit $?"; grep -E 'ERROR SUMMARY|PASSED|FAILED' "$O/memcheck-fp4-linear.log" | head -4
for r in 1 2; do
  timeout 150 "$B/bench_w4a4_fp8" --linear >"$O/linear-round$r.txt" 2>&1
  echo "bench_w4a4_fp8 --linear round $r: exit $?"
done
cat "$O/linear-round1.txt"
grep -E '^ *[0-9]+x' "$O/linear-round2.txt"
date -u

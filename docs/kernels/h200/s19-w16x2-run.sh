#!/usr/bin/env bash
# Nineteenth session, call 5: the streamed kernel at M <= 8 with 16 warps a CTA at two CTAs an SM
# (64 registers), where the weight has between one and two 32-row blocks an SM and the chunks
# fill stages of 16 (MRGPTQ_W16X2=1: a 2-stage ring, =3: 3 stages; unset: the committed 8 warps
# at three CTA slots, or 12 warps at two). ncu had the 8-warp form at 3.7 warps a scheduler,
# issue 55%, on 8192x8192. GPU tests first (the new test shape takes the 16 x 2 form when asked),
# then bench_w4a16_tc in alternating processes, two rounds: tma mx / gemm mx / gemm nv, us.
# The experiment is not in the tree: git checkout c9c2826 && git apply
# docs/kernels/h200/w4a16-16x2-experiment.patch first.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s19-w16x2-run.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
for v in 1 3; do
  echo "=== MRGPTQ_W16X2=$v: the streamed decode tests"
  MRGPTQ_W16X2=$v timeout 120 "$B/test_w4a16_tc" --gtest_filter='*StreamedDecodes*:*StreamedWide*' 2>&1 |
    grep -E "^\[  (PASSED|FAILED) |OK \]|FAILED \]" | tail -6
done
TEST_LIMITS="test_w4a16_tc:300" OUT=$O scripts/gpu.sh --prebuilt build-pack test 2>&1 | tail -2
AB_ENVS="MRGPTQ_W16X2=0 MRGPTQ_W16X2=1 MRGPTQ_W16X2=3" AB_ROUNDS=2 \
  AB_ARGSETS="--only 8192x8192 --ms 1,2,4;--only 8192x28672 --ms 1,2,4;--only 6144x8192 --ms 1,4" \
  OUT=$O scripts/gpu.sh --prebuilt build-pack ab >/dev/null 2>&1
echo "== A/B (round, setting, N x K, M, bf16, tma mx, gemm mx, gemm nv; us)"
awk '/^=== round/ {r = $3; s = $4} /^ *[0-9]+x[0-9]+ +[0-9]+ / {print r, s, $1, $2, $3, $5, $33, $36}' \
  "$O/ab.txt"

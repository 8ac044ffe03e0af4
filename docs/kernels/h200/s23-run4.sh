#!/usr/bin/env bash
# Twenty-third session, call 4 (build-packtfd: 4051e05 plus wg-tfd-experiment.patch; build-old:
# the same source with MRGPTQ_TF_SKIP 1 / 2 / 3, scripts/bench-variant.sh --file
# src/kernels/w4a16_wgmma.cu --bin bench_w4a16_tc HEAD skipK <the .cu part of the patch>
# <a patch setting MRGPTQ_TF_SKIP to K>). Calls 1-3: every transform form takes ~2900 cycles a
# chunk whatever its tile (n = 128, 160, 192) and its A slots (2 or 3), with the consumers waiting
# for decoded tiles and the transform warps waiting for free A slots. Timing-only upper bounds
# (outputs wrong) for configs 81 (128 x 160) and 82 (128 x 192): skip1 = no decode and no
# stores (the rings' handoffs alone), skip2 = the decode without its stmatrix stores, skip3 =
# stores of zeros without the decode. Three rounds in alternating processes.
# Here: git apply docs/kernels/h200/wg-tfd-experiment.patch
#   git diff -- src/kernels/w4a16_wgmma.cu >/tmp/tfd-cu.patch; bash scripts/gpu-pack.sh --tgz build-packtfd
#   for k in 1 2 3; do sed "s/#define MRGPTQ_TF_SKIP 0/#define MRGPTQ_TF_SKIP $k/" \
#     src/kernels/w4a16_wgmma.cu >/tmp/skip$k.cu; diff -u src/kernels/w4a16_wgmma.cu /tmp/skip$k.cu \
#     >/tmp/skip$k.patch; scripts/bench-variant.sh --file src/kernels/w4a16_wgmma.cu --bin \
#     bench_w4a16_tc HEAD skip$k /tmp/tfd-cu.patch /tmp/skip$k.patch; done
#   run(command="bash docs/kernels/h200/s23-run4.sh", carry=["build-packtfd", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-packtfd/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
for r in 1 2 3; do
  for v in head skip1 skip2 skip3; do
    bin=$B/bench_w4a16_tc; [ $v = head ] || bin=build-old/bench_w4a16_tc_$v
    for sh in 8192x8192 28672x8192; do
      echo "=== round $r $v: --wg --ab -1,81,82 --only $sh --ms 256,320,384" >>"$O/ab.txt"
      timeout 60 "$bin" --wg --ab -1,81,82 --only $sh --ms 256,320,384 2>&1 |
        grep -E '^ *[0-9]+x|rror' >>"$O/ab.txt"
    done
  done
done
cat "$O/ab.txt"

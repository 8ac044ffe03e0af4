#!/usr/bin/env bash
# Everything GPU-related, for the GPU machine (H100/H200):
#   scripts/gpu.sh [--prebuilt DIR] [STAGE ...]
# Stages, in this order (default: all of them):
#   build      GPU-only CMake build in $BUILD (default build-gpu; that machine has
#              no OpenBLAS/CLI11). With --prebuilt DIR: no build, the binaries in
#              DIR are used (made elsewhere by scripts/gpu-pack.sh DIR and carried over;
#              a DIR/bundle.tgz from gpu-pack.sh --tgz is unpacked first).
#   test       every GPU test program (test_kernels, test_w4a16_tc, test_w4a4_fp8,
#              test_programmatic_launch, test_fp4_linear), each under
#              its own time limit (TEST_LIMITS="name:seconds ...")
#   sanitize   compute-sanitizer memcheck on the small cases of each kernel and on the W4A4
#              decode chains (SAN_ONLY="kernels fp8 pdl w4a16": only those)
#   w4a16      bench_w4a16_tc: streamed kernel (both decodes), dequantize + cuBLAS, dispatch
#   wgmma      bench_w4a16_tc --wg: every warpgroup-kernel config vs cuBLAS, M = 64..16384
#   sweep      bench_w4a16_tc --dispatch: the "never slower" sweep, the w4a16_gemm dispatch vs
#              cuBLAS call for call at 37 M from 1 to 1024 (both sides of every boundary)
#   expand     bench_w4a16_tc --expand: the FP4 weight's expansion to BF16 (the dequantize +
#              cuBLAS paths' first step) against a copy of the BF16 weight's size
#   chain      bench_w4a16_tc --chain 8: decode chains of 8 layers, W4A16 and then W4A4 layers
#              (kernel 1 + GEMM), plain and programmatic launches, M = 1-32
#   fp8        bench_w4a4_fp8: kernel 1 vs copy, MXFP4 W4A4 on the FP8 tensor cores
#   fp4        bench_fp4: the issue's table
#   tma        bench_tma_copies: the rate of TMA bulk copies against their size (not in the
#              default list)
#   ab         an A/B in alternating processes (not in the default list), to $OUT/ab.txt:
#              of environment settings in one binary, for experiments switched by a variable
#              (AB_ENVS="V=0 V=1": a setting a word, several variables joined by commas:
#              "V=1,W=2"; AB_BIN, default bench_w4a16_tc), or of binaries with the same
#              arguments (AB_BINS="old=build-old/bench_fp4_A new=@/bench_fp4": NAME=path, @ the
#              build or --prebuilt DIR; scripts/bench-variant.sh makes the other sides). AB_ARGS
#              (default "--ms 1,16"), AB_ROUNDS (default 2); the sides alternate within each round.
#              AB_ARGSETS="ARGS;ARGS..." makes each side one argument set as well: every binary
#              (or setting) runs with each set in turn, e.g. AB_BIN=bench_fp4
#              AB_ENVS=- AB_ARGSETS="--quant --quant-chunks 1;--quant" ("-": no setting).
#              $OUT/ab-table.txt: the result rows regrouped by shape and M, sides together.
#   profile    ncu on the W4A16 kernels whose limits are open questions (not in the default
#              list): one metric set (issue, pipes, stall reasons, DRAM/L2/L1) per case, to
#              $OUT/ncu-profile.txt; PROFILE_CASES="name|kernel regex|bench args;..." replaces
#              the cases
# One device call is limited to 10 minutes: `all` takes longer with the
# benchmarks, so run e.g. `build test sanitize` in one call and the benches
# in the next ones (BENCH_ARGS="--only 8192x8192" narrows w4a16/wgmma/fp4).
# Logs go to $OUT (or ./gpu-out); a one-line summary per stage comes last.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
BUILD=${BUILD:-build-gpu}
prebuilt=0
if [ "${1:-}" = "--prebuilt" ]; then
  BUILD=$2 prebuilt=1
  shift 2
  if [ -f "$BUILD/bundle.tgz" ]; then  # gpu-pack.sh --tgz: the binaries in one archive
    unpacked=$(mktemp -d)
    trap 'rm -rf "$unpacked"' EXIT
    tar xzf "$BUILD/bundle.tgz" -C "$unpacked" || { echo "cannot unpack $BUILD/bundle.tgz"; exit 1; }
    BUILD=$unpacked
  fi
  chmod +x "$BUILD"/* 2>/dev/null || true  # a copy may arrive without its exec bits
fi
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(build test sanitize w4a16 wgmma sweep expand chain fp8 fp4)  # profile: by name
want() { local s; for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
summary=()
export PATH=/usr/local/cuda/bin:$PATH
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"

if want build && [ $prebuilt = 0 ]; then
  t0=$SECONDS
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRGPTQ_GPU_ONLY=ON \
    >"$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
  cmake --build "$BUILD" -j "$(nproc)" >"$OUT/build.log" 2>&1 \
    || { grep -E 'error' "$OUT/build.log" | head -30; exit 1; }
  summary+=("build: ok in $((SECONDS - t0)) s ($(grep -c 'warning' "$OUT/build.log") warning lines)")
fi

if want test; then
  echo "== GPU tests"
  # Each under its own limit (TEST_LIMITS: seconds a binary), so that one that hangs or runs
  # long leaves the others' logs and the summary (test_w4a16_tc took 252 s on the H200 in
  # s29-run3, but its first 15 tests alone 237 s on the machine of s30-run2, whose host-side
  # references ran ~1.3x slower).
  limits="test_kernels:90 test_w4a16_tc:480 test_w4a4_fp8:90 test_programmatic_launch:90 test_fp4_linear:90"
  for tl in ${TEST_LIMITS:-$limits}; do
    t=${tl%%:*} t0=$SECONDS
    timeout "${tl##*:}" "$BUILD/$t" >"$OUT/$t.log" 2>&1
    rc=$?
    summary+=("$t: exit $rc$([ $rc = 124 ] && echo ' (ran past its limit)'), $((SECONDS - t0)) s, $(grep -E '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ test' "$OUT/$t.log" | tr -s ' ' | tr '\n' ' ')")
    # A failure's lines up to its test's message (which names the case), then the failed tests.
    grep -A6 'Failure$' "$OUT/$t.log" | grep -v '^\[ RUN' | head -28
    grep -E '^\[  FAILED  \]' "$OUT/$t.log" | head -8
  done
fi

if want sanitize && command -v compute-sanitizer >/dev/null; then
  echo "== compute-sanitizer memcheck"
  san() {  # name binary filter (SAN_ONLY="kernels fp8": only those)
    [ -n "${SAN_ONLY:-}" ] && [[ " $SAN_ONLY " != *" $1 "* ]] && return 0
    compute-sanitizer --tool memcheck --error-exitcode 9 "$BUILD/$2" --gtest_filter="$3" \
      >"$OUT/sanitizer_$1.log" 2>&1
    summary+=("memcheck $1: exit $? ($(grep -c 'ERROR SUMMARY: 0 errors' "$OUT/sanitizer_$1.log") clean summaries)")
  }
  san kernels test_kernels '*W4A16*:*BadShapes*:*ActivationQuantizer*:*ReLaidOut*'
  san fp8 test_w4a4_fp8 '*Rotated*:*128x128*'
  # Not the wide-weight dispatch test: its kernels are the small tests' ones, and it is the
  # largest (~60 s without memcheck); the test and memcheck stages ran past 400 s together in the
  # fifteenth session.
  san pdl test_programmatic_launch '*W4a4Chains*'
  san w4a16 test_w4a16_tc \
    '*PlantedWrong*:*Dispatch*:*Dequantized*:*WgmmaEveryConfigSmall*:*WgmmaRemainderTilesSmall*:*StreamedDecodesSmall*:*ManyWaves*:*StreamedWideCtas*:*WgmmaPersistent*-*OnWideWeights*'
fi

bench() {  # stage title file binary args...
  local stage=$1 title=$2 file=$3 bin=$BUILD/$4
  shift 4
  want "$stage" || return 0
  echo "== $title"
  local t0=$SECONDS
  "$bin" "$@" 2>&1 | tee "$OUT/$file"
  summary+=("$stage: $title, ${PIPESTATUS[0]} exit, $((SECONDS - t0)) s -> $file")
}
# shellcheck disable=SC2086
bench w4a16 "W4A16: streamed kernel (both decodes), dequantize + cuBLAS, dispatch" \
  bench_w4a16_tc.txt bench_w4a16_tc ${BENCH_ARGS:-}
# shellcheck disable=SC2086
bench wgmma "W4A16 warpgroup kernel: every config vs cuBLAS" bench_w4a16_wgmma.txt \
  bench_w4a16_tc --wg ${BENCH_ARGS:-}
# shellcheck disable=SC2086
bench sweep "W4A16 dispatch vs cuBLAS at every boundary (never slower?)" bench_w4a16_dispatch.txt \
  bench_w4a16_tc --dispatch ${BENCH_ARGS:-}
want sweep && summary+=("sweep: $(grep -cE '  <$' "$OUT/bench_w4a16_dispatch.txt") of $(grep -cE \
  '^ *[0-9]+x[0-9]+ ' "$OUT/bench_w4a16_dispatch.txt") shape x M rows slower than cuBLAS BF16")
bench expand "the weight's expansion to BF16 vs a copy" bench_w4a16_expand.txt bench_w4a16_tc \
  --expand
bench chain "decode chains of 8 W4A16 layers, plain and programmatic" bench_chain_w4a16.txt \
  bench_w4a16_tc --chain 8 --ms 1,4,16,32
bench chain "decode chains of 8 W4A4 layers, plain and programmatic" bench_chain_w4a4.txt \
  bench_w4a16_tc --chain 8 --w4a4 --ms 1,4,16,32
bench fp8 "kernel 1 vs copy, MXFP4 W4A4 on FP8 tensor cores" bench_w4a4_fp8.txt bench_w4a4_fp8
# shellcheck disable=SC2086
bench fp4 "the issue's table" bench_fp4.txt bench_fp4 ${BENCH_ARGS:-}
bench tma "TMA bulk copies: rate against copy size" bench_tma_copies.txt bench_tma_copies

# The cases (kernel regexes match mangled names: the streamed case is the layout-2 instantiation
# TILES = 4, MXFP4, NT = 2, 4 stages -- the bench runs layout-1 ones before it): the streamed
# kernel at M = 16 (latency-bound, 8 warps x 2 blocks), the
# warpgroup kernel's config 7 and config 9 at M = 256 on 4096x14336 (L2-bound? the last CTA's
# reduction?), config 6 at M = 4096 (tensor pipe ~85%). Each runs the bench on one shape and M
# and profiles the third launch of the kernel (after the warm-up ones).
PROFILE_METRICS=gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,\
lts__t_sectors.avg.pct_of_peak_sustained_elapsed,lts__t_bytes.sum.per_second,\
l1tex__t_sector_hit_rate.pct,smsp__issue_active.avg.pct_of_peak_sustained_active,\
smsp__warps_active.avg.per_cycle_active,smsp__inst_executed.sum,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
sm__pipe_alu_cycles_active.avg.pct_of_peak_sustained_active,\
sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active,\
smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_short_scoreboard_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_wait_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_math_pipe_throttle_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_dispatch_stall_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_mio_throttle_per_issue_active.ratio
DEFAULT_PROFILE_CASES="streamed M=16|w4a16_streamILi4ELb0ELi2ELi4ELb1ELi2E|--only 28672x8192 --ms 16 --reps 1;\
config 7 M=256|w4a16_wgmma_kernel|--wg --cfg 7 --only 4096x14336 --ms 256 --reps 1;\
config 9 M=256|w4a16_wgmma_kernel|--wg --cfg 9 --only 4096x14336 --ms 256 --reps 1;\
config 6 M=4096|w4a16_wgmma_kernel|--wg --cfg 6 --only 8192x8192 --ms 4096 --reps 1"
if want ab; then
  echo "== A/B in alternating processes"
  if [ -z "${AB_ENVS:-}${AB_BINS:-}" ]; then
    summary+=("ab: skipped, neither AB_ENVS nor AB_BINS names a side (e.g. AB_ENVS=\"V=0 V=1\")")
  else
    t0=$SECONDS
    : >"$OUT/ab.txt"
    for r in $(seq "${AB_ROUNDS:-2}"); do
      for side in ${AB_BINS:-$AB_ENVS}; do
        if [ -n "${AB_BINS:-}" ]; then  # NAME=binary
          label=${side%%=*} envs="" bin=${side#*=}
          bin=${bin/#@/$BUILD}
        else  # settings of one binary
          label=${side//,/ } envs=${side//,/ } bin=$BUILD/${AB_BIN:-bench_w4a16_tc}
        fi
        [ "$envs" = - ] && envs=""
        IFS=';' read -r -a argsets <<<"${AB_ARGSETS:-${AB_ARGS:---ms 1,16}}"
        for args in "${argsets[@]}"; do
          echo "=== round $r: $label: $bin $args" | tee -a "$OUT/ab.txt"
          # shellcheck disable=SC2086
          env $envs "$bin" $args 2>&1 | tee -a "$OUT/ab.txt"
        done
      done
    done
    # The benchmarks' rows side by side: every row of every round, sorted by its first two fields
    # (shape, M) and then by side, so that the sides of one case sit on consecutive lines.
    awk '/^=== round/ {side = $4; sub(":", "", side); r = $3; sub(":", "", r)}
         /^ *[0-9]+x[0-9]+ +[0-9]+ / {printf "%s %s %-8s r%s |", $1, $2, side, r
                                      for (i = 3; i <= NF; ++i) printf " %s", $i; print ""}' \
      "$OUT/ab.txt" | sort -s -k1,1 -k2,2n -k3,3 >"$OUT/ab-table.txt"
    summary+=("ab: $(wc -w <<<"${AB_BINS:-$AB_ENVS}") sides x ${AB_ROUNDS:-2} rounds, $((SECONDS - t0)) s -> ab.txt, ab-table.txt")
  fi
fi

if want profile; then
  echo "== ncu profile"
  if ! command -v ncu >/dev/null; then
    summary+=("profile: skipped, ncu not found")
  else
    t0=$SECONDS
    : >"$OUT/ncu-profile.txt"
    IFS=';' read -ra cases <<<"${PROFILE_CASES:-$DEFAULT_PROFILE_CASES}"
    for c in "${cases[@]}"; do
      IFS='|' read -r name kernel args <<<"$c"
      echo "=== $name: ncu --clock-control none --kernel-name-base mangled -k regex:$kernel" \
        "--launch-skip 2 -c 1 --metrics \$PROFILE_METRICS bench_w4a16_tc $args" \
        | tee -a "$OUT/ncu-profile.txt"
      # shellcheck disable=SC2086
      ncu --clock-control none --kernel-name-base mangled -k "regex:$kernel" --launch-skip 2 -c 1 \
        --metrics "$PROFILE_METRICS" "$BUILD/bench_w4a16_tc" $args 2>&1 \
        | grep -E '^ +[a-z0-9_]+__' | tee -a "$OUT/ncu-profile.txt"
    done
    summary+=("profile: ${#cases[@]} cases, $((SECONDS - t0)) s -> ncu-profile.txt")
  fi
fi

echo "== summary"
printf '%s\n' "${summary[@]}"

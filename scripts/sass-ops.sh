#!/usr/bin/env bash
# Static SASS opcode counts of each kernel of one CUDA source, as the Release GPU build compiles
# it (CMake's CUDA standard 17, -O3 -DNDEBUG; -lineinfo does not change the SASS):
#   scripts/sass-ops.sh [SRC.cu] [REGEX] [OPS]
# (defaults: src/kernels/act_quant.cu, every kernel, "HMMA FADD FMUL FFMA LOP3 STL LDL"): one line
# a kernel whose mangled name matches REGEX, its instruction count and the count of each of OPS.
# Static counts include rare branches; docs/PERFORMANCE.md quotes them where it says "static".
# SASS_LIST=1: instead, each matching kernel's instructions without addresses and encodings (its
# name, then one instruction a line), for diffing two sources' code of one kernel.
# An instruction line starts with its address, /*0000*/ .. /*ffff*/ and wider past 4096 instructions
# (counted since 2026-12-03; before, kernels longer than that were cut at 4096).
# Needs cuobjdump (CUDA's, or PyPI's nvidia-cuda-cuobjdump: set CUOBJDUMP).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${1:-src/kernels/act_quant.cu} RE=${2:-.} OPS=${3:-HMMA FADD FMUL FFMA LOP3 STL LDL}
export PATH=/usr/local/cuda/bin:$PATH
CUOBJDUMP=${CUOBJDUMP:-cuobjdump}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
nvcc -std=c++17 -O3 -DNDEBUG --expt-relaxed-constexpr -gencode=arch=compute_90a,code=sm_90a -Isrc -Iinclude \
  -cubin -o "$W/k.cubin" "$SRC"
if [ "${SASS_LIST:-0}" = 1 ]; then
  "$CUOBJDUMP" -sass "$W/k.cubin" | awk -v re="$RE" '
    /Function : / { on = $3 ~ re; if (on) print $3; next }
    on && /^ +\/\*[0-9a-f][0-9a-f][0-9a-f][0-9a-f]+\*\// { sub(/^ +\/\*[0-9a-f]+\*\/ +/, ""); sub(/ *\/\*.*$/, ""); print }'
  exit 0
fi
"$CUOBJDUMP" -sass "$W/k.cubin" | awk -v re="$RE" -v ops="$OPS" '
  function flush() { if (name != "" && name ~ re) { line = sprintf("%5d", n)
      for (i = 1; i <= k; ++i) line = line sprintf(" %s %d", o[i], c[o[i]] + 0)
      print line "  " name } }
  BEGIN { k = split(ops, o, " ") }
  /Function : / { flush(); name = $3; n = 0; delete c; next }
  /^ +\/\*[0-9a-f][0-9a-f][0-9a-f][0-9a-f]+\*\// { op = $2; if (op ~ /^@/) op = $3; sub(/\..*/, "", op); sub(/;$/, "", op)
    if (op == "NOP") next; ++n; ++c[op] }
  END { flush() }'

#!/usr/bin/env bash
# A benchmark binary whose one kernel source comes from another revision (plus patches), the
# rest from this build: the other side of an A/B timed in alternating processes on the GPU.
#   scripts/bench-variant.sh [--file src/kernels/act_quant.cu] [--bin bench_fp4] REV NAME [PATCH ...]
# Takes FILE as it is at REV, applies the PATCHes in order (e.g. docs/kernels/h200/*-experiment
# .patch), compiles it as the GPU build does (with this tree's headers), links BIN against it
# and the other objects of build-lgpu (made by scripts/gpu-pack.sh) and leaves the stripped
# binary at build-old/BIN_NAME (git ignores build*/).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD FILE=src/kernels/act_quant.cu BIN=bench_fp4 B=$PWD/build-lgpu
while [ $# -gt 0 ]; do
  case $1 in
    --file) FILE=$2 && shift ;;
    --bin) BIN=$2 && shift ;;
    *) break ;;
  esac
  shift
done
[ $# -ge 2 ] || { sed -n '2,8p' "$0"; exit 2; }
REV=$1 NAME=$2
shift 2
OBJ=$(basename "$FILE").o
[ -f "$B/libmrgptq_cuda.a" ] || { echo "no $B: run scripts/gpu-pack.sh first"; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
git show "$REV:$FILE" >"$W/src.cu"
for p in "$@"; do patch -s "$W/src.cu" <"$p"; done
export PATH=/usr/local/cuda/bin:$PATH
cd "$B"
# ninja's own compile line for FILE (its source and object swapped, no depfile) and link line
# for BIN (the library swapped).
compile=$(ninja -t commands "$BIN" | grep -F -- "-c $ROOT/$FILE " | head -1 |
  sed -E "s# -MD -MT [^ ]+ -MF [^ ]+##; s#-c $ROOT/$FILE -o [^ ]+#-c $W/src.cu -o $W/$OBJ#")
link=$(ninja -t commands "$BIN" | tail -1 |
  sed -E "s#^: && ##; s# && :\$##; s#(^| )libmrgptq_cuda.a#\1$W/lib.a#; s#-o $BIN #-o $W/$BIN #")
eval "$compile"
# An object of this build that defines a function the revision's FILE defines itself is left out
# (e.g. launch_options.cpp, which took force_activation_chunks out of act_quant.cu in 558355f).
(cd "$W" && mkdir objs && cd objs && ar x "$B/libmrgptq_cuda.a" && cp "../$OBJ" "$OBJ" &&
  nm -g --defined-only "$OBJ" | awk '$2 ~ /[TDBR]/ {print $3}' | sort -u >../own.txt &&
  for o in ./*.o; do
    [ "$o" = "./$OBJ" ] && continue
    if nm -g --defined-only "$o" | awk '$2 ~ /[TDBR]/ {print $3}' | sort -u | comm -12 - ../own.txt |
      grep -q .; then
      echo "left out ${o#./}: $REV's $FILE defines its functions" && rm "$o"
    fi
  done && ar qc ../lib.a ./*.o && ranlib ../lib.a)
eval "$link"
mkdir -p "$ROOT/build-old"
strip -o "$ROOT/build-old/${BIN}_$NAME" "$W/$BIN"
echo "build-old/${BIN}_$NAME: $BIN with $FILE at $REV${*:+ + $*}"

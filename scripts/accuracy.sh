#!/usr/bin/env bash
# Reproduces docs/ACCURACY.md's stories260K table (issue 3): perplexity on the
# evaluation text for the original model and for every method x format x mode,
# each quantized model calibrated on the calibration text (never the evaluation
# text) and evaluated from the folder `mrgptq quantize` wrote.
#
#   scripts/accuracy.sh [MRGPTQ_BINARY] [SHARED_DIR]   (defaults: build/mrgptq, ../shared)
#
# Prints a Markdown table on standard output; progress on standard error.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/mrgptq}
SHARED=${2:-../shared}
MODEL=$SHARED/models/stories260K
CALIB=$SHARED/data/tinystories-calib.txt
EVAL=$SHARED/data/tinystories-eval.txt
NSAMPLES=${NSAMPLES:-128}
SEQLEN=256
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

ppl() { "$BIN" eval --model "$1" --text "$EVAL" --seqlen $SEQLEN --json 2>/dev/null | tail -1 |
  python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["perplexity"])'; }

echo "original..." >&2
ORIG=$(ppl "$MODEL")
echo "| format | method | W4A16 (weights only) | W4A4 |"
echo "|---|---|---|---|"
echo "| — | original (float32) | $ORIG | $ORIG |"
for fmt in mxfp4 nvfp4; do
  for method in rtn rtn-had gptq mr-gptq; do
    row="| $fmt | $method |"
    for mode in --weights-only ""; do
      echo "$fmt $method ${mode:---w4a4}..." >&2
      "$BIN" quantize --model "$MODEL" --format $fmt --method $method $mode \
        --calib "$CALIB" --nsamples "$NSAMPLES" --seqlen $SEQLEN --seed 0 \
        --out "$WORK/q" --force >/dev/null 2>&1
      row="$row $(ppl "$WORK/q") |"
    done
    echo "$row"
  done
done

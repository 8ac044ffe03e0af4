#!/usr/bin/env bash
# End to end on stories260K: quantize (W4A16 and W4A4, both formats), check
# the compressed-tensors folder with an independent numpy decoder, reload it
# with `mrgptq eval` and get exactly the perplexity measured right after
# quantization; a failure half-way leaves nothing behind; bad inputs give one
# clear error line and write nothing.
set -euo pipefail
BIN=$1 SHARED=$2
HERE=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$SHARED/models/stories260K
CALIB=$SHARED/data/tinystories-calib.txt EVAL=$SHARED/data/tinystories-eval.txt
PY=$("$HERE/scripts/python-env.sh")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
last_json() { tail -n 1 "$1"; }

for spec in "mxfp4 mr-gptq --weights-only" "nvfp4 mr-gptq" "mxfp4 gptq" "nvfp4 rtn-had --weights-only"; do
  set -- $spec
  fmt=$1 method=$2 wo=${3:-}
  out=$tmp/q-$fmt-$method${wo:+-wo}
  "$BIN" quantize --model "$MODEL" --format "$fmt" --method "$method" $wo --calib "$CALIB" \
    --nsamples 32 --eval "$EVAL" --eval-windows 20 --out "$out" --json >"$tmp/q.json" 2>"$tmp/q.err" \
    || { cat "$tmp/q.err"; fail "quantize $spec"; }
  for f in config.json model.safetensors.index.json report.json report.md tokenizer.bin; do
    [ -f "$out/$f" ] || fail "$spec: missing $f"
  done
  "$PY" "$HERE/tests/python/check_export.py" "$out" || fail "$spec: export check"
  "$BIN" eval --model "$out" --text "$EVAL" --max-windows 20 --json >"$tmp/e.json" 2>/dev/null
  "$PY" - "$tmp/q.json" "$tmp/e.json" "$spec" <<'PY'
import json, sys
q = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
e = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
p = q["perplexity"]
print(f"{sys.argv[3]}: original {p['original']:.4f} quantized {p['quantized']:.6f} reloaded {e['perplexity']:.6f}")
assert e["perplexity"] == p["quantized"], "reloaded perplexity differs from the in-memory one"
assert p["original"] < p["quantized"] < 2 * p["original"], "implausible perplexity"
PY
done

# Atomicity: a failure after two blocks leaves neither OUT nor a staging folder.
if MRGPTQ_TEST_FAIL_AFTER_BLOCK=2 "$BIN" quantize --model "$MODEL" --calib "$CALIB" --nsamples 8 \
     --out "$tmp/broken" 2>"$tmp/err"; then fail "injected failure did not fail"; fi
grep -q "mrgptq: error: test failure injected" "$tmp/err" || { cat "$tmp/err"; fail "error message"; }
[ ! -e "$tmp/broken" ] || fail "a failed run left its output"
ls "$tmp" | grep -q 'broken.tmp' && fail "a failed run left its staging folder"

# Bad inputs: one error line, non-zero exit, nothing written.
: >"$tmp/empty.txt"
check_error() {  # expected-substring, then the command
  local want=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then fail "accepted: $*"; fi
  grep -q "$want" "$tmp/err" || { cat "$tmp/err"; fail "message for: $*"; }
  [ "$(grep -c 'mrgptq: error' "$tmp/err")" = 1 ] || fail "not one error line: $*"
}
check_error "file is empty" "$BIN" quantize --model "$MODEL" --calib "$tmp/empty.txt" --out "$tmp/x1"
check_error "not a model folder" "$BIN" quantize --model "$tmp/nope" --calib "$CALIB" --out "$tmp/x2"
check_error "unknown format" "$BIN" quantize --model "$MODEL" --calib "$CALIB" --format int4 --out "$tmp/x3"
check_error "already exists" "$BIN" quantize --model "$MODEL" --calib "$CALIB" --out "$tmp/q-mxfp4-gptq"
check_error "not valid for" "$BIN" quantize --model "$MODEL" --calib "$CALIB" --format nvfp4 --scale floor --out "$tmp/x4"
for x in x1 x2 x3 x4; do [ ! -e "$tmp/$x" ] || fail "$x written"; done
ls "$tmp" | grep -q '\.tmp-' && fail "staging folder left behind"
echo "1 passed, 0 failed"

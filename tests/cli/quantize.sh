#!/usr/bin/env bash
# mrgptq quantize / eval / make-model end to end:
# - stories260K quantized (few calibration windows) reports before/after perplexity, and
#   `mrgptq eval` on the written folder gives exactly the reported quantized perplexity;
# - report.json / report.md list every linear layer;
# - an independent numpy decoder (tests/python/check_compressed_tensors.py) decodes our
#   compressed-tensors tensors and reproduces the reported per-layer errors;
# - a run that fails late (injected failure, SIGTERM) leaves neither OUT nor a staging folder;
# - bad inputs (empty calibration text, missing model, existing OUT) give one error line,
#   a non-zero exit, and write nothing.
set -euo pipefail
BIN=$1 SHARED=$2
HERE=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$SHARED/models/stories260K CALIB=$SHARED/data/tinystories-calib.txt
EVAL=$SHARED/data/tinystories-eval.txt
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
no_leftovers() {  # $1: the OUT that must not exist, nor any staging folder beside it
  [ ! -e "$1" ] || fail "$1 exists after a failed run"
  ! ls -d "$1".tmp-* 2>/dev/null | grep -q . || fail "staging folder left: $(ls -d "$1".tmp-*)"
}
one_error_line() {  # $1: stderr file
  [ "$(grep -c '^mrgptq: error: ' "$1")" = 1 ] || { cat "$1"; fail "expected one error line"; }
}

# 1. Quantize with --eval, then evaluate the folder from disk.
"$BIN" quantize --model "$MODEL" --format nvfp4 --method mr-gptq --calib "$CALIB" \
  --nsamples 8 --seqlen 128 --eval "$EVAL" --eval-windows 4 --json --out "$tmp/q" \
  >"$tmp/q.out" 2>"$tmp/q.err"
"$BIN" eval --model "$tmp/q" --text "$EVAL" --seqlen 256 --max-windows 4 --json \
  >"$tmp/e.out" 2>/dev/null
python3 - "$tmp/q.out" "$tmp/e.out" "$tmp/q" <<'PY'
import json, os, sys
q = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
e = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
d = sys.argv[3]
p = q["perplexity"]
print(f"original {p['original']:.6f}  quantized {p['quantized']:.6f}  eval from disk {e['perplexity']:.6f}")
assert e["perplexity"] == p["quantized"], "eval from disk differs from the reported perplexity"
assert p["quantized"] != p["original"] and p["quantized"] < 2 * p["original"]
r = json.load(open(os.path.join(d, "report.json")))
assert len(r["layers"]) == 5 * 7, len(r["layers"])
assert all(0 < l["rel_error"] < 1 and l["hessian_error"] >= 0 for l in r["layers"])
md = open(os.path.join(d, "report.md")).read()
assert all(l["name"] in md for l in r["layers"]) and "quantized" in md
files = set(os.listdir(d))
for f in ("config.json", "model.safetensors.index.json", "tokenizer.bin", "report.json", "report.md"):
    assert f in files, f
assert not any(".tmp-" in f for f in os.listdir(os.path.dirname(d)))
cfg = json.load(open(os.path.join(d, "config.json")))
assert cfg["architectures"] == ["LlamaForCausalLM"]
assert cfg["quantization_config"]["format"] == "nvfp4-pack-quantized"
PY

# 2. Independent numpy decoding of our tensors (synthetic HF model, padded MXFP4 down_proj).
PY=$("$HERE/scripts/python-env.sh")
"$BIN" make-model --shape tiny --layers 1 --tokenizer "$SHARED/tokenizers/llama2/tokenizer.model" \
  --out "$tmp/tiny" >/dev/null
python3 - "$tmp/tiny" <<'PY'
import json, os, sys
d = sys.argv[1]
c = json.load(open(os.path.join(d, "config.json")))
idx = json.load(open(os.path.join(d, "model.safetensors.index.json")))
assert c["num_hidden_layers"] == 1 and c["vocab_size"] == 32000
assert len(idx["weight_map"]) == 1 + 9 + 2, len(idx["weight_map"])
assert os.path.exists(os.path.join(d, "tokenizer.model"))
PY
for args in "mxfp4 mr-gptq" "nvfp4 gptq" "nvfp4 rtn-had --weights-only"; do
  set -- $args
  "$BIN" quantize --model "$tmp/tiny" --format "$1" --method "$2" ${3:-} --calib "$CALIB" \
    --nsamples 4 --seqlen 64 --out "$tmp/tq" --force >/dev/null 2>&1
  "$PY" "$HERE/tests/python/check_compressed_tensors.py" "$tmp/tq" "$tmp/tiny"
done

# 3. A failure after two blocks: nothing at OUT, no staging folder, one error line.
if MRGPTQ_TEST_FAIL_AFTER_BLOCK=2 "$BIN" quantize --model "$MODEL" --method rtn \
  --calib "$CALIB" --nsamples 2 --seqlen 64 --out "$tmp/fail" 2>"$tmp/fail.err" >/dev/null; then
  fail "injected failure did not fail"
fi
one_error_line "$tmp/fail.err"
no_leftovers "$tmp/fail"

# 4. SIGTERM while quantizing (the staging folder appears after the original model has been
#    evaluated; the quantized evaluation after it keeps the run alive): nothing is left.
"$BIN" quantize --model "$MODEL" --method mr-gptq --calib "$CALIB" --nsamples 64 --seqlen 256 \
  --eval "$EVAL" --out "$tmp/term" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1200); do ls -d "$tmp"/term.tmp-* >/dev/null 2>&1 && break; sleep 0.05; done
ls -d "$tmp"/term.tmp-* >/dev/null 2>&1 || fail "no staging folder appeared"
kill -TERM $pid
if wait $pid; then fail "quantize survived SIGTERM"; fi
no_leftovers "$tmp/term"

# 5. Bad inputs: one error line, non-zero exit, nothing written.
: >"$tmp/empty.txt"
if "$BIN" quantize --model "$MODEL" --calib "$tmp/empty.txt" --out "$tmp/bad1" 2>"$tmp/b1.err"; then
  fail "empty calibration file accepted"
fi
one_error_line "$tmp/b1.err"; grep -q "empty.txt" "$tmp/b1.err" || fail "error does not name the file"
no_leftovers "$tmp/bad1"
if "$BIN" quantize --model "$tmp/no-such-model" --calib "$CALIB" --out "$tmp/bad2" 2>"$tmp/b2.err"; then
  fail "missing model accepted"
fi
one_error_line "$tmp/b2.err"; grep -q "no-such-model" "$tmp/b2.err" || fail "error does not name the model"
no_leftovers "$tmp/bad2"
mkdir "$tmp/exists"; touch "$tmp/exists/keep"
if "$BIN" quantize --model "$MODEL" --calib "$CALIB" --nsamples 2 --seqlen 64 \
  --out "$tmp/exists" 2>"$tmp/b3.err"; then
  fail "existing output overwritten without --force"
fi
one_error_line "$tmp/b3.err"; [ -e "$tmp/exists/keep" ] || fail "existing output touched"
if "$BIN" make-model --shape gpt5 --out "$tmp/bad4" 2>"$tmp/b4.err"; then fail "unknown shape"; fi
one_error_line "$tmp/b4.err"; no_leftovers "$tmp/bad4"
echo "quantize.sh: all checks passed"

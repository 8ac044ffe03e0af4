#!/usr/bin/env bash
# stories260K perplexity on the evaluation text: mrgptq (float32) against an
# independent float64 numpy implementation (tests/python/ref_llama2c.py);
# the token streams must be identical and the perplexities agree to 1e-4.
set -euo pipefail
BIN=$1 SHARED=$2
HERE=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$SHARED/models/stories260K TEXT=$SHARED/data/tinystories-eval.txt
PY=$("$HERE/scripts/python-env.sh")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BIN" eval --model "$MODEL" --text "$TEXT" --seqlen 256 --json --dump-tokens "$tmp/ours.txt" \
  >"$tmp/ours.json"
"$PY" "$HERE/tests/python/ref_llama2c.py" "$MODEL" "$TEXT" 256 --tokens-out "$tmp/ref.txt" \
  >"$tmp/ref.json"
cmp -s "$tmp/ours.txt" "$tmp/ref.txt" || { echo "FAIL: token streams differ"; exit 1; }
"$PY" - "$tmp/ours.json" "$tmp/ref.json" <<'PY'
import json, sys
ours = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
ref = json.loads(open(sys.argv[2]).read())
rel = abs(ours["perplexity"] - ref["perplexity"]) / ref["perplexity"]
print(f"mrgptq {ours['perplexity']:.8f}  float64 reference {ref['perplexity']:.8f}  rel {rel:.2e}  "
      f"tokens {ours['tokens']}/{ref['tokens']}  predicted {ours['predicted']}/{ref['predicted']}")
assert ours["tokens"] == ref["tokens"] and ours["predicted"] == ref["predicted"]
assert rel < 1e-4, "perplexity differs by more than 1e-4 relative"
PY

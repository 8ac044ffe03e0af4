#!/usr/bin/env bash
# CLI test of `mrgptq qtensor`: quantizes synthetic layers (written by the hidden
# `mrgptq demo --dump-layers`) in F32, BF16 and F16, reads the outputs back with
# an independent stdlib-only Python safetensors parser, decodes the packed codes
# and scales by hand and compares with the stored dequantized weight, and checks
# the error messages of bad inputs.
#   usage: qtensor.sh MRGPTQ_BINARY SHARED_DIR
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" demo --dump-layers "$tmp/in.safetensors" --layers 3 --seed 11 >/dev/null

# Python helper: read a safetensors file with struct/json only.
cat >"$tmp/st.py" <<'EOF'
import json, math, struct, sys

def read(path):
    b = open(path, 'rb').read()
    n, = struct.unpack('<Q', b[:8])
    assert n % 8 == 0, 'header not padded to 8 bytes'
    h = json.loads(b[8:8 + n])
    meta = h.pop('__metadata__', {})
    data = b[8 + n:]
    return h, meta, data

def floats(h, data, name):
    t = h[name]
    s, e = t['data_offsets']
    raw = data[s:e]
    if t['dtype'] == 'F32':
        return list(struct.unpack('<%df' % (len(raw) // 4), raw))
    if t['dtype'] == 'F16':
        return list(struct.unpack('<%de' % (len(raw) // 2), raw))
    if t['dtype'] == 'BF16':
        u = struct.unpack('<%dH' % (len(raw) // 2), raw)
        return [struct.unpack('<f', struct.pack('<I', x << 16))[0] for x in u]
    raise ValueError(t['dtype'])

E2M1 = [0, 0.5, 1, 1.5, 2, 3, 4, 6]

def e2m1(c):
    v = E2M1[c & 7]
    return -v if c & 8 else v

def e4m3(b):  # the "fn" variant: bias 7, no infinities
    s = -1.0 if b & 0x80 else 1.0
    e, m = (b >> 3) & 15, b & 7
    if e == 15 and m == 7:
        return math.nan
    return s * (m / 8 * 2.0 ** -6 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7))

def f32(x):  # round a Python float to float32
    return struct.unpack('<f', struct.pack('<f', x))[0]
EOF

# check_output OUT IN TENSOR FORMAT METHOD JSON: names, dtypes, shapes, metadata,
# hand decoding (methods without rotation) and the reported relative error.
check_output() {
  python3 - "$@" <<'EOF'
import json, math, sys
sys.path.insert(0, sys.argv[1].rsplit('/', 1)[0])
import st
out, inp, name, fmt, method, report = sys.argv[1:7]
h, meta, data = st.read(out)
hi, _, di = st.read(inp)
rows, cols = hi[name]['shape']
group = 32 if fmt == 'mxfp4' else 16
padded = int(meta['padded_cols'])
assert padded % group == 0 and padded >= cols, meta
expect = {name + '_packed': ('U8', [rows, padded // 2]),
          name + '_scale': ('U8' if fmt == 'mxfp4' else 'F8_E4M3', [rows, padded // group]),
          name + '_dequant': ('F32', [rows, cols])}
if fmt == 'nvfp4':
    expect[name + '_global_scale'] = ('F32', [1])
assert set(h) == set(expect), (sorted(h), sorted(expect))
for k, (dt, shape) in expect.items():
    assert h[k]['dtype'] == dt and h[k]['shape'] == shape, (k, h[k])
assert meta['format'] == fmt and meta['method'] == method, meta
assert meta['original_cols'] == str(cols), meta
assert meta['quant_format'] == fmt + '-pack-quantized', meta
W = st.floats(hi, di, name)
D = st.floats(h, data, name + '_dequant')
if method in ('rtn', 'gptq'):
    # Decode codes and scales by hand: element 2j in the low nibble, 2j+1 in the high.
    ps, _ = h[name + '_packed']['data_offsets']
    ss, _ = h[name + '_scale']['data_offsets']
    G = st.floats(h, data, name + '_global_scale')[0] if fmt == 'nvfp4' else 1.0
    gpr = padded // group
    bad = 0
    for r in range(min(rows, 64)):  # the first rows: pure Python is slow
        for c in range(cols):
            byte = data[ps + r * padded // 2 + c // 2]
            code = byte & 15 if c % 2 == 0 else byte >> 4
            sb = data[ss + r * gpr + c // group]
            m = 2.0 ** (sb - 127) if fmt == 'mxfp4' else st.f32(st.e4m3(sb) / G)
            if st.f32(st.e2m1(code) * m) != D[r * cols + c]:
                bad += 1
    assert bad == 0, '%d elements differ from the hand decoding' % bad
num = sum((a - b) ** 2 for a, b in zip(W, D))
den = sum(a * a for a in W)
rel = math.sqrt(num / den)
rep = json.loads(open(report).read().strip().splitlines()[-1])
assert abs(rep['relative_error'] - rel) <= 1e-4 * rel + 1e-9, (rep['relative_error'], rel)
# GPTQ trades weight error for output error: its weight error may be large.
assert 0.02 < rel < 0.6, 'implausible relative error %g' % rel
print('ok %s %s %s rel=%.5f' % (name, fmt, method, rel))
EOF
}

in=$tmp/in.safetensors
# F32 weight, every method, both formats (gptq/mr-gptq with the matching Hessian).
for fmt in mxfp4 nvfp4; do
  for method in rtn rtn-had gptq mr-gptq; do
    out=$tmp/q_${fmt}_${method}.safetensors
    hess=()
    case $method in gptq | mr-gptq) hess=(--hessian "$in" --hessian-tensor demo.0.hessian) ;; esac
    "$bin" qtensor --input "$in" --tensor demo.0.weight --format $fmt --method $method \
      "${hess[@]}" --output "$out" --json >"$tmp/report.json"
    check_output "$out" "$in" demo.0.weight $fmt $method "$tmp/report.json"
    if [ ${#hess[@]} -gt 0 ]; then
      grep -q '"hessian_relative_error"' "$tmp/report.json" || fail "no Hessian error in the report"
    fi
  done
done

# BF16 and F16 inputs, a scale rule, a rotation block and signs, act-order off.
"$bin" qtensor --input "$in" --tensor demo.1.weight --format mxfp4 --method rtn --scale ceil \
  --output "$tmp/b.safetensors" --json >"$tmp/report.json"
check_output "$tmp/b.safetensors" "$in" demo.1.weight mxfp4 rtn "$tmp/report.json"
"$bin" qtensor --input "$in" --tensor demo.2.weight --format nvfp4 --method mr-gptq \
  --rotation-block 64 --seed 5 --no-act-order --damp 0.05 --hessian "$in" \
  --hessian-tensor demo.2.hessian --output "$tmp/c.safetensors" --json >"$tmp/report.json"
check_output "$tmp/c.safetensors" "$in" demo.2.weight nvfp4 mr-gptq "$tmp/report.json"
grep -q '"rotation_block":64' "$tmp/report.json" || fail "rotation block 64 not reported"

# The text report names both errors.
"$bin" qtensor --input "$in" --tensor demo.0.weight --format nvfp4 --method gptq \
  --hessian "$in" --hessian-tensor demo.0.hessian --output "$tmp/t.safetensors" >"$tmp/text"
grep -q "relative error" "$tmp/text" && grep -q "Hessian-weighted" "$tmp/text" ||
  { cat "$tmp/text"; fail "text report incomplete"; }

# ----------------------------------------------------------- bad inputs --
# expect_error PATTERN ARGS...: exit status non-zero, one 'mrgptq: error:' line
# matching PATTERN, and no output file written.
expect_error() {
  local pattern=$1
  shift
  rm -f "$tmp/err.safetensors"
  if "$bin" qtensor "$@" >"$tmp/stdout" 2>"$tmp/stderr"; then
    fail "succeeded but should fail with '$pattern': $*"
  fi
  grep -q -- "$pattern" "$tmp/stderr" || { cat "$tmp/stderr"; fail "no '$pattern' in the error"; }
  [ ! -e "$tmp/err.safetensors" ] || fail "output written despite the error: $*"
  ls "$tmp" | grep -q '\.tmp\.' && fail "temporary file left behind" || true
}
base=(--input "$in" --output "$tmp/err.safetensors")
expect_error "no tensor named 'nope'.*demo.0.weight" "${base[@]}" --tensor nope --format mxfp4 --method rtn
expect_error "unknown" "${base[@]}" --tensor demo.0.weight --format fp8 --method rtn
expect_error "unknown" "${base[@]}" --tensor demo.0.weight --format mxfp4 --method awq
expect_error "unknown" "${base[@]}" --tensor demo.0.weight --format mxfp4 --method rtn --scale best
expect_error "'absmax' is not valid for mxfp4" "${base[@]}" --tensor demo.0.weight --format mxfp4 --method rtn --scale absmax
expect_error "'floor' is not valid for nvfp4" "${base[@]}" --tensor demo.0.weight --format nvfp4 --method rtn --scale floor
expect_error "needs a Hessian" "${base[@]}" --tensor demo.0.weight --format mxfp4 --method gptq
expect_error "Hessian 'demo.1.hessian' has shape 512x512.*1024 input columns" "${base[@]}" \
  --tensor demo.0.weight --format mxfp4 --method gptq --hessian "$in" --hessian-tensor demo.1.hessian

# A 1-D tensor, an integer tensor and a truncated file, written with Python.
python3 - "$tmp" <<'EOF'
import json, struct, sys
d = sys.argv[1]
def write(path, tensors):
    hdr, blob = {}, b''
    for name, (dt, shape, raw) in tensors.items():
        hdr[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(hdr).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + blob)
write(d + '/small.safetensors', {
    'vec': ('F32', [64], struct.pack('<64f', *range(64))),
    'ints': ('I32', [2, 32], struct.pack('<64i', *range(64))),
    'nan': ('F32', [1, 32], struct.pack('<32f', *([1.0] * 5 + [float('nan')] + [1.0] * 26)))})
import random
rng = random.Random(1)
odd = [rng.gauss(0, 1) for _ in range(48 * 172)]  # 172 columns: not a multiple of 16 or 32
write(d + '/odd.safetensors', {'odd.weight': ('F32', [48, 172], struct.pack('<%df' % len(odd), *odd))})
b = open(d + '/small.safetensors', 'rb').read()
open(d + '/trunc.safetensors', 'wb').write(b[:len(b) - 100])
EOF
small=(--input "$tmp/small.safetensors" --output "$tmp/err.safetensors" --format mxfp4 --method rtn)
expect_error "'vec' has rank 1" "${small[@]}" --tensor vec
expect_error "'ints' has dtype I32" "${small[@]}" --tensor ints
expect_error "row 0, column 5" "${small[@]}" --tensor nan
expect_error "trunc.safetensors: .*outside the data area" --input "$tmp/trunc.safetensors" \
  --output "$tmp/err.safetensors" --tensor vec --format mxfp4 --method rtn

# An input dimension that is not a multiple of the group is padded, never rejected.
for fm in "mxfp4 rtn" "nvfp4 rtn" "nvfp4 rtn-had" "mxfp4 rtn-had"; do
  set -- $fm
  "$bin" qtensor --input "$tmp/odd.safetensors" --tensor odd.weight --format $1 --method $2 \
    --output "$tmp/odd_q.safetensors" --json >"$tmp/report.json"
  check_output "$tmp/odd_q.safetensors" "$tmp/odd.safetensors" odd.weight $1 $2 "$tmp/report.json"
done

# --help documents every option.
"$bin" qtensor --help >"$tmp/help"
for opt in --input --tensor --format --method --scale --rotation-block --seed --act-order \
  --no-act-order --damp --hessian --hessian-tensor --output --json; do
  grep -q -- "$opt" "$tmp/help" || fail "--help does not mention $opt"
done
echo "qtensor CLI tests passed"

#!/usr/bin/env python3
"""Independent check of an `mrgptq quantize` output folder (compressed-tensors layout).

    check_compressed_tensors.py QUANTIZED_DIR ORIGINAL_HF_DIR

Reads the quantized shards with the `safetensors` package (U8 / F32 tensors) and
with a raw reader of its own (F8_E4M3 scales, BF16 originals, which numpy has no
dtype for), decodes every quantized linear with numpy alone -- E2M1 codes
(low nibble first), E8M0 scales 2^(s-127) or E4M3 scales / weight_global_scale,
the block Hadamard rotation undone from config.json's "mrgptq" section, padding
cropped -- and checks that ||W - W_hat|| / ||W|| against the original weights
equals the rel_error report.json gives for that layer (to float rounding).
compressed-tensors itself needs torch, too heavy for CI: this decoder is
written from the format definitions instead.
"""
import json
import os
import struct
import sys

import numpy as np
from safetensors.numpy import load_file

E2M1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6], np.float64)


def e4m3(b):
    b = b.astype(np.int64)
    s = np.where(b & 0x80, -1.0, 1.0)
    e = (b >> 3) & 15
    m = b & 7
    v = np.where(e == 0, m / 8.0 * 2.0 ** -6, (1 + m / 8.0) * 2.0 ** (e - 7))
    assert not np.any((b & 0x7F) == 0x7F), "NaN E4M3 scale"
    return s * v


def e8m0(b):
    assert not np.any(b == 255), "NaN E8M0 scale"
    return 2.0 ** (b.astype(np.float64) - 127)


def raw_tensors(path):
    """name -> (dtype, shape, bytes), straight from the safetensors layout."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = (t["dtype"], t["shape"], data[a:b])
    return out


def as_f32(dtype, shape, raw):
    if dtype == "F32":
        return np.frombuffer(raw, np.float32).reshape(shape).astype(np.float64)
    if dtype == "BF16":
        u = np.frombuffer(raw, np.uint16).astype(np.uint32) << 16
        return u.view(np.float32).reshape(shape).astype(np.float64)
    raise ValueError(dtype)


def sylvester(b):
    h = np.ones((1, 1))
    while h.shape[0] < b:
        h = np.block([[h, h], [h, -h]])
    return h / np.sqrt(b)


def folder_tensors(d):
    index = json.load(open(os.path.join(d, "model.safetensors.index.json")))
    shards = sorted(set(index["weight_map"].values()))
    raw, lib = {}, {}
    for s in shards:
        raw.update(raw_tensors(os.path.join(d, s)))
    for s in shards:
        try:
            lib.update(load_file(os.path.join(d, s)))
        except Exception:  # F8_E4M3 is not a numpy dtype: those shards are read raw only
            pass
    return index, raw, lib


def main():
    qdir, odir = sys.argv[1], sys.argv[2]
    cfg = json.load(open(os.path.join(qdir, "config.json")))
    qc, mr = cfg["quantization_config"], cfg["mrgptq"]
    fmt = mr["format"]
    group = qc["config_groups"]["group_0"]["weights"]["group_size"]
    assert (fmt, group, qc["format"]) in (("mxfp4", 32, "mxfp4-pack-quantized"),
                                          ("nvfp4", 16, "nvfp4-pack-quantized"))
    block, signs = mr["rotation"]["block"], mr["rotation"]["sign_seed"]
    assert signs is None, "this checker handles unsigned rotations only"
    report = json.load(open(os.path.join(qdir, "report.json")))
    _, qraw, qlib = folder_tensors(qdir)
    _, oraw, _ = folder_tensors(odir)
    worst = 0.0
    for layer in report["layers"]:
        n = layer["name"]
        assert n + ".weight" not in qraw, n + ".weight should be replaced by weight_packed"
        dt, shape, packed = qraw[n + ".weight_packed"]
        assert dt == "U8"
        rows, half = shape
        if n + ".weight_packed" in qlib:  # the safetensors package reads the same bytes
            assert qlib[n + ".weight_packed"].tobytes() == packed
        p = np.frombuffer(packed, np.uint8).reshape(rows, half)
        codes = np.empty((rows, 2 * half), np.uint8)
        codes[:, 0::2], codes[:, 1::2] = p & 15, p >> 4
        sdt, sshape, sraw = qraw[n + ".weight_scale"]
        assert sshape == [rows, 2 * half // group], (n, sshape)
        s = np.frombuffer(sraw, np.uint8).reshape(sshape)
        if fmt == "mxfp4":
            assert sdt == "U8"
            mult = e8m0(s)
        else:
            assert sdt == "F8_E4M3"
            g = as_f32(*qraw[n + ".weight_global_scale"])
            assert g.shape == (1,)
            mult = e4m3(s) / g[0]
        w_rot = E2M1[codes] * np.repeat(mult, group, axis=1)
        if block:  # codes are W R with R = blockdiag(H_b): W = (W R) R^T, H_b symmetric
            h = sylvester(block)
            w_rot = (w_rot.reshape(rows, -1, block) @ h.T).reshape(rows, -1)
        cols = layer["cols"]
        # Without a rotation the zero padding quantizes to zero codes. With one, a
        # Hadamard block straddling the edge mixes padding and weights, so the
        # padded columns come back as (small) quantization error, which the layer
        # never sees: its input is zero-padded.
        if not block:
            assert not np.any(w_rot[:, cols:]), n + ": padded columns decode to non-zero"
        w_hat = w_rot[:, :cols]
        w = as_f32(*oraw[n + ".weight"])
        rel = np.linalg.norm(w - w_hat) / np.linalg.norm(w)
        d = abs(rel - layer["rel_error"]) / layer["rel_error"]
        worst = max(worst, d)
        if d > 1e-4:
            sys.exit(f"FAIL {n}: numpy-decoded rel error {rel:.7f}, report says "
                     f"{layer['rel_error']:.7f}")
    print(f"ok: {len(report['layers'])} layers ({fmt}, rotation block {block}) decoded by numpy; "
          f"rel errors match report.json to {worst:.1e}")


if __name__ == "__main__":
    main()

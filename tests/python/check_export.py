"""Checks a folder written by `mrgptq quantize` with tools that share no code
with mrgptq: the safetensors package reads every shard (a plain header parser
where numpy has no dtype, F8_E4M3), and numpy decodes the
FP4 codes (E2M1 table, E8M0 = 2^(s-127), E4M3 from its bit fields, divided by
the global scale) to verify the layout compressed-tensors expects.

usage: check_export.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import struct

from safetensors.numpy import load_file

DTYPES = {"U8": np.uint8, "F8_E4M3": np.uint8, "F32": np.float32, "BF16": np.uint16, "F16": np.float16}


def load_shard(path):
    """safetensors' own loader, or raw bytes for F8_E4M3, which numpy lacks."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    if not any(v.get("dtype") == "F8_E4M3" for k, v in header.items() if k != "__metadata__"):
        return load_file(path)
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=DTYPES[v["dtype"]]).reshape(v["shape"])
    return out

E2M1 = np.array([0, .5, 1, 1.5, 2, 3, 4, 6, -0., -.5, -1, -1.5, -2, -3, -4, -6], dtype=np.float64)


def e4m3(b):
    b = b.astype(np.int64)
    s, e, m = b >> 7, (b >> 3) & 15, b & 7
    v = np.where(e == 0, m / 8.0 * 2.0 ** -6, (1 + m / 8.0) * 2.0 ** (e - 7))
    assert not np.any((e == 15) & (m == 7)), "NaN scale"
    return np.where(s == 1, -v, v)


def main(out):
    cfg = json.load(open(os.path.join(out, "config.json")))
    qc = cfg["quantization_config"]
    fmt = cfg["mrgptq"]["format"]
    assert qc["quant_method"] == "compressed-tensors"
    assert qc["format"] == f"{fmt}-pack-quantized", qc["format"]
    group = 16 if fmt == "nvfp4" else 32
    assert qc["config_groups"]["group_0"]["weights"]["group_size"] == group
    index = json.load(open(os.path.join(out, "model.safetensors.index.json")))
    tensors = {}
    for shard in sorted(set(index["weight_map"].values())):
        tensors.update(load_shard(os.path.join(out, shard)))
    assert set(tensors) == set(index["weight_map"]), "index and shards disagree"
    hidden, inter = cfg["hidden_size"], cfg["intermediate_size"]
    n = 0
    for name, packed in tensors.items():
        if not name.endswith(".weight_packed"):
            continue
        p = name[: -len(".weight_packed")]
        assert packed.dtype == np.uint8 and packed.ndim == 2
        rows, half = packed.shape
        cols = 2 * half
        assert cols % group == 0
        in_features = inter if p.endswith("down_proj") else hidden
        assert cols >= in_features and cols - in_features < max(group, 128)
        scale = tensors[p + ".weight_scale"]
        assert scale.shape == (rows, cols // group), (p, scale.shape)
        codes = np.stack([packed & 15, packed >> 4], axis=-1).reshape(rows, cols)
        vals = E2M1[codes]
        if fmt == "mxfp4":
            assert scale.dtype == np.uint8
            assert not np.any(scale == 255), "E8M0 NaN"
            mult = 2.0 ** (scale.astype(np.float64) - 127)
        else:
            g = tensors[p + ".weight_global_scale"]
            assert g.shape == (1,) and g.dtype == np.float32 and g[0] > 0
            raw = scale.view(np.uint8)
            mult = e4m3(raw) / np.float64(g[0])
            if not cfg["mrgptq"]["weights_only"]:
                assert tensors[p + ".input_global_scale"][0] > 0
        w = vals * np.repeat(mult, group, axis=1)
        assert np.all(np.isfinite(w)) and np.abs(w).max() > 0, p
        n += 1
    assert n == 7 * cfg["num_hidden_layers"], f"{n} quantized linears"
    assert "model.embed_tokens.weight" in tensors and "model.norm.weight" in tensors
    print(f"ok: {n} quantized linears in {fmt}, layout and codes decode independently")


if __name__ == "__main__":
    main(sys.argv[1])

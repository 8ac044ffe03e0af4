"""Independent float64 reference for a llama2.c model: checkpoint parser,
tokenizer.bin encoder and forward pass in numpy, and the perplexity protocol
(whole file encoded once with BOS, consecutive non-overlapping windows of
seqlen, mean NLL of tokens 1..L-1 of each window).

Shares no code with mrgptq. The tokenizer follows run.c's encode() literally
(quadratic rescans), applied to segments that start at each space: a piece
never holds a space after its first byte (checked below), so no merge can
cross such a boundary and the per-segment result equals the whole-text one.

usage: ref_llama2c.py MODEL_DIR TEXT SEQLEN [MAX_WINDOWS] [--tokens-out FILE]
prints one JSON object {perplexity, tokens, predicted}.
"""
import glob
import json
import os
import struct
import sys

import numpy as np


def load_checkpoint(path):
    raw = open(path, "rb").read()
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack("<7i", raw[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    hd = dim // heads
    kv = kv_heads * hd
    w = np.frombuffer(raw, dtype="<f4", offset=28).astype(np.float64)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = w[pos:pos + n].reshape(shape)
        pos += n
        return out

    m = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads,
             vocab=vocab, hd=hd)
    m["emb"] = take(vocab, dim)
    m["rms_att"] = take(layers, dim)
    m["wq"] = take(layers, dim, dim)
    m["wk"] = take(layers, kv, dim)
    m["wv"] = take(layers, kv, dim)
    m["wo"] = take(layers, dim, dim)
    m["rms_ffn"] = take(layers, dim)
    m["w1"] = take(layers, hidden, dim)
    m["w2"] = take(layers, dim, hidden)
    m["w3"] = take(layers, hidden, dim)
    m["rms_final"] = take(dim)
    take(seq_len, hd)  # freq_cis real + imag
    m["wcls"] = m["emb"] if shared else take(vocab, dim)
    assert pos == w.size, "checkpoint size disagrees with its header"
    return m


def load_tokenizer(path, vocab):
    raw = open(path, "rb").read()
    off = 4
    pieces, scores = [], []
    for _ in range(vocab):
        score, n = struct.unpack_from("<fi", raw, off)
        off += 8
        pieces.append(raw[off:off + n])
        off += n
        scores.append(score)
    ids = {}
    for i, p in enumerate(pieces):
        ids.setdefault(p, i)
    for p in pieces:
        assert b" " not in p[1:], "a piece holds an inner space: segmenting would be unsafe"
    return pieces, scores, ids


def encode_segment(seg, pieces, scores, ids):
    toks = []
    i = 0
    while i < len(seg):
        n = 1
        while i + n < len(seg) and n < 4 and (seg[i + n] & 0xC0) == 0x80:
            n += 1
        cp = seg[i:i + n]
        if cp in ids:
            toks.append(ids[cp])
        else:
            toks.extend(b + 3 for b in cp)
        i += n
    while True:  # run.c: merge the best-scoring pair, leftmost on ties
        best, best_i, best_id = -1e10, -1, -1
        for j in range(len(toks) - 1):
            m = ids.get(pieces[toks[j]] + pieces[toks[j + 1]])
            if m is not None and scores[m] > best:
                best, best_i, best_id = scores[m], j, m
        if best_i < 0:
            return toks
        toks[best_i:best_i + 2] = [best_id]


def encode(text, pieces, scores, ids):
    data = b" " + text  # run.c's dummy prefix piece, then the text
    bounds = [i for i in range(len(data)) if data[i:i + 1] == b" "] + [len(data)]
    out = [1]  # BOS
    for a, b in zip(bounds[:-1], bounds[1:]):
        out += encode_segment(data[a:b], pieces, scores, ids)
    return out


def rmsnorm(x, w):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + 1e-5) * w


def forward(m, toks):
    """float64 logits [T, vocab] of one window."""
    T, hd, H, KVH = len(toks), m["hd"], m["heads"], m["kv_heads"]
    x = m["emb"][toks]
    pos = np.arange(T)[:, None]
    freq = 1.0 / (10000.0 ** (np.arange(0, hd, 2) / hd))
    ang = pos * freq[None, :]
    cos, sin = np.cos(ang), np.sin(ang)

    def rope(v, nh):
        v = v.reshape(T, nh, hd // 2, 2)
        a, b = v[..., 0], v[..., 1]
        c, s = cos[:, None, :], sin[:, None, :]
        return np.stack([a * c - b * s, a * s + b * c], -1).reshape(T, nh, hd)

    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(m["layers"]):
        h = rmsnorm(x, m["rms_att"][l])
        q = rope(h @ m["wq"][l].T, H)
        k = rope(h @ m["wk"][l].T, KVH)
        v = (h @ m["wv"][l].T).reshape(T, KVH, hd)
        rep = H // KVH
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        att = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + mask
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum("hts,shd->thd", att, v).reshape(T, H * hd)
        x = x + o @ m["wo"][l].T
        h = rmsnorm(x, m["rms_ffn"][l])
        g = h @ m["w1"][l].T
        x = x + ((g / (1 + np.exp(-g))) * (h @ m["w3"][l].T)) @ m["w2"][l].T
    return rmsnorm(x, m["rms_final"]) @ m["wcls"].T


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tokens_out = None
    if "--tokens-out" in sys.argv:
        tokens_out = sys.argv[sys.argv.index("--tokens-out") + 1]
        args.remove(tokens_out)
    model_dir, text_path, seqlen = args[0], args[1], int(args[2])
    max_windows = int(args[3]) if len(args) > 3 else 0
    ckpt = [p for p in glob.glob(os.path.join(model_dir, "*.bin"))
            if os.path.basename(p) != "tokenizer.bin"][0]
    m = load_checkpoint(ckpt)
    pieces, scores, ids = load_tokenizer(os.path.join(model_dir, "tokenizer.bin"), m["vocab"])
    toks = encode(open(text_path, "rb").read(), pieces, scores, ids)
    if tokens_out:
        with open(tokens_out, "w") as f:
            f.write(" ".join(map(str, toks)) + "\n")
    windows = len(toks) // seqlen
    if max_windows:
        windows = min(windows, max_windows)
    nll = 0.0
    for w in range(windows):
        win = toks[w * seqlen:(w + 1) * seqlen]
        logits = forward(m, win)[:-1]
        mx = logits.max(-1, keepdims=True)
        lse = np.log(np.exp(logits - mx).sum(-1)) + mx[:, 0]
        nll += float(np.sum(lse - logits[np.arange(seqlen - 1), win[1:]]))
    predicted = windows * (seqlen - 1)
    print(json.dumps({"perplexity": float(np.exp(nll / predicted)), "tokens": len(toks),
                      "predicted": predicted}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fit and check the W4A16 warpgroup kernel's config model (modelled_config, w4a16_wgmma.cu).

  python3 scripts/fit-config-model.py [FIT.txt [CHECK.txt]]

FIT and CHECK are outputs of `bench_w4a16_tc --wg --ab -1,6,11,16,17,22,8,12,20 --ms ...`
(defaults: docs/kernels/h200/s26-run3-wg-ab.txt and s26-run4-wg-ab.txt, H200, 132 SMs). Prints
the rates for kTileCosts, then for the cases above M = 576 of each file: the model's pick against
the fastest candidate and against the rules the model replaced there (w4a16_wgmma_config_for
before 1276c74), from the candidates' times in the same call-for-call rounds; FIT also fitted on
three shapes and checked on the fourth. Standard library only.
"""
import math
import re
import sys

SMS = 132
MODEL_MIN_M = 576
# config: (activation rows, form), as kTileCosts and busiest_sm_rows have them.
FORMS = {6: (256, "plain"), 11: (192, "plain"), 16: (256, "persistent"),
         17: (192, "persistent"), 22: (160, "persistent"), 8: (256, "cluster2"),
         12: (192, "cluster2"), 20: (160, "cluster2")}


def busiest_sm_rows(cfg, M, N, K):
    rows, form = FORMS[cfg]
    tiles = -(-N // 128) * -(-M // rows)
    if form == "plain":
        return -(-tiles // SMS) * rows
    if form == "cluster2":
        return -(-2 * tiles // SMS) * rows / 2
    tail = tiles - (tiles - 1) // SMS * SMS  # PWork: the last wave, cut along K
    split = min(-(-K // 128), max(1, SMS // tail))
    return rows * ((tiles - tail) / SMS + 1 / split)


def old_rules(M, N):
    """w4a16_wgmma_config_for above M = 128 before 1276c74 (grids of more than 132 64x64 tiles)."""
    r128 = -(-N // 128)
    p192, p256 = -(-M // 192) * 192, -(-M // 256) * 256
    n192 = 8 * p192 <= 7 * p256
    tiles = r128 * (p192 // 192 if n192 else p256 // 256)
    if n192:
        k = 0 if tiles * 4 <= SMS else 1 if tiles <= SMS // 2 else 2
        return ([21, 20, 22] if -(-M // 160) == -(-M // 192) else [13, 12, 17])[k]
    if tiles * 4 <= SMS:
        return 9

    def fill(t):
        return t / (-(-t // SMS) * SMS)
    if tiles <= SMS // 2 or (fill(tiles) < 0.8 and fill(2 * tiles) >= fill(tiles) + 0.15):
        return 8
    last = tiles - (tiles - 1) // SMS * SMS
    return 16 if tiles > SMS and last <= SMS // 2 else 6


def load(path):
    """(N, K, M, {config: us}) for each row of a --wg --ab output ('(auto)' columns left out)."""
    cases = []
    for line in open(path):
        m = re.match(r"^ *(\d+)x(\d+) +(\d+) +[\d.]+ \|", line)
        if not m:
            continue
        t = {int(c): float(us) for c, auto, us in
             re.findall(r"cfg +(\d+)( \(auto\))? +([\d.]+) us", line) if not auto}
        cases.append((int(m.group(1)), int(m.group(2)), int(m.group(3)), t))
    return cases


def fit(cases, free_fixed=False):
    """Per config, the rate (and with free_fixed a fixed cost) minimising the relative error of
    rate * busiest_sm_rows * K / 1e6 (+ fixed) against the measured time."""
    out = {}
    for c in FORMS:
        xy = [(busiest_sm_rows(c, M, N, K) * K / 1e6, t[c]) for N, K, M, t in cases if c in t]
        if free_fixed:  # least squares of (o + a x) / y - 1 over (o, a)
            s11 = sum(1 / y ** 2 for _, y in xy)
            s12 = sum(x / y ** 2 for x, y in xy)
            s22 = sum((x / y) ** 2 for x, y in xy)
            t1, t2 = sum(1 / y for _, y in xy), sum(x / y for x, y in xy)
            det = s11 * s22 - s12 * s12
            out[c] = ((s11 * t2 - s12 * t1) / det, (t1 * s22 - t2 * s12) / det)
        else:
            out[c] = (sum(x / y for x, y in xy) / sum((x / y) ** 2 for x, y in xy), 0.0)
    return out


def pick(rates, M, N, K):
    return min(FORMS, key=lambda c: rates[c][0] * busiest_sm_rows(c, M, N, K) * K)


def check(cases, rates, title, verbose=False):
    cases = [c for c in cases if c[2] > MODEL_MIN_M]
    of_best, of_old = [], []
    for N, K, M, t in cases:
        p, old = pick(rates, M, N, K), old_rules(M, N)
        best = min(t[c] for c in FORMS)
        of_best.append(t[p] / best)
        of_old.append(t[p] / t[old])
        if verbose:
            print(f"  {N}x{K} M = {M}: model {p} {t[p]:.1f} us, rules {old} {t[old]:.1f}, "
                  f"fastest {best:.1f}")
    geo = math.exp(sum(map(math.log, of_old)) / len(of_old))
    print(f"{title}: {len(cases)} cases; pick / fastest {sum(of_best) / len(of_best):.4f} on "
          f"average, {max(of_best):.3f} at worst; pick / rules {geo:.4f} (geometric mean), "
          f"{min(of_old):.3f} to {max(of_old):.3f}")


def main():
    fit_path = sys.argv[1] if len(sys.argv) > 1 else "docs/kernels/h200/s26-run3-wg-ab.txt"
    check_path = sys.argv[2] if len(sys.argv) > 2 else "docs/kernels/h200/s26-run4-wg-ab.txt"
    cases = load(fit_path)
    free = fit(cases, free_fixed=True)
    print("fitted with a fixed cost too (us):",
          ", ".join(f"{c}: {o:.1f}" for c, (_, o) in free.items()),
          "-- none positive, so the model keeps the rates alone")
    rates = fit(cases)
    print("kTileCosts rates:", ", ".join(f"{c}: {a:.2f}" for c, (a, _) in rates.items()))
    check(cases, rates, f"in sample ({fit_path})")
    for shape in sorted({(N, K) for N, K, _, _ in cases}):
        rest = [c for c in cases if (c[0], c[1]) != shape]
        held = [c for c in cases if (c[0], c[1]) == shape]
        check(held, fit(rest), f"  fitted without {shape[0]}x{shape[1]}, checked on it")
    check(load(check_path), rates, f"out of sample ({check_path})", verbose=True)


if __name__ == "__main__":
    main()

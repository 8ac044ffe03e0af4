#!/usr/bin/env python3
"""Per-cell times and ratios of an A/B log in alternating processes (ab_rounds in
scripts/device-prelude.sh, or gpu.sh's ab stage): the rows of bench_w4a16_tc (or any table whose
rows are `N x K  M  base | t ratio | t ratio ...`) under `=== round R: SIDE` headers.

  scripts/ab-ratios.py LOG BASE NEW [--section TEXT] [--m LO-HI]

For every (shape, M) row and every timed column: the mean over rounds of BASE's time and of
NEW's, and NEW / BASE; then the geometric mean of those ratios per column. --section keeps only
the rows after a line containing TEXT (e.g. '--chain 8') and before the next '#####' line;
--m only the rows with LO <= M <= HI. Standard library only.
"""
import math
import re
import signal
import sys
from collections import defaultdict


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    log, base, new = argv[1], argv[2], argv[3]
    section = argv[argv.index("--section") + 1] if "--section" in argv else None
    m_lo, m_hi = 0, 1 << 62
    if "--m" in argv:
        m_lo, m_hi = (int(v) for v in argv[argv.index("--m") + 1].split("-"))
    on = section is None
    side = None
    times = defaultdict(list)  # (shape, M, column, side) -> [time per round]
    columns = 0
    for line in open(log, encoding="utf-8"):
        if section is not None:
            if section in line:
                on = True
                continue
            if line.startswith("#####"):
                on = False
        if not on:
            continue
        m = re.match(r"=== round \d+: (\S+)", line)
        if m:
            side = m.group(1).rstrip(":")
            continue
        m = re.match(r"\s*(\d+x\d+)\s+(\d+)\s+[\d.]+\s*((?:\|\s*[\d.]+\s+[\d.]+x\s*)+)", line)
        if not m or side is None or not m_lo <= int(m.group(2)) <= m_hi:
            continue
        cells = re.findall(r"\|\s*([\d.]+)\s+[\d.]+x", m.group(3))
        columns = max(columns, len(cells))
        for c, t in enumerate(cells):
            times[(m.group(1), int(m.group(2)), c, side)].append(float(t))
    keys = sorted({(s, mm) for (s, mm, _, _) in times}, key=lambda k: (k[0], k[1]))
    logs = defaultdict(list)
    print(f"{'shape':12s} {'M':>5s}  " + "  ".join(f"col{c} {base}->{new} (ratio)" for c in range(columns)))
    for shape, mm in keys:
        out = []
        for c in range(columns):
            a, b = times.get((shape, mm, c, base)), times.get((shape, mm, c, new))
            if not a or not b:
                out.append("-")
                continue
            ta, tb = sum(a) / len(a), sum(b) / len(b)
            logs[c].append(math.log(tb / ta))
            out.append(f"{ta:.2f} -> {tb:.2f} ({tb / ta:.3f})")
        print(f"{shape:12s} {mm:5d}  " + "  ".join(out))
    for c in range(columns):
        if logs[c]:
            g = math.exp(sum(logs[c]) / len(logs[c]))
            print(f"col{c}: geometric mean of {new} / {base} over {len(logs[c])} cells: {g:.3f}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under head
    sys.exit(main(sys.argv))

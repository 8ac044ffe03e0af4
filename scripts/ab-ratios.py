#!/usr/bin/env python3
"""Per-cell times and ratios of an A/B log in alternating processes (ab_rounds in
scripts/device-prelude.sh, or gpu.sh's ab stage): the rows of bench_w4a16_tc (or any table whose
rows are `N x K  M  base | t ratio | t ratio ...`, or --wg --ab's `| cfg C t us ratio`) under
`=== round R: SIDE` headers.

  scripts/ab-ratios.py LOG BASE NEW [--section TEXT] [--m LO-HI]
  scripts/ab-ratios.py LOG --ratios SIDE [--section TEXT] [--m LO-HI]

For every (shape, M) row and every timed column: the mean over rounds of BASE's time and of
NEW's, and NEW / BASE; then the geometric mean of those ratios per column. --ratios instead
prints SIDE's own ratio columns (the row's baseline over the column's time, e.g. cuBLAS BF16 /
ours), their mean over rounds per cell, and per column how many cells are under 1, in each
round and by the mean. --section keeps only the rows after a line containing TEXT (e.g.
'--chain 8') and before the next '#####' line; --m only the rows with LO <= M <= HI. Standard
library only.
"""
import math
import re
import signal
import sys
from collections import defaultdict


# A timed cell: "t ratiox" (--dispatch and the default table) or "cfg C [(auto)] t us ratio"
# (--wg --ab, the ratio over the first config); the time and the ratio.
CELL = r"(?:cfg\s+\d+(?: \(auto\))?\s+)?([\d.]+)(?: us)?\s+([\d.]+)x?"


def main(argv):
    ratios_of = argv[argv.index("--ratios") + 1] if "--ratios" in argv else None
    if len(argv) < 4 or (ratios_of is None and argv[2].startswith("--")):
        print(__doc__)
        return 2
    log = argv[1]
    base, new = (None, None) if ratios_of else (argv[2], argv[3])
    section = argv[argv.index("--section") + 1] if "--section" in argv else None
    m_lo, m_hi = 0, 1 << 62
    if "--m" in argv:
        m_lo, m_hi = (int(v) for v in argv[argv.index("--m") + 1].split("-"))
    on = section is None
    side = None
    times = defaultdict(list)  # (shape, M, column, side) -> [time per round]
    ratios = defaultdict(list)  # (shape, M, column) -> [ratio per round], SIDE's (--ratios)
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
        if line.startswith("==="):  # a round's header; any other "===" line ends the rounds
            m = re.match(r"=== round \d+: (\S+)", line)
            side = m.group(1).rstrip(":") if m else None
            continue
        m = re.match(r"\s*(\d+x\d+)\s+(\d+)\s+[\d.]+\s*((?:\|\s*" + CELL + r"\s*)+)", line)
        if not m or side is None or not m_lo <= int(m.group(2)) <= m_hi:
            continue
        cells = re.findall(r"\|\s*" + CELL, m.group(3))
        columns = max(columns, len(cells))
        for c, (t, r) in enumerate(cells):
            times[(m.group(1), int(m.group(2)), c, side)].append(float(t))
            if side == ratios_of:
                ratios[(m.group(1), int(m.group(2)), c)].append(float(r))
    if ratios_of:
        return print_ratios(ratios, columns, ratios_of)
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


def print_ratios(ratios, columns, side):
    keys = sorted({(s, mm) for (s, mm, _) in ratios})
    rounds = max((len(v) for v in ratios.values()), default=0)
    under_mean = [0] * columns
    under_round = [[0] * rounds for _ in range(columns)]
    cells = [0] * columns
    print(f"{'shape':12s} {'M':>5s}  " + "  ".join(f"col{c} {side} ratio" for c in range(columns)))
    for shape, mm in keys:
        out = []
        for c in range(columns):
            r = ratios.get((shape, mm, c))
            if not r:
                out.append("-")
                continue
            mean = sum(r) / len(r)
            cells[c] += 1
            under_mean[c] += mean < 1
            for i, v in enumerate(r):
                under_round[c][i] += v < 1
            out.append(f"{mean:.3f}")
        print(f"{shape:12s} {mm:5d}  " + "  ".join(out))
    for c in range(columns):
        print(f"col{c}: under 1 at {under_mean[c]} of {cells[c]} cells by the mean; "
              f"per round {', '.join(str(u) for u in under_round[c])}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under head
    sys.exit(main(sys.argv))

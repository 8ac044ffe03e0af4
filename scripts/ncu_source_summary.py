#!/usr/bin/env python3
"""Summarise ncu's per-SASS-instruction counters of one kernel launch.

Input: the CSV of
  ncu -k regex:KERNEL --launch-skip S -c 1 --section SourceCounters \
      --metrics smsp__inst_executed.sum --page source --print-source sass --csv PROGRAM ARGS
(the program's own output may precede the CSV). Output: the share of executed
instructions and of warp stall samples inside the hot loop (instructions
executed at least --loop times) and outside it, the executed instructions and
samples per opcode, and the instructions with most stall samples with their
stall reasons. Used for docs/kernels/h200/ncu/ncu-source-m1-*.txt.
usage: ncu_source_summary.py FILE.csv[.gz] [--loop N] [--top K]
"""
import argparse
import collections
import csv
import gzip

ap = argparse.ArgumentParser()
ap.add_argument("csv")
ap.add_argument("--loop", type=int, default=50000,
                help="instructions executed at least this often are the loop")
ap.add_argument("--top", type=int, default=8)
args = ap.parse_args()

opener = gzip.open if args.csv.endswith(".gz") else open
with opener(args.csv, "rt") as f:
    rows = list(csv.reader(f))
start = next(i for i, r in enumerate(rows) if r and r[0] == "Address")
hdr = rows[start]
data = [r for r in rows[start + 1:] if len(r) == len(hdr)]
ie = hdr.index("Instructions Executed")
smp = hdr.index("Warp Stall Sampling (All Samples)")
# (reason, column) of each stall-reason column
stalls = [(h[6:], i) for i, h in enumerate(hdr)
          if h.startswith("stall_") and "Not Issued" not in h]


def opcode(r):
    words = r[1].strip().split()
    return (words[1] if words[0].startswith("@") else words[0]).split(".")[0]


tot = sum(int(r[ie]) for r in data)
ts = sum(int(r[smp]) for r in data)
loop = [r for r in data if int(r[ie]) >= args.loop]
li = sum(int(r[ie]) for r in loop)
ls = sum(int(r[smp]) for r in loop)
print(f"instructions executed: {tot}, in the loop {li} ({100 * li / tot:.1f}%)")
print(f"warp stall samples: {ts}, in the loop {ls} ({100 * ls / ts:.1f}%), "
      f"outside {ts - ls} ({100 * (ts - ls) / ts:.1f}%)")
ops, opsmp = collections.Counter(), collections.Counter()
for r in data:
    ops[opcode(r)] += int(r[ie])
    opsmp[opcode(r)] += int(r[smp])
print("\nopcode      executed   share  samples  share")
for o, c in ops.most_common(16):
    print(f"{o:10s} {c:10d} {100 * c / tot:5.1f}%  {opsmp[o]:6d} {100 * opsmp[o] / ts:5.1f}%")


def reasons(r):
    return {name: int(r[i]) for name, i in stalls if r[i] not in ("0", "-", "")}


every = collections.Counter()
for r in data:
    every.update(reasons(r))
total = sum(every.values())
print("\nstall samples by reason, every instruction: " +
      ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in every.most_common(10)))
print(f"\nthe {args.top} instructions with most samples (executed, samples, stall reasons):")
for r in sorted(data, key=lambda r: -int(r[smp]))[:args.top]:
    print(f"  {r[1].strip()[:48]:48s} {r[ie]:>7s} {r[smp]:>5s}", reasons(r))

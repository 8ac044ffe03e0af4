#!/usr/bin/env bash
# Twenty-first session, call 1: both scripts the twentieth session left, in one device call
# (the cause A/B first, as it is the shorter and decides what the check means).
# Here: see the headers of s21-pdl-cause-run.sh and s21-pdl-check-run.sh for the builds;
#   run(command="bash docs/kernels/h200/s21-run1.sh", carry=["build-pack", "build-ab"])
cd "$(dirname "$0")/../../.." || exit 1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
echo "== cause A/B"; time bash docs/kernels/h200/s21-pdl-cause-run.sh
echo "== check"; time bash docs/kernels/h200/s21-pdl-check-run.sh

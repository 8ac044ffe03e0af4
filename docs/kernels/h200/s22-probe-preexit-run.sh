#!/usr/bin/env bash
# Written in the twenty-first session for the next one (not run: no device time left). Does
# PREEXIT or ACQBULK corrupt a CTA's own bulk copies? bench/gpu/probe_preexit.cu (its header
# lists the modes): wrong words counted, plain and programmatic launches, two grids. Nonzero
# counts in modes 1, 2 or 4 and zeros in 0 and 5 would reproduce the W4A16 failures outside our
# kernels; zeros everywhere point at the mma path or at timing. ~30 s.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s22-probe-preexit-run.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" ./probe_preexit && chmod +x "$B/probe_preexit"
timeout 240 "$B/probe_preexit" --launches 20000 --rounds 2

#!/usr/bin/env bash
# Twenty-ninth session, call 4: test_programmatic_launch after its two chain tests were folded
# onto one helper (expect_chain_matches_plain), whole, three times.
# Here: build-lgpu's test_programmatic_launch, stripped, alone in build-one/bundle.tgz;
#   run(command="bash docs/kernels/h200/s29-run4.sh", carry=["build-one"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-/tmp/out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-one/bundle.tgz -C "$B" && chmod +x "$B"/*
{
  date -u
  for r in 1 2 3; do
    timeout 150 "$B/test_programmatic_launch"
    echo "test_programmatic_launch round $r: exit $?"
  done
  date -u
} >"$O/s29-run4-log.txt" 2>&1
grep -hE '^\[ +(FAILED|PASSED|  OK) +\]|Failure|exit [0-9]' "$O/s29-run4-log.txt"

#!/usr/bin/awk -f
# usage: scripts/smi-phases.awk LOG.csv (the logs of docs/kernels/h200/s22-run4.sh)
# nvidia-smi log (timestamp, clock, power, temperature; values refreshed ~every 100 ms): the
# phases are the runs of distinct readings at >= 650 W; per run its span and the clock and
# power ranges, its first and last reading left out (a phase's edges).
BEGIN { FS = ", " }
{ key = $2 "|" $3; if (key == last) next; last = key }
$3 + 0 >= 650 { n++; t[n] = $1; c[n] = $2 + 0; p[n] = $3 + 0; next }
{ flush() }
END { flush() }
function flush(   i, cl, ch, pl, ph, cs) {
  if (n >= 3) {
    cl = 1e9; ch = 0; pl = 1e9; ph = 0; cs = 0
    for (i = 2; i < n; ++i) {
      cl = c[i] < cl ? c[i] : cl; ch = c[i] > ch ? c[i] : ch
      pl = p[i] < pl ? p[i] : pl; ph = p[i] > ph ? p[i] : ph; cs += c[i]
    }
    printf "%s .. %s  %d readings  %d-%d MHz (mean %.0f)  %.0f-%.0f W\n", substr(t[1], 12), substr(t[n], 12), n - 2, cl, ch, cs / (n - 2), pl, ph
  }
  n = 0
}

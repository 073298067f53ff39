#!/usr/bin/env bash
# Logging's cost in two builds, interleaved: for each depth, PAIRS times one round (off, then info:
# one INFO line per request in the default configuration) of BEFORE, then one of AFTER
# (benchmarks/echo-logging.sh with DIST=). Prints each round's info/off ratio and server CPU per
# request, and per build the median of its rounds' ratios. Alternating the builds round by round keeps
# a neighbour's busy minute from landing on one build only.
#
#   BEFORE=/tmp/main-dist benchmarks/logging-ab.sh       # AFTER: this tree's distribution
#   BEFORE=/tmp/a AFTER=/tmp/b DEPTHS=16 PAIRS=5 benchmarks/logging-ab.sh
#
# BEFORE/AFTER: distribution directories (distribution/target/daemonkit of each build; copy one aside
# before rebuilding). ~1.5 minutes per round: PAIRS=3 at both depths takes ~18 minutes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BEFORE=${BEFORE:?set BEFORE to the distribution directory of the build to compare against}
AFTER=${AFTER:-$root/distribution/target/daemonkit}
DEPTHS=${DEPTHS:-1 16}
PAIRS=${PAIRS:-3}
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for depth in $DEPTHS; do
  for p in $(seq 1 "$PAIRS"); do
    for build in before after; do
      dist=$BEFORE; [ $build = after ] && dist=$AFTER
      echo "depth $depth, pair $p, $build ($dist), $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
      out=$(DIST=$dist CONFIGS="off info" DEPTH=$depth ROUNDS=1 DURATION=${DURATION:-10s} WARMUP=${WARMUP:-30s} \
        "$root/benchmarks/echo-logging.sh" 2>&1)
      echo "$out" | grep -E '^(off|info) |threads:' | sed 's/^/  /'
      r=$(echo "$out" | sed -n 's/^round 1: *info \([0-9.]*\).*/\1/p')
      echo "  info/off: ${r:-?}"
      echo "$depth $build ${r:-}" >> "$results"
    done
  done
done
echo "median of the per-round info/off ratios:"
for depth in $DEPTHS; do
  for build in before after; do
    awk -v d=$depth -v b=$build '$1 == d && $2 == b && $3 != "" { print $3 }' "$results" | sort -n \
      | awk -v d=$depth -v b=$build '{ a[NR] = $1 } END { if (NR) printf "  depth %s %-6s %.3f (rounds %s-%s)\n", d, b, (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2, a[1], a[NR] }'
  done
done

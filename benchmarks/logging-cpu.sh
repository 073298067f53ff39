#!/usr/bin/env bash
# CPU per INFO line of the default logging configuration (both files), by thread, measured in
# process at a fixed rate (benchmarks/logging/LogLineCost.java): a complement to echo-logging.sh
# that holds on a loaded machine, where throughput ratios do not.
#
#   benchmarks/logging-cpu.sh                                   # zstd, gzip, none; 3 rounds
#   VARIANTS="$OLD:default $PWD/distribution/target/daemonkit:default" benchmarks/logging-cpu.sh   # two builds
#
# VARIANTS: DIST:COMPRESSION pairs (DIST defaults to this tree's distribution; COMPRESSION zstd,
# gzip, none, or default to leave rolling.compression unset), run interleaved in each round.
# The JVM is pinned to CPU 0 like the launcher in echo-logging.sh; LINES lines measured after as
# many again as warm-up, at RATE lines/s.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROUNDS=${ROUNDS:-3}
LINES=${LINES:-3000000}
RATE=${RATE:-150000}
VARIANTS=${VARIANTS:-"$dist:zstd $dist:gzip $dist:none"}
echo "$LINES lines per run at $RATE lines/s, $ROUNDS round(s); us of CPU per line"
for r in $(seq 1 "$ROUNDS"); do
  for v in $VARIANTS; do
    d=${v%:*}; c=${v##*:}
    printf 'round %s %s ' "$r" "$d"
    taskset -c 0 java -Xms512m -Xmx512m -XX:+AlwaysPreTouch -cp "$d/lib/*" "$root/benchmarks/logging/LogLineCost.java" \
      "$c" "$LINES" "$RATE"
  done
done

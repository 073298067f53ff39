#!/usr/bin/env bash
# Issue 17, the timer wheel's cascade and lateness: the wheel's CPU per tick (its longest tick is a cascade),
# then expiry of 100k timers at 1..1000 ms (CPU per expired timer, p99 lateness on the epoll loop), each
# subject -Druns times in one JVM (medians printed). With BEFORE=another benchmarks.jar, the same runs
# alternate between that jar and this tree's, ROUNDS times: an A/B in one session.
#
#   benchmarks/timers-cascade.sh                               # ~2 minutes
#   BEFORE=/tmp/main/benchmarks.jar ROUNDS=2 benchmarks/timers-cascade.sh   # ~8 minutes
#   RUNS=5 SUBJECTS="daemonkit-api-epoll netty-loop-epoll" benchmarks/timers-cascade.sh
#
# Ticks run pinned to CPU 1; expiry on CPUs 0-1 (a timer thread and the scheduling main thread), as
# run-all.sh does. Every JVM: -Xms = -Xmx, -XX:+AlwaysPreTouch.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/benchmarks/target/benchmarks.jar"
[ -f "$jar" ] || (cd "$root" && mvn -B -q -o -pl benchmarks -am package -DskipTests)
RUNS=${RUNS:-5}
ROUNDS=${ROUNDS:-1}
SUBJECTS=${SUBJECTS:-"daemonkit-api-epoll daemonkit-api-epoll-1024 netty-loop-epoll daemonkit-thread daemonkit-thread-256 agrona"}
JVM="-Xms2g -Xmx2g -XX:+AlwaysPreTouch"
main=dev.daemonkit.benchmarks.timers.ExpiryAndFootprint

one() { # LABEL JAR
  echo "== $1 ($2) $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  # shellcheck disable=SC2086
  taskset -c 1 java -Druns="$RUNS" $JVM -cp "$2" $main ticks ticks-256 ticks-512 ticks-1024 | grep median || true
  # shellcheck disable=SC2086
  taskset -c 0,1 java -Druns="$RUNS" $JVM -cp "$2" $main expiry $SUBJECTS | grep -E "median|own figures" || true
}

for _ in $(seq 1 "$ROUNDS"); do
  if [ -n "${BEFORE:-}" ]; then one before "$BEFORE"; fi
  one after "$jar"
done

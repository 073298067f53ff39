#!/usr/bin/env bash
# The cache daemon against memcached 1.6.18 (-t 1) and against a raw Netty server of the same
# memcached subset (the ceiling: no framework), under the same load from the bots.
#
#   benchmarks/cache-vs-memcached.sh                 # 3 rounds, depth 1 and 16, 10 s each
#   ROUNDS=1 DURATION=5s benchmarks/cache-vs-memcached.sh
#   IO_URING=0 benchmarks/cache-vs-memcached.sh     # without the io_uring subjects (cache-uring, raw-uring)
#   PREWARM=6s benchmarks/cache-vs-memcached.sh     # each subject serves the load once, unmeasured, before
#                                                   # round 1 (default 0: only the bots' 2 s warm-up per run)
#   BASE_DIST=/copy/of/an/earlier/build benchmarks/cache-vs-memcached.sh
#                                                   # A/B: that build's launcher and cache.jar as one more subject,
#                                                   # cache-base, run next to cache-daemon (order alternating by round)
#
# Method (docs/benchmarks.md, "Cache daemon vs memcached"): each server pinned to CPU 0, the bots to
# CPU 1; 50 connections, 10,000 keys of 12 bytes, 100-byte values, 90% get / 10% set, every key set
# once before the run; 2 s warm-up, then DURATION measured. The server's CPU time per request is the
# change of utime+stime in /proc/PID/stat over the measured part, divided by the requests answered.
# JVMs run with -Xms = -Xmx and -XX:+AlwaysPreTouch; the cache daemon with one I/O thread, as
# memcached -t 1. Prints each run, then the median of the rounds and the ratios. Bounded: every
# process it starts is stopped at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
DEPTHS=${DEPTHS:-"1 16"}
dist="$root/distribution/target/daemonkit"
if [ ! -x "$dist/bin/daemonkit-bench" ] || [ ! -f "$dist/plugins/cache.jar" ]; then
  (cd "$root" && mvn -B -q -DskipTests package)
fi
if ! command -v memcached >/dev/null 2>&1; then
  echo "installing memcached (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq memcached
fi
memcached -V

source "$root/benchmarks/cache-servers.sh"

# the raw Netty ceiling
raw_port=$(free_port)
BENCH_OPTS="$JVM" taskset -c 0 "$dist/bin/daemonkit-bench" raw-server "$raw_port" > "$work/raw.out" 2>&1 &
raw_pid=$!; pids+=("$raw_pid")

names="memcached cache-daemon raw-netty"
BASE_DIST=${BASE_DIST:-}
if [ -n "$BASE_DIST" ]; then
  base_port=$(free_port)
  start_cache auto "$base_port" cache-base "$BASE_DIST"; base_pid=$started_pid
  wait_port "$base_port"
  names="$names cache-base"
fi
if [ "$IO_URING" = 1 ]; then
  # the same two subjects on the io_uring transport: the cache daemon (started by cache-servers.sh) and raw Netty
  raw_uring_port=$(free_port)
  BENCH_OPTS="$JVM" taskset -c 0 "$dist/bin/daemonkit-bench" raw-server "$raw_uring_port" io_uring > "$work/raw-uring.out" 2>&1 &
  raw_uring_pid=$!; pids+=("$raw_uring_pid")
  wait_port "$uring_port"; wait_port "$raw_uring_port"
  # on io_uring for sure: the launcher holds io_uring instances (it falls back to epoll with a WARN otherwise)
  ls -l "/proc/$uring_pid/fd" 2>/dev/null | grep -q 'anon_inode:\[io_uring\]' \
    || { echo "the io_uring launcher is not on io_uring:" >&2; cat "$work/launcher-cache-uring.out" >&2; exit 1; }
  names="$names cache-uring raw-uring"
fi
wait_port "$mc_port"; wait_port "$cache_port"; wait_port "$raw_port"

results="$work/results"
: > "$results"
run() {   # name pid port depth round
  local name=$1 pid=$2 port=$3 depth=$4 round=$5 out="$work/bots-$1-$4-$5.out"
  BENCH_OPTS="-Xms512m -Xmx512m -XX:+AlwaysPreTouch" taskset -c 1 "$dist/bin/daemonkit-bench" --mode memcached \
    --target "127.0.0.1:$port" --connections 50 --depth "$depth" --keys 10000 --key-size 12 --value-size 100 \
    --get-ratio 0.9 --warmup 2s --duration "$DURATION" > "$out" 2>&1 &
  local bots=$!
  until grep -q '^measuring' "$out" 2>/dev/null; do kill -0 "$bots" 2>/dev/null || { cat "$out" >&2; return 1; }; sleep 0.02; done
  local t0; t0=$(cpu_ticks "$pid")
  until grep -q '^result:' "$out" 2>/dev/null; do kill -0 "$bots" 2>/dev/null || break; sleep 0.02; done
  local t1; t1=$(cpu_ticks "$pid")
  wait "$bots" || true
  local line; line=$(grep '^RESULT' "$out")
  local reqs; reqs=$(sed -n 's/^result: \([0-9,]*\) requests.*/\1/p' "$out" | tr -d ,)
  local cpu_us; cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')
  echo "$name depth=$depth round=$round $line cpu_us_per_req=$cpu_us" | tee -a "$results"
}

# The JVMs compile their hot code under the first load: the cache launcher's C2 thread took about 1 s of
# CPU 0 in its first 4-6 s of load (load average 7; docs/benchmarks.md), inside round 1's measured part after a 2 s
# warm-up. PREWARM runs each subject once before the rounds, not measured; memcached gets the same.
PREWARM=${PREWARM:-0}
if [ "$PREWARM" != 0 ]; then
  prewarm() {   # name port
    BENCH_OPTS="-Xms512m -Xmx512m -XX:+AlwaysPreTouch" taskset -c 1 "$dist/bin/daemonkit-bench" --mode memcached \
      --target "127.0.0.1:$2" --connections 50 --depth 1 --keys 10000 --key-size 12 --value-size 100 \
      --get-ratio 0.9 --warmup 1s --duration "$PREWARM" > "$work/prewarm-$1.out" 2>&1 \
      || { echo "pre-warming $1 failed:" >&2; cat "$work/prewarm-$1.out" >&2; exit 1; }
  }
  echo "pre-warming each subject for $PREWARM (not measured)"
  prewarm memcached "$mc_port"; prewarm cache-daemon "$cache_port"; prewarm raw-netty "$raw_port"
  if [ -n "$BASE_DIST" ]; then prewarm cache-base "$base_port"; fi
  if [ "$IO_URING" = 1 ]; then prewarm cache-uring "$uring_port"; prewarm raw-uring "$raw_uring_port"; fi
fi

for round in $(seq 1 "$ROUNDS"); do
  for depth in $DEPTHS; do
    run memcached "$mc_pid" "$mc_port" "$depth" "$round"
    if [ -n "$BASE_DIST" ] && [ $((round % 2)) = 1 ]; then run cache-base "$base_pid" "$base_port" "$depth" "$round"; fi
    run cache-daemon "$cache_pid" "$cache_port" "$depth" "$round"
    if [ -n "$BASE_DIST" ] && [ $((round % 2)) = 0 ]; then run cache-base "$base_pid" "$base_port" "$depth" "$round"; fi
    run raw-netty "$raw_pid" "$raw_port" "$depth" "$round"
    if [ "$IO_URING" = 1 ]; then
      run cache-uring "$uring_pid" "$uring_port" "$depth" "$round"
      run raw-uring "$raw_uring_pid" "$raw_uring_port" "$depth" "$round"
    fi
  done
done

echo
echo "median of $ROUNDS rounds (req/s, p50/p99 us, server CPU us per request):"
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for depth in $DEPTHS; do
  for name in $names; do
    rows=$(grep "^$name depth=$depth " "$results")
    rps=$(echo "$rows" | field req_s | median); p50=$(echo "$rows" | field p50_us | median)
    p99=$(echo "$rows" | field p99_us | median); cpu=$(echo "$rows" | field cpu_us_per_req | median)
    printf "depth %-3s %-13s %10.0f req/s  p50 %6s us  p99 %6s us  cpu %6s us/req\n" "$depth" "$name" "$rps" "$p50" "$p99" "$cpu"
    echo "$depth $name $rps $p50 $p99 $cpu" >> "$work/medians"
  done
  awk -v d="$depth" '$1 == d { r[$2] = $3; c[$2] = $6; p[$2] = $5 }
    END { printf "depth %-3s cache/memcached: throughput %.2fx, cpu/req %.2fx, p99 %.2fx;  cache/raw-netty: throughput %.2fx, cpu/req %.2fx\n",
          d, r["cache-daemon"] / r["memcached"], c["cache-daemon"] / c["memcached"], p["cache-daemon"] / p["memcached"],
          r["cache-daemon"] / r["raw-netty"], c["cache-daemon"] / c["raw-netty"] }' "$work/medians"
  if [ -n "$BASE_DIST" ]; then
    awk -v d="$depth" '$1 == d { r[$2] = $3; c[$2] = $6; p[$2] = $5 }
      END { printf "depth %-3s cache/cache-base (BASE_DIST): throughput %.2fx, cpu/req %.2fx, p99 %.2fx;  cache-base/memcached: throughput %.2fx, cpu/req %.2fx, p99 %.2fx;  cache-base/raw-netty: throughput %.2fx\n",
            d, r["cache-daemon"] / r["cache-base"], c["cache-daemon"] / c["cache-base"], p["cache-daemon"] / p["cache-base"],
            r["cache-base"] / r["memcached"], c["cache-base"] / c["memcached"], p["cache-base"] / p["memcached"],
            r["cache-base"] / r["raw-netty"] }' "$work/medians"
  fi
  [ "$IO_URING" = 1 ] && awk -v d="$depth" '$1 == d { r[$2] = $3; c[$2] = $6; p[$2] = $5 }
    END { printf "depth %-3s cache-uring/memcached: throughput %.2fx, cpu/req %.2fx, p99 %.2fx;  cache-uring/cache (epoll): throughput %.2fx, cpu/req %.2fx, p99 %.2fx;  raw-uring/raw-netty: throughput %.2fx, cpu/req %.2fx\n",
          d, r["cache-uring"] / r["memcached"], c["cache-uring"] / c["memcached"], p["cache-uring"] / p["memcached"],
          r["cache-uring"] / r["cache-daemon"], c["cache-uring"] / c["cache-daemon"], p["cache-uring"] / p["cache-daemon"],
          r["raw-uring"] / r["raw-netty"], c["raw-uring"] / c["raw-netty"] }' "$work/medians"
done

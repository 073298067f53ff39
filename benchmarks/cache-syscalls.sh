#!/usr/bin/env bash
# System calls per request: the cache daemon against memcached 1.6.18 (-t 1) under the load of
# cache-vs-memcached.sh, counted with strace -c -f attached to the server for the measured part of a
# short run (strace slows the server many times over, so only the counts per request mean anything,
# not the rates). Every thread of the server is counted (for the JVM: the event loop, but also GC,
# JIT and the log writer).
#
#   benchmarks/cache-syscalls.sh                       # depth 1 and 16, 4 s each
#   DEPTHS=1 DURATION=3s benchmarks/cache-syscalls.sh
#   IO_URING=0 benchmarks/cache-syscalls.sh             # without the cache daemon on io_uring (cache-uring)
#
# Bounded: every process it starts is stopped at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION=${DURATION:-4s}
DEPTHS=${DEPTHS:-"1 16"}
dist="$root/distribution/target/daemonkit"
if [ ! -x "$dist/bin/daemonkit-bench" ] || [ ! -f "$dist/plugins/cache.jar" ]; then
  (cd "$root" && mvn -B -q -DskipTests package)
fi
command -v strace >/dev/null || { echo "strace is needed (apt-get install strace)" >&2; exit 2; }
command -v memcached >/dev/null || { echo "memcached is needed (apt-get install memcached)" >&2; exit 2; }

source "$root/benchmarks/cache-servers.sh"

wait_port "$mc_port"; wait_port "$cache_port"
if [ "$IO_URING" = 1 ]; then wait_port "$uring_port"; fi

count() {   # name pid port depth
  local name=$1 pid=$2 port=$3 depth=$4 out="$work/bots-$1-$4.out" trace="$work/strace-$1-$4.txt"
  BENCH_OPTS="-Xms512m -Xmx512m -XX:+AlwaysPreTouch" taskset -c 1 "$dist/bin/daemonkit-bench" --mode memcached \
    --target "127.0.0.1:$port" --connections 50 --depth "$depth" --keys 10000 --key-size 12 --value-size 100 \
    --get-ratio 0.9 --warmup 2s --duration "$DURATION" > "$out" 2>&1 &
  local bots=$!
  until grep -q '^measuring' "$out" 2>/dev/null; do kill -0 "$bots" 2>/dev/null || { cat "$out" >&2; return 1; }; sleep 0.02; done
  strace -c -f -q -p "$pid" -o "$trace" &
  local st=$!
  until grep -q '^result:' "$out" 2>/dev/null; do kill -0 "$bots" 2>/dev/null || break; sleep 0.02; done
  kill -INT "$st"; wait "$st" 2>/dev/null || true
  wait "$bots" || true
  local reqs; reqs=$(sed -n 's/^result: \([0-9,]*\) requests.*/\1/p' "$out" | tr -d ,)
  local calls; calls=$(awk '$NF == "total" { print $4 }' "$trace")
  printf '%-13s depth %-3s %9s requests  %9s system calls  %6.2f per request:' "$name" "$depth" "$reqs" "$calls" \
    "$(awk -v c="$calls" -v r="$reqs" 'BEGIN { print c / r }')"
  # the five most frequent calls, per request
  awk -v r="$reqs" '$1 ~ /^[0-9.]+$/ && $NF != "total" { n = ($5 ~ /^[0-9]+$/) ? $4 : $4; printf "%s %s\n", $NF, $4 }' "$trace" \
    | sort -k2 -n -r | head -5 | awk -v r="$reqs" '{ printf "  %s %.2f", $1, $2 / r }'
  echo
}

for depth in $DEPTHS; do
  count memcached "$mc_pid" "$mc_port" "$depth"
  count cache-daemon "$cache_pid" "$cache_port" "$depth"
  if [ "$IO_URING" = 1 ]; then
    count cache-uring "$uring_pid" "$uring_port" "$depth"
  fi
done

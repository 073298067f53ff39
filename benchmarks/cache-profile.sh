#!/usr/bin/env bash
# The cache daemon alone under the load of cache-vs-memcached.sh, measured from inside: server CPU per
# request (all threads, and the event-loop thread alone), bytes the event-loop thread allocated per
# request, and optionally an async-profiler profile of the whole run.
#
#   benchmarks/cache-profile.sh                                   # depth 1, 8 s measured
#   DEPTH=16 DURATION=5s benchmarks/cache-profile.sh
#   DIST=/path/to/another/build benchmarks/cache-profile.sh       # A/B: the same load, another build
#   ASYNC_PROFILER=/path/libasyncProfiler.so EVENT=alloc OUT=/tmp/x benchmarks/cache-profile.sh
#   SERVER_OPTS=-Dio.netty.leakDetection.level=disabled benchmarks/cache-profile.sh   # exact allocation
#   TRANSPORT=io_uring benchmarks/cache-profile.sh                # daemonkit.transport.native (default auto)
#   TRANSPORT=io_uring RING=512 benchmarks/cache-profile.sh       # daemonkit.transport.io-uring-buffer-ring (default 0)
#   TRANSPORT=io_uring URING_EVENTS=1 benchmarks/cache-profile.sh # + io_uring submissions, completions, polls armed per
#                                                                 #   request (perf tracepoints; needs perf and root)
#
# Method: the launcher with only the cache plugin and one I/O thread on CPU 0 (as cache-servers.sh),
# the bots on CPU 1 (50 connections, 10,000 keys of 12 bytes, 100-byte values, 90% get), 3 s warm-up.
# CPU: utime+stime from /proc over the measured part / requests answered. Allocation: the event-loop
# thread's allocated= of `jcmd PID Thread.print -e` at the start and end of the measured part (jcmd
# prints it rounded to K below 10 MB, M above: measure long enough; Netty's sampled leak detection
# allocates a stack trace for 1 buffer in 128, which makes the figure vary by tens of bytes per request). With ASYNC_PROFILER the profile
# (collapsed stacks, one frame per thread first) is written to OUT.collapsed when the launcher stops;
# it covers the warm-up and the JIT too: look at the daemonkit-io thread's stacks.
# Bounded: every process it starts is stopped at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist=${DIST:-"$root/distribution/target/daemonkit"}
DEPTH=${DEPTH:-1}
DURATION=${DURATION:-8s}
EVENT=${EVENT:-cpu}
OUT=${OUT:-"$root/benchmarks/target/cache-profile"}
if [ ! -x "$dist/bin/daemonkit-bench" ] || [ ! -f "$dist/plugins/cache.jar" ]; then
  echo "no build at $dist: run mvn -B -q -DskipTests package first, or set DIST" >&2
  exit 2
fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/plugins" "$work/logs" "$(dirname "$OUT")"
cp "$dist/plugins/cache.jar" "$work/plugins/"
cat > "$work/daemonkit.conf" <<CONF
daemonkit.transport.io-threads = 1
daemonkit.transport.native = ${TRANSPORT:-auto}
daemonkit.transport.io-uring-buffer-ring = ${RING:-0}
daemonkit.logging.level = WARN
daemons.cache { listen = "127.0.0.1:$port", memory-limit = 512 MiB }
CONF
agent=""
if [ -n "${ASYNC_PROFILER:-}" ]; then
  agent="-agentpath:$ASYNC_PROFILER=start,event=$EVENT,interval=100us,threads,file=$OUT.collapsed,collapsed"
  [ "$EVENT" = alloc ] && agent="-agentpath:$ASYNC_PROFILER=start,event=alloc,alloc=1,threads,file=$OUT.collapsed,collapsed"
fi
DAEMONKIT_OPTS="-Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:+UseG1GC ${SERVER_OPTS:-} $agent" taskset -c 0 "$dist/bin/daemonkit" run \
  --config "$work/daemonkit.conf" --plugins "$work/plugins" --logs "$work/logs" > "$work/launcher.out" 2>&1 &
pid=$!; pids+=("$pid")
for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

BENCH_OPTS="-Xms512m -Xmx512m -XX:+AlwaysPreTouch" taskset -c 1 "$dist/bin/daemonkit-bench" --mode memcached \
  --target "127.0.0.1:$port" --connections 50 --depth "$DEPTH" --keys 10000 --key-size 12 --value-size 100 \
  --get-ratio 0.9 --warmup 3s --duration "$DURATION" > "$work/bots.out" 2>&1 &
bots=$!; pids+=("$bots")

ticks() { awk '{ print $14 + $15 }' "$1"; }
allocated() {   # bytes the event-loop thread has allocated, from jcmd's rounded figure
  timeout 20 jcmd "$pid" Thread.print -e | grep '^"daemonkit-io' | head -1 \
    | sed -n 's/.*allocated=\([0-9]*\)\([BKMG]\).*/\1 \2/p' \
    | awk '{ m = 1; if ($2 == "K") m = 1024; if ($2 == "M") m = 1048576; if ($2 == "G") m = 1073741824; printf "%d", $1 * m }'
}
for _ in $(seq 1 1200); do grep -q '^measuring' "$work/bots.out" 2>/dev/null && break; kill -0 "$bots" 2>/dev/null || break; sleep 0.05; done
io=$(dirname "$(grep -l '^daemonkit-io' /proc/"$pid"/task/*/comm | head -1)")
t0=$(ticks "/proc/$pid/stat"); i0=$(ticks "$io/stat"); a0=$(allocated)
if [ "${URING_EVENTS:-0}" = 1 ]; then
  perf stat -x, -e io_uring:io_uring_submit_req,io_uring:io_uring_complete,io_uring:io_uring_poll_arm \
    -p "$pid" -o "$work/perf.txt" &
  perf_pid=$!; pids+=("$perf_pid")
fi
for _ in $(seq 1 6000); do grep -q '^result:' "$work/bots.out" 2>/dev/null && break; kill -0 "$bots" 2>/dev/null || break; sleep 0.05; done
t1=$(ticks "/proc/$pid/stat"); i1=$(ticks "$io/stat"); a1=$(allocated)
if [ "${URING_EVENTS:-0}" = 1 ]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; fi
wait "$bots" || true
reqs=$(sed -n 's/^result: \([0-9,]*\) requests.*/\1/p' "$work/bots.out" | tr -d ,)
hz=$(getconf CLK_TCK)
echo "$(grep '^RESULT' "$work/bots.out")" \
  "cpu_us_per_req=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')" \
  "io_thread_cpu_us_per_req=$(awk -v d=$((i1 - i0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')" \
  "io_thread_alloc_bytes_per_req=$(awk -v d=$((a1 - a0)) -v n="$reqs" 'BEGIN { printf "%.1f", d / n }')" \
  "$([ "${URING_EVENTS:-0}" = 1 ] && awk -F, -v n="$reqs" '$3 ~ /io_uring:/ { sub(/io_uring:io_uring_/, "", $3);
      printf "%s_per_req=%.2f ", $3, $1 / n }' "$work/perf.txt")"
kill "$pid"; wait "$pid" 2>/dev/null || true
[ -n "${ASYNC_PROFILER:-}" ] && echo "profile: $OUT.collapsed"
exit 0

#!/usr/bin/env bash
# Heap per held idle connection: the launcher's echo daemon against the same line echo on bare Netty
# (RawEchoServer), measured the same way in the same run. Server pinned to CPU 0, client to CPU 1.
#
#   benchmarks/held-connections.sh            # N=19000 connections (this machine allows 20,000 files per process)
#   N=5000 benchmarks/held-connections.sh
#   TRANSPORT=io_uring benchmarks/held-connections.sh   # the launchers' daemonkit.transport.native (default auto)
#
# Method: the server runs with a fixed, pre-touched heap; after 200 warm-up connections come and go,
# the live objects' bytes (a class histogram, after the full GC it runs) give the heap used before, once
# two readings agree; then N connections are opened (each checked with one echoed line) and held idle;
# the live bytes again give the heap used after. (after - before) / N is the heap per connection.
# Bounded: every process it starts is stopped at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=${N:-19000}
SOURCES=${SOURCES:-4}
dist="${DIST:-$root/distribution/target/daemonkit}"   # DIST: another build, for an A/B in one session
jar="$root/benchmarks/target/benchmarks.jar"
if [ ! -x "$dist/bin/daemonkit" ] || [ ! -f "$jar" ]; then
  (cd "$root" && mvn -B -q -DskipTests package)
fi
JVM="-Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:+UseG1GC"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The bytes of all live objects in KB: the total of a class histogram (GC.class_histogram runs a full GC and
# counts what it kept). G1's "used" after a full GC (GC.heap_info), read before, moved by ~750 KB between runs of
# the same build holding the same connections (~40 B per connection at 19,000), where two histograms of two
# launchers holding 12,000 connections each agreed within 10 KB.
heap_used_kb() {
  jcmd "$1" GC.class_histogram | awk '/^Total/ { print int($3 / 1024) }'
}

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

hold() {   # hold COUNT connections to PORT for SECONDS in the background; waits until all are open
  local port=$1 count=$2 seconds=$3
  local out="$work/hold-$port-$count"
  taskset -c 1 java -Xmx256m -cp "$jar" dev.daemonkit.benchmarks.connections.HoldConnections 127.0.0.1 "$port" "$count" "$SOURCES" "$seconds" > "$out" 2>&1 &
  holder=$!
  for _ in $(seq 1 1200); do grep -q "^holding $count" "$out" && return 0; kill -0 $holder 2>/dev/null || { cat "$out" >&2; return 1; }; sleep 0.1; done
  echo "holder never got to $count connections" >&2; cat "$out" >&2; return 1
}

measure() {   # NAME PID PORT
  local name=$1 pid=$2 port=$3
  wait_port "$port"
  hold "$port" 200 1; wait $holder
  local before after first
  # The 200 warm-up connections close as the holder exits; a GC taken before the server has let go of
  # all of them counted up to ~500 KB of them in "before" (runs of the same build read 1,507 and 1,535
  # bytes per connection). So "before" is taken once two full GCs a second apart agree within 16 KB.
  first=$(heap_used_kb "$pid"); before=$first
  for _ in $(seq 1 10); do
    local again; again=$(heap_used_kb "$pid")
    if [ $(( again > before ? again - before : before - again )) -le 16 ]; then before=$again; break; fi
    before=$again
  done
  hold "$port" "$N" 600
  after=$(heap_used_kb "$pid")
  kill $holder; wait $holder 2>/dev/null || true
  local per=$(( (after - before) * 1024 / N ))
  printf '%-22s heap before %7d KB (first reading %d KB), with %d connections %7d KB: %5d bytes per connection\n' \
    "$name" "$before" "$first" "$N" "$after" "$per"
  echo "$per" > "$work/$name.per"
}

# 1. Bare Netty.
raw_port=17901
taskset -c 0 java $JVM -cp "$jar" dev.daemonkit.benchmarks.connections.RawEchoServer $raw_port > "$work/raw.out" 2>&1 &
raw=$!; pids+=($raw)
measure raw-netty $raw $raw_port
kill $raw; wait $raw 2>/dev/null || true

# 2. The launcher with the echo sample only.
dk_port=17902
mkdir -p "$work/plugins" "$work/logs"
cp "$dist/plugins/echo.jar" "$work/plugins/"
cat > "$work/daemonkit.conf" <<CONF
daemonkit.admin.enabled = false
daemonkit.logging.console.enabled = false
daemonkit.transport.native = ${TRANSPORT:-auto}
# N connections must fit in the budget: keep 512 descriptors (not 1024) for the launcher's own files.
daemonkit.connections.reserve = 512
daemons {
  echo { listen = "127.0.0.1:$dk_port" }
  daytime.enabled = false
}
CONF
DAEMONKIT_OPTS="$JVM" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/daemonkit.conf" --plugins "$work/plugins" --logs "$work/logs" > "$work/dk.out" 2>&1 &
dk=$!; pids+=($dk)
measure daemonkit-echo $dk $dk_port
kill -TERM $dk; wait $dk 2>/dev/null || true

# 3. The launcher with the cache sample only (memcached answers the check line "ping" with ERROR).
if [ -f "$dist/plugins/cache.jar" ]; then
  cache_port=17903
  rm -rf "$work/plugins"; mkdir -p "$work/plugins"
  cp "$dist/plugins/cache.jar" "$work/plugins/"
  cat > "$work/cache.conf" <<CONF
daemonkit.admin.enabled = false
daemonkit.logging.console.enabled = false
daemonkit.transport.native = ${TRANSPORT:-auto}
daemonkit.connections.reserve = 512
daemons.cache { listen = "127.0.0.1:$cache_port" }
CONF
  DAEMONKIT_OPTS="$JVM" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/cache.conf" --plugins "$work/plugins" --logs "$work/logs" > "$work/cache.out" 2>&1 &
  cache=$!; pids+=($cache)
  measure daemonkit-cache $cache $cache_port
  kill -TERM $cache; wait $cache 2>/dev/null || true
fi

raw_per=$(cat "$work/raw-netty.per")
for name in daemonkit-echo daemonkit-cache; do
  [ -f "$work/$name.per" ] || continue
  awk -v r="$raw_per" -v d="$(cat "$work/$name.per")" -v n="$name" 'BEGIN { printf "%s / raw netty: %.2fx heap per connection (%d vs %d bytes)\n", n, d / r, d, r }'
done

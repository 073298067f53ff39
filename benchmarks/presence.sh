#!/usr/bin/env bash
# The presence daemon under simulated users (the bots' presence mode): heap per online user,
# delivery latency while chatting, and (LONG=1) a 10-minute run for heap drift, leaks and losses.
# Server pinned to CPU 0, bots to CPU 1; both JVMs with -Xms = -Xmx and -XX:+AlwaysPreTouch.
#
#   benchmarks/presence.sh                       # memory with 15,000 users, then 60 s of chat with 10,000
#   USERS=10000 RATE=0.2 DURATION=60s benchmarks/presence.sh
#   LONG=1 benchmarks/presence.sh                # adds the 10-minute run
#
# Method for the heap: full GC (jcmd GC.run) and G1's "used" before the users log in and while they
# are all online and idle; (after - before) / users. Bounded: every process it starts is stopped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MEM_USERS=${MEM_USERS:-15000}
USERS=${USERS:-10000}
RATE=${RATE:-0.1}
DURATION=${DURATION:-60s}
SOURCES=${SOURCES:-4}
LONG=${LONG:-0}
dist="$root/distribution/target/daemonkit"
bots="$root/benchmarks/bots/target/bots.jar"
if [ ! -x "$dist/bin/daemonkit" ] || [ ! -f "$dist/plugins/presence/presence.jar" ] || [ ! -f "$bots" ]; then
  (cd "$root" && mvn -B -q -DskipTests package)
fi
SERVER_JVM="-Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:+UseG1GC -Xlog:gc:file=${TMPDIR:-/tmp}/presence-server-gc.log"
BOTS_JVM="-Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:+UseG1GC"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/plugins" "$work/logs"
cp -r "$dist/plugins/presence" "$work/plugins/"
cat > "$work/daemonkit.conf" <<CONF
daemonkit.admin.enabled = false
daemonkit.logging.console.enabled = false
daemonkit.connections.reserve = 400
daemons.presence { listen = "127.0.0.1:17100", listen-http = "127.0.0.1:17180", max-connections = 19500 }
CONF
DAEMONKIT_OPTS="$SERVER_JVM" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/daemonkit.conf" \
  --plugins "$work/plugins" --logs "$work/logs" > "$work/server.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "RUNNING on" "$work/logs/daemonkit.log" 2>/dev/null && break; sleep 0.1; done
server=$(pgrep -f "config $work/daemonkit.conf" | while read -r p; do [ "$(ps -o comm= -p "$p")" = java ] && echo "$p"; done | head -n 1)

heap_used_kb() {   # full GC, then the G1 heap's "used" figure in KB
  jcmd "$server" GC.run >/dev/null
  sleep 1
  jcmd "$server" GC.heap_info | awk '/garbage-first heap/ { for (i = 1; i <= NF; i++) if ($i == "used") { gsub("K","",$(i+1)); print $(i+1) } }'
}
run_bots() {   # OUTFILE ARGS...: the bots in the background
  local out=$1; shift
  taskset -c 1 java $BOTS_JVM -cp "$bots" dev.daemonkit.bench.Bots --mode presence --target 127.0.0.1:17100 \
    --source-addresses "$SOURCES" "$@" > "$out" 2>&1 &
  botspid=$!; pids+=($botspid)
}
wait_logged_in() { for _ in $(seq 1 1200); do grep -q "^logged in" "$1" && return 0; sleep 0.1; done; cat "$1" >&2; return 1; }

echo "== heap per online user: $MEM_USERS users, logged in, one room each, idle"
before=$(heap_used_kb)
run_bots "$work/mem.out" --users "$MEM_USERS" --chat-rate 0 --silent 0 --duration 40s --report 10s
wait_logged_in "$work/mem.out"; grep "^logged in" "$work/mem.out"
sleep 2
after=$(heap_used_kb)
wait $botspid || true
echo "heap before ${before} KB, with $MEM_USERS users online ${after} KB: $(( (after - before) * 1024 / MEM_USERS )) bytes per user"

echo "== $USERS users chatting at $RATE msg/s each for $DURATION"
run_bots "$work/chat.out" --users "$USERS" --chat-rate "$RATE" --duration "$DURATION" --report 10s
wait $botspid || true
grep -v "^bots:" "$work/chat.out"

if [ "$LONG" = 1 ]; then
  echo "== 10 minutes: $USERS users chatting at $RATE msg/s each; heap after GC at minute 1 and at the end"
  run_bots "$work/long.out" --users "$USERS" --chat-rate "$RATE" --duration 10m --report 60s
  wait_logged_in "$work/long.out"
  sleep 60
  first=$(heap_used_kb)
  echo "heap after GC, minute 1: ${first} KB"
  while kill -0 "$botspid" 2>/dev/null && ! grep -q "^   600s" "$work/long.out"; do sleep 1; done
  last=$(heap_used_kb)
  echo "heap after GC, minute 10: ${last} KB ($(awk -v a="$first" -v b="$last" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }'))"
  wait $botspid || true
  grep -v "^bots:" "$work/long.out"
fi
echo "== server log: LEAK reports $(grep -c 'LEAK:' "$work"/logs/*.log "$work/server.out" | awk -F: '{ s += $NF } END { print s }'), warnings:"
grep -h "WARN\|ERROR" "$work"/logs/daemonkit.log | head -5 || true
echo "server GC pauses: $(grep -c Pause "${TMPDIR:-/tmp}/presence-server-gc.log"), longest $(grep -o '[0-9.]*ms$' "${TMPDIR:-/tmp}/presence-server-gc.log" | sort -n | tail -1)"
kill -TERM "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true

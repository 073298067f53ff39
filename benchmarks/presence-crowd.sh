#!/usr/bin/env bash
# The attack "10,000 users in one room" on the presence daemon: USERS bots (default 10,000) log in and
# join ONE room, ping every 10 s as real clients do, and a few of them talk (CHAT_RATE messages per
# second per user). Prints the bots' figures (delivery latency, lost messages, errors, unexpected
# closes: a user who pinged and was timed out counts there), how long the joins took, and every event
# loop stall the launcher's watchdog saw (threshold 200 ms). Then one more user tries to JOIN the full
# room (max-room-members = USERS) and must get ERR room-full.
# Server pinned to CPU 0, bots to CPU 1. The 10,000 client sockets are in the bots' JVM, the 10,000
# server sockets in the launcher's: two processes, because one may open at most 20,000 files.
#
#   benchmarks/presence-crowd.sh
#   USERS=5000 CHAT_RATE=0.002 DURATION=30s benchmarks/presence-crowd.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
USERS=${USERS:-10000}
CHAT_RATE=${CHAT_RATE:-0.001}   # 10,000 users x 0.001 = 10 messages/s, each to 10,000 members
DURATION=${DURATION:-30s}

mkdir -p "$work/plugins" "$work/logs"
cp -r "$dist/plugins/presence" "$work/plugins/"
cat > "$work/daemonkit.conf" <<CONF
daemonkit.admin.enabled = false
daemonkit.logging.console.enabled = false
daemonkit.watchdog.threshold = 200 ms
# 19,500 connections must fit in the connection budget: keep 400 descriptors (not 1024) in reserve.
daemonkit.connections.reserve = 400
daemons.presence {
  listen = "127.0.0.1:17110", listen-http = "127.0.0.1:17190"
  max-connections = 19500
  max-room-members = $USERS
}
CONF
DAEMONKIT_OPTS="-Xms1g -Xmx1g -XX:+UseG1GC" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/daemonkit.conf" \
  --plugins "$work/plugins" --logs "$work/logs" > "$work/server.out" 2>&1 &
pids+=($!)
wait_port 17110

echo "== $USERS users join one room, ping every 10 s, $CHAT_RATE msg/s each for $DURATION"
taskset -c 1 java -Xms1g -Xmx1g -XX:+UseG1GC -cp "$bots" dev.daemonkit.bench.Bots --mode presence \
  --target 127.0.0.1:17110 --users "$USERS" --room-size "$USERS" --chat-rate "$CHAT_RATE" --silent 0 \
  --ping-interval 10s --duration "$DURATION" --report 10s --source-addresses 2 > "$work/bots.out" 2>&1 &
botspid=$!; pids+=($botspid)

# Meanwhile: one more user, after everyone is in, must be refused.
for _ in $(seq 1 1800); do grep -q "^logged in" "$work/bots.out" && break; sleep 0.1; done
reply=$(exec 3<>/dev/tcp/127.0.0.1/17110; printf 'LOGIN one-too-many\nJOIN r0\nQUIT\n' >&3; timeout 10 cat <&3 || true)
wait $botspid || true
grep -v "^bots:" "$work/bots.out"
echo "one more user: $(echo "$reply" | grep -m1 'JOIN\|ERR' || echo '(no reply)')"
echo "== event loop stalls over 200 ms (launcher's watchdog):"
grep -h "has been blocked\|running again" "$work"/logs/*.log | sed 's/ Stack of the blocked thread:.*//' | cut -c1-220 || echo "none"
echo "stalls: $(grep -h -c 'has been blocked' "$work"/logs/daemonkit.log || true); the top of each blocked stack:"
awk '/has been blocked/ { n = 14; print "--" } n > 0 && /^\tat / { print; n-- }' "$work"/logs/daemonkit.log | grep -v "java.base" | head -60 || true
grep -h "WARN\|ERROR" "$work"/logs/*.log | grep -v "StallWatchdog" | head -5 || true
kill -TERM "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true

#!/usr/bin/env bash
# The presence daemon across launchers (broker = redis): the presence bots spread over two launchers
# that share one redis-server, every room split half and half between them; then the same load on one
# launcher with broker = memory, for comparison. For each: deliveries per second, delivery latency
# p50/p99/max (and, across launchers, for deliveries from a user of the other launcher), messages
# lost, heap per online user.
#
# CPUs (a 2-core machine): the server side on CPU 0 (both launchers and Redis, or the one launcher),
# the bots on CPU 1, so both runs give the server side the same CPU. Same JVM flags for every launcher.
# Heap per user: full GC (jcmd GC.run), G1 "used" before the users log in and while they are all
# online and idle (chat rate 0); (after - before) summed over the launchers / users.
# Server CPU: user + system seconds of the server processes (both launchers and Redis, or the one launcher) over the
# chat window, and per delivered message (less noisy than latency on a shared machine). GC pauses in the window
# (each launcher logs its GC to gc.log): how many, the longest.
# WARMUP: how long the bots chat before the window opens (default 1s, as in the runs of docs/benchmarks.md until
# 2026-11-30 12:00 UTC); 15s leaves the launchers' JIT compilation of the chat path out of the window.
#
#   benchmarks/presence-cluster.sh
#   USERS=10000 ROOM_SIZE=20 RATE=0.1 DURATION=60s REDIS_TIMEOUT="10 s" benchmarks/presence-cluster.sh
#   DIST=/tmp/before/daemonkit benchmarks/presence-cluster.sh     # another build's launchers (A/B), same bots
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
USERS=${USERS:-10000}
ROOM_SIZE=${ROOM_SIZE:-20}
RATE=${RATE:-0.1}
DURATION=${DURATION:-60s}
WARMUP=${WARMUP:-1s}
SOURCES=${SOURCES:-4}
REDIS_PORT=${REDIS_PORT:-16479}
# The daemon's default is 2 s; on a starved machine a cold launcher's first login burst can take longer (those
# LOGINs are refused: ERR unavailable, counted in the stats line), which skews heap per online user.
REDIS_TIMEOUT=${REDIS_TIMEOUT:-2 s}
command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 2; }
SERVER_JVM="-Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:+UseG1GC"
BOTS_JVM="-Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:+UseG1GC"

start_launcher() {   # NAME PORT BROKER: a launcher with the presence daemon only, on CPU 0
  local name=$1 port=$2 broker=$3
  mkdir -p "$work/$name/plugins" "$work/$name/logs"
  cp -r "$dist/plugins/presence" "$work/$name/plugins/"
  cat > "$work/$name/daemonkit.conf" <<CONF
daemonkit.admin.enabled = false
daemonkit.logging.console.enabled = false
daemonkit.connections.reserve = 400
daemons.presence {
  listen = "127.0.0.1:$port", listen-http = "127.0.0.1:$((port + 80))", max-connections = 19500
  broker = $broker
  stats-interval = 10 s
  redis { address = "127.0.0.1:$REDIS_PORT", key-prefix = "bench-$name", command-timeout = $REDIS_TIMEOUT }
}
CONF
  # Every launcher of the cluster shares one key prefix: that is what makes them one service.
  if [ "$broker" = redis ]; then sed -i 's/key-prefix = "bench-[a-z]*"/key-prefix = "bench-cluster"/' "$work/$name/daemonkit.conf"; fi
  DAEMONKIT_OPTS="$SERVER_JVM -Xlog:gc:file=$work/$name/gc.log:uptime" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/$name/daemonkit.conf" \
    --plugins "$work/$name/plugins" --logs "$work/$name/logs" > "$work/$name/server.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do grep -q "RUNNING on" "$work/$name/logs/daemonkit.log" 2>/dev/null && break; sleep 0.1; done
}
java_pid() {   # NAME: the launcher's JVM
  pgrep -f "config $work/$1/daemonkit.conf" | while read -r p; do [ "$(ps -o comm= -p "$p")" = java ] && echo "$p"; done | head -n 1
}
heap_used_kb() {   # PID: full GC, then the G1 heap's "used" figure in KB
  jcmd "$1" GC.run >/dev/null
  sleep 1
  jcmd "$1" GC.heap_info | awk '/garbage-first heap/ { for (i = 1; i <= NF; i++) if ($i == "used") { gsub("K","",$(i+1)); print $(i+1) } }'
}
run_bots() {   # OUTFILE TARGETS ARGS...: the bots, in the foreground
  local out=$1 targets=$2; shift 2
  taskset -c 1 java $BOTS_JVM -cp "$bots" dev.daemonkit.bench.Bots --mode presence --target "$targets" \
    --users "$USERS" --room-size "$ROOM_SIZE" --silent 0 --source-addresses "$SOURCES" "$@" > "$out" 2>&1 || true
}
cpu_ticks() {   # PID...: user + system clock ticks of these processes, summed
  local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo "$t"
}
seconds() { local d=$1; case $d in *ms) echo 0;; *s) echo "${d%s}";; *m) echo $((${d%m} * 60));; *) echo "$d";; esac; }
measure() {   # LABEL TARGETS NAMES...: heap per user (idle users), then the chat run
  local label=$1 targets=$2; shift 2
  local before=() after=() total=0
  for n in "$@"; do before+=("$(heap_used_kb "$(java_pid "$n")")"); done
  if [ "$label" = cluster ]; then
    echo "redis before the users: $(redis-cli -p "$REDIS_PORT" info memory | grep -E '^used_memory:' | tr -d '\r')"
  fi
  # Idle long enough that they are all still online while the heap (jcmd is slow on a busy machine) and Redis are read.
  run_bots "$work/$label-idle.out" "$targets" --chat-rate 0 --duration 40s --report 40s &
  local idle=$!
  for _ in $(seq 1 1200); do grep -q "^logged in" "$work/$label-idle.out" 2>/dev/null && break; sleep 0.1; done
  grep "^logged in" "$work/$label-idle.out"
  sleep 2
  if [ "$label" = cluster ]; then
    echo "redis with $USERS users online: $(redis-cli -p "$REDIS_PORT" info memory | grep -E '^used_memory:' | tr -d '\r'), keys: $(redis-cli -p "$REDIS_PORT" dbsize)"
  fi
  local i=0
  for n in "$@"; do after+=("$(heap_used_kb "$(java_pid "$n")")"); total=$((total + after[i] - before[i])); i=$((i + 1)); done
  local still; still=$(grep -c "^" "$work/$label-idle.out")
  wait $idle || true
  echo "$label: heap used before ${before[*]} KB, with $USERS users online ${after[*]} KB: $((total * 1024 / USERS)) bytes per online user"
  [ "$still" -le 2 ] || echo "$label: WARNING the idle run printed more than its login line before the heap was read"
  grep -E "^result" "$work/$label-idle.out" || true
  echo "$label: $USERS users in rooms of $ROOM_SIZE chatting at $RATE msg/s each for $DURATION"
  local servers=() n; for n in "$@"; do servers+=("$(java_pid "$n")"); done
  [ "$label" = cluster ] && servers+=("$(pgrep -f "redis-server 127.0.0.1:$REDIS_PORT" | head -n 1)")
  run_bots "$work/$label-chat.out" "$targets" --chat-rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" \
    --report 10s &
  local chat=$!
  for _ in $(seq 1 1200); do grep -q "^logged in" "$work/$label-chat.out" 2>/dev/null && break; sleep 0.1; done
  sleep "$(seconds "$WARMUP")"   # the window opens now
  local t0 up0=() hz; t0=$(cpu_ticks "${servers[@]}"); hz=$(getconf CLK_TCK)
  for n in "$@"; do up0+=("$(ps -o etimes= -p "$(java_pid "$n")" | tr -d ' ')"); done
  sleep "$(seconds "$DURATION")"
  local t1; t1=$(cpu_ticks "${servers[@]}")
  wait $chat || true
  grep -v "^bots:" "$work/$label-chat.out"
  local rate; rate=$(grep -oE "delivered_s=[0-9]+" "$work/$label-chat.out" | cut -d= -f2)
  echo "$label: server CPU in the window $(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }') s" \
    "over $DURATION: $(awk -v t=$((t1 - t0)) -v hz="$hz" -v r="${rate:-0}" -v d="$(seconds "$DURATION")" \
    'BEGIN { if (r > 0) printf "%.1f", t / hz * 1e6 / (r * d); else printf "?" }') us per delivered message"
  local i=0
  for n in "$@"; do   # GC pauses from the window's start (JVM uptime, whole seconds) on
    echo "$label: launcher $n GC pauses in the window: $(awk -v from="${up0[i]}" '/Pause/ {
      up = substr($1, 2) + 0; if (up >= from) { c++; ms = $NF; sub("ms", "", ms); if (ms + 0 > m) m = ms + 0; s += ms } }
      END { printf "%d, longest %.1f ms, total %.1f ms", c, m, s }' "$work/$n/gc.log")"
    i=$((i + 1))
  done
}

echo "== cluster: two launchers, broker = redis, one redis-server on 127.0.0.1:$REDIS_PORT (all on CPU 0), bots on CPU 1"
taskset -c 0 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --loglevel warning > "$work/redis.log" 2>&1 &
pids+=($!)
wait_port "$REDIS_PORT"
start_launcher a 17300 redis
start_launcher b 17400 redis
measure cluster "127.0.0.1:17300,127.0.0.1:17400" a b
echo "redis: $(redis-cli -p "$REDIS_PORT" info memory | grep '^used_memory_human' | tr -d '\r'), \
$(redis-cli -p "$REDIS_PORT" info stats | grep -E '^(total_commands_processed|instantaneous_ops_per_sec)' | tr -d '\r' | tr '\n' ' ')"
echo "redis CPU (user+sys seconds over the whole cluster run): $(ps -o times= -p "$(pgrep -f "redis-server 127.0.0.1:$REDIS_PORT" | head -n 1)")"
for n in a b; do
  echo "launcher $n, last stats line: $(grep -h ' online in ' "$work/$n/logs/presence.log" | tail -1 | sed 's/.* - //')"
  echo "launcher $n: LEAK reports $(grep -c 'LEAK:' "$work/$n"/logs/*.log | awk -F: '{ s += $NF } END { print s }'), warnings: $(grep -c 'WARN' "$work/$n/logs/presence.log" || true)"
  kill -TERM "$(java_pid "$n")" 2>/dev/null || true
done
sleep 3

echo "== one launcher, broker = memory (CPU 0), bots on CPU 1"
start_launcher single 17500 memory
measure memory "127.0.0.1:17500" single
kill -TERM "$(java_pid single)" 2>/dev/null || true

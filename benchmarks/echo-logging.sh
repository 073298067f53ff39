#!/usr/bin/env bash
# What logging costs the echo daemon (issue 4): the same load with no log call per request (off),
# with an INFO call filtered out by the daemon's level (filtered), with one INFO line per request
# written to logs/echo.log and logs/daemonkit.log (info, the default configuration), written to
# logs/echo.log only (own: daemonkit.logging.file.enabled = false), and as info with both files on a
# "stalled disk" (FIFOs drained at ~64 KB/s, far slower than the lines come) (stalled); and, not in the
# default set, as own with rolled files left uncompressed (bare: the floor of writing a line to a file).
#
#   benchmarks/echo-logging.sh              # 3 rounds, 50 connections, depth 16, 10 s each
#   ROUNDS=1 DURATION=5s benchmarks/echo-logging.sh
#   CONFIGS="off own" ROUNDS=6 DEPTH=1 benchmarks/echo-logging.sh   # an A/B of two configurations
#
# Server pinned to CPU 0, bots to CPU 1; the server's CPU per request comes from /proc/PID/stat.
# Bounded: every process it starts is stopped at the end.
set -euo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
# Warm-up before each measured run: the JIT was still compiling after 3 s, and after 15 s it still
# recompiled the writer's and the rolling file's paths (run a few hundred times a second, they reach
# the C2 thresholds late; the first rollover's classes also deoptimise), which counted against the
# variants that log.
WARMUP=${WARMUP:-30s}
CONNS=${CONNS:-50}
DEPTH=${DEPTH:-16}
# Which configurations each round runs, in order; "off" first (the ratios are to it).
CONFIGS=${CONFIGS:-off filtered info own stalled}
read -r first _ <<< "$CONFIGS"
if [ "$first" != off ]; then echo "CONFIGS must start with off (the ratios are to it): $CONFIGS" >&2; exit 2; fi
for c in $CONFIGS; do
  case $c in off|filtered|info|own|stalled|bare) ;; *) echo "unknown configuration $c (off filtered info own stalled bare)" >&2; exit 2 ;; esac
done
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
port=17910
admin=17911
hz=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Per thread: id, name (digits folded), CPU ticks. Threads that end within the window (none of ours) are missed.
snap_threads() { for t in /proc/$1/task/*; do echo "${t##*/} $(tr -d ' ' < "$t/comm" | tr '0-9' 'N') $(awk '{ print $14 + $15 }' "$t/stat")"; done; }

run() {   # NAME LOG_LINES LEVEL STALLED [ALL_LINES_FILE] [COMPRESSION] -> prints one result line
  local name=$1 lines=$2 level=$3 stalled=$4 allfile=${5:-true} compression=${6:-zstd}
  rm -rf "$work/home"; mkdir -p "$work/home/plugins" "$work/home/logs"
  cp "$dist/plugins/echo.jar" "$work/home/plugins/"
  cat > "$work/home/d.conf" <<CONF
daemonkit.admin.listen = "127.0.0.1:$admin"
daemonkit.logging.console.enabled = false
daemonkit.logging.file.enabled = $allfile
daemons {
  echo { listen = "127.0.0.1:$port", log-lines = $lines, logging.level = $level, logging.rolling.compression = $compression }
  daytime.enabled = false
}
CONF
  local drains=()
  if [ "$stalled" = yes ]; then
    for f in echo.log daemonkit.log; do
      mkfifo "$work/home/logs/$f"
      # The slow disk: 4 KB every 1/16 s.
      (while dd bs=4k count=1 status=none of=/dev/null; do sleep 0.0625; done) < "$work/home/logs/$f" &
      drains+=($!); pids+=($!)
    done
  fi
  DAEMONKIT_OPTS="-Xms1g -Xmx1g -XX:+AlwaysPreTouch" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/home/d.conf" \
    --plugins "$work/home/plugins" --logs "$work/home/logs" > "$work/launcher.out" 2>&1 &
  local pid=$!; pids+=($pid)
  wait_port $port
  taskset -c 1 java -jar "$bots" --mode echo --target 127.0.0.1:$port --connections "$CONNS" --depth "$DEPTH" \
    --duration "$WARMUP" --warmup 0s > /dev/null 2>&1
  snap_threads $pid > "$work/threads0"
  local c0; c0=$(cpu_ticks $pid)
  local out; out=$(taskset -c 1 java -jar "$bots" --mode echo --target 127.0.0.1:$port --connections "$CONNS" \
    --depth "$DEPTH" --duration "$DURATION" --warmup 0s 2>&1 | grep '^RESULT')
  local c1; c1=$(cpu_ticks $pid)
  snap_threads $pid > "$work/threads1"
  local dropped; dropped=$(curl -s "http://127.0.0.1:$admin/metrics" | awk '/^daemonkit_log_events_dropped_total/ { print $2 }')
  kill -TERM $pid; wait $pid 2>/dev/null || true
  for d in "${drains[@]}"; do kill "$d" 2>/dev/null || true; done
  local reqs; reqs=$(echo "$out" | sed -E 's/.*req_s=([0-9]+).*/\1/')
  local secs; secs=$(echo "$DURATION" | tr -d s)
  local us_per_req; us_per_req=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v r="$reqs" -v s="$secs" 'BEGIN { printf "%.2f", t / hz * 1e6 / (r * s) }')
  printf '%-9s %9s req/s  server CPU %5s us/req  %s  dropped=%s\n' "$name" "$reqs" "$us_per_req" \
    "$(echo "$out" | grep -oE 'p50_us=[0-9]+ p99_us=[0-9]+')" "${dropped:-?}"
  # Where that CPU went: event loops, log writer, log archiver (compression of rolled files), JIT; us per request.
  awk -v hz="$hz" -v r="$reqs" -v s="$secs" 'NR == FNR { a[$1] = $3; next }
    { d[$2] += $3 - a[$1] } END { for (k in d) if (d[k] > 0) printf "%s=%.2f ", k, d[k] / hz * 1e6 / (r * s); print "" }' \
    "$work/threads0" "$work/threads1" | sed 's/^/            threads: /' 
  echo "$name $reqs" >> "$work/results"
}

echo "echo daemon, $CONNS connections, depth $DEPTH, $DURATION per run, $ROUNDS round(s)"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  for c in $CONFIGS; do
    case $c in
      off) run off false INFO no ;;
      filtered) run filtered true WARN no ;;
      info) run info true INFO no ;;
      own) run own true INFO no false ;;
      stalled) run stalled true INFO yes ;;
      bare) run bare true INFO no false none ;;
    esac
  done
done
# Each round's ratios to that round's "off": the machine's noise moves whole minutes, so a ratio
# within a round is steadier than the ratio of medians taken over all rounds.
echo "per round, against the round's off:"
awk -v configs="$CONFIGS" 'BEGIN { n = split(configs, names, " ") } $1 == "off" { round++ } { v[round, $1] = $2 } END {
  for (r = 1; r <= round; r++) { line = "round " r ":"
    for (i = 1; i <= n; i++) if (names[i] != "off" && v[r, names[i]] != "") line = line sprintf("  %s %.3f", names[i], v[r, names[i]] / v[r, "off"])
    print line } }' "$work/results" | tee "$work/ratios"
printf 'median of the per-round ratios:'
for name in $CONFIGS; do
  [ "$name" = off ] && continue
  { grep -oE " $name [0-9.]+" "$work/ratios" || true; } | awk '{ print $2 }' | sort -n \
    | awk -v n="$name" '{ a[NR] = $1 } END { if (NR) printf "  %s %.3f", n, (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2 }'
done
echo
echo "medians over the rounds:"
for name in $CONFIGS; do
  awk -v n=$name '$1 == n { print $2 }' "$work/results" | sort -n \
    | awk -v n=$name '{ a[NR] = $1 } END { print n, (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2 }'
done > "$work/medians"
cat "$work/medians"
awk '{ v[$1] = $2; order[NR] = $1 } END { for (i = 1; i <= NR; i++) if (order[i] != "off" && v["off"] > 0)
  printf "%s / off: %.3f (cost %.1f %%)   ", order[i], v[order[i]] / v["off"], (1 - v[order[i]] / v["off"]) * 100; print "" }' "$work/medians"

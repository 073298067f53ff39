#!/usr/bin/env bash
# Where a logged line's CPU goes: the launcher under echo-logging.sh's "info" load (one INFO line per
# request, default configuration: logs/echo.log and logs/daemonkit.log), profiled with async-profiler
# for PROF seconds after the warm-up, and each thread's CPU and write(2) calls (syscw, wchar of
# /proc/PID/task/TID/io) over the same window.
#
#   ASYNC_PROFILER=/path/to/libasyncProfiler.so benchmarks/logging-profile.sh
#   DEPTH=1 PROF=10 OUT=/tmp/prof benchmarks/logging-profile.sh
#   LOG_LINES=false OUT=/tmp/off benchmarks/logging-profile.sh          # the same load logging nothing
#   EXTRA_CONF='daemonkit.logging.file.enabled = false
#     daemons.echo.logging.rolling.compression = none' benchmarks/logging-profile.sh   # another configuration
#
# Writes OUT/collapsed.txt (collapsed stacks, one line per stack, per thread). The launcher runs with
# -XX:+DebugNonSafepoints: the profiler is attached after the warm-up, and without it the code compiled
# before then has no debug information between safepoints, so samples in inlined code land on the
# wrong method (a profile without it put 22 % of the writer in HashMap lookups that took ~3 %).
# Server pinned to CPU 0, bots to CPU 1, as in echo-logging.sh.
set -euo pipefail
AP=${ASYNC_PROFILER:?set ASYNC_PROFILER to the path of libasyncProfiler.so (async-profiler 4.x)}
DEPTH=${DEPTH:-16}
WARMUP=${WARMUP:-30s}
PROF=${PROF:-20}
OUT=${OUT:-$(mktemp -d)}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
port=17950
admin=17951
mkdir -p "$OUT" "$work/plugins" "$work/logs"
cp "$dist/plugins/echo.jar" "$work/plugins/"
cat > "$work/d.conf" <<CONF
daemonkit.admin.listen = "127.0.0.1:$admin"
daemonkit.logging.console.enabled = false
daemons {
  echo { listen = "127.0.0.1:$port", log-lines = ${LOG_LINES:-true} }
  daytime.enabled = false
}
${EXTRA_CONF:-}
CONF
DAEMONKIT_OPTS="-Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints" \
  taskset -c 0 "$dist/bin/daemonkit" run --config "$work/d.conf" --plugins "$work/plugins" --logs "$work/logs" \
  > "$work/launcher.out" 2>&1 &
pid=$!; pids+=($pid)
wait_port $port
taskset -c 1 java -jar "$bots" --mode echo --target 127.0.0.1:$port --connections 50 --depth "$DEPTH" \
  --duration "$WARMUP" --warmup 0s > /dev/null 2>&1
# Per thread (digits folded): write calls, bytes written, CPU ticks.
snap() { for t in /proc/$pid/task/*; do echo "$(tr -d ' ' < "$t/comm" | tr '0-9' 'N')" \
  "$(awk '/^syscw/ { w = $2 } /^wchar/ { c = $2 } END { print w, c }' "$t/io")" "$(awk '{ print $14 + $15 }' "$t/stat")"; done; }
taskset -c 1 java -jar "$bots" --mode echo --target 127.0.0.1:$port --connections 50 --depth "$DEPTH" \
  --duration $((PROF + 4))s --warmup 0s > "$work/bots.txt" 2>&1 &
bp=$!; pids+=($bp)
sleep 2
snap > "$work/s0"
# jcmd's parser splits on '='; the quotes keep async-profiler's options in one argument.
jcmd $pid JVMTI.agent_load "$AP" "\"start,event=cpu,interval=1ms,threads\"" > /dev/null
sleep "$PROF"
jcmd $pid JVMTI.agent_load "$AP" "\"stop,threads,collapsed,file=$OUT/collapsed.txt\"" > /dev/null
snap > "$work/s1"
wait $bp || true
grep '^RESULT' "$work/bots.txt"
hz=$(getconf CLK_TCK)
echo "per thread over the $PROF s window: write calls/s, bytes per call, CPU %"
awk -v s="$PROF" -v hz="$hz" 'NR == FNR { w[$1] += $2; c[$1] += $3; t[$1] += $4; next }
  { W[$1] += $2; C[$1] += $3; T[$1] += $4 }
  END { for (k in W) { dw = W[k] - w[k]; dt = T[k] - t[k]; if (dw > 0 || dt > 0)
    printf "  %-16s %8.0f %9.0f %6.1f\n", k, dw / s, dw ? (C[k] - c[k]) / dw : 0, dt * 100 / hz / s } }' "$work/s0" "$work/s1"
curl -s "http://127.0.0.1:$admin/metrics" | grep -E '^daemonkit_log_(events_dropped|lines_lost)_total' || true
kill -TERM $pid; wait $pid 2>/dev/null || true
echo "profile: $OUT/collapsed.txt"

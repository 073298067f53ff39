#!/usr/bin/env bash
# Sustained logging with small rolling limits (issue 4): the echo daemon logs one INFO line per
# request to logs/echo.log and logs/daemonkit.log, both rolling at 10 MiB with a 20 MiB cap on
# what is kept. Every 20 s it prints the size of logs/, the rolled files not yet compressed, the
# half-written archives, the server's resident memory and the lines dropped or lost. What must hold: logs/
# stays under 2 x (20 + 10 + 10) MiB (per file: the cap on archives, the active file, and the one
# rolled file being compressed), rolled files do not pile up uncompressed, memory stays flat.
#
#   benchmarks/logging-soak.sh                 # 3 minutes
#   DURATION=600s benchmarks/logging-soak.sh
#
# Server pinned to CPU 0, bots to CPU 1. Bounded: everything it starts is stopped at the end.
set -euo pipefail
DURATION=${DURATION:-180s}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
port=17920
admin=17921
mkdir -p "$work/plugins" "$work/logs"
cp "$dist/plugins/echo.jar" "$work/plugins/"
cat > "$work/d.conf" <<CONF
daemonkit.admin.listen = "127.0.0.1:$admin"
daemonkit.logging.console.enabled = false
daemonkit.logging.rolling { max-file-size = 10 MiB, total-size-cap = 20 MiB }
daemonkit.daemon-defaults.logging.rolling { max-file-size = 10 MiB, total-size-cap = 20 MiB }
daemons {
  echo { listen = "127.0.0.1:$port", log-lines = true }
  daytime.enabled = false
}
CONF
DAEMONKIT_OPTS="-Xms1g -Xmx1g -XX:+AlwaysPreTouch" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/d.conf" \
  --plugins "$work/plugins" --logs "$work/logs" > "$work/launcher.out" 2>&1 &
pid=$!; pids+=($pid)
wait_port $port
taskset -c 1 java -jar "$bots" --mode echo --target 127.0.0.1:$port --connections 50 --depth 1 \
  --duration "$DURATION" --warmup 0s > "$work/bots.out" 2>&1 &
bp=$!; pids+=($bp)
while kill -0 $bp 2>/dev/null; do
  sleep 20
  kill -0 $bp 2>/dev/null || break
  names=$(ls "$work/logs")
  metrics=$(curl -s "http://127.0.0.1:$admin/metrics")
  printf '%s  logs=%sMB  rolled-uncompressed=%s  compressed=%s  partial=%s  rss=%skB  dropped=%s  lost=%s\n' "$(date +%T)" \
    "$(du -sm "$work/logs" | cut -f1)" "$(grep -cE '\.[0-9]+\.log$' <<< "$names" || true)" \
    "$(grep -cE '(gz|zst)$' <<< "$names" || true)" "$(grep -c 'part$' <<< "$names" || true)" \
    "$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)" \
    "$(awk '/^daemonkit_log_events_dropped_total/ { print $2 }' <<< "$metrics")" \
    "$(awk '/^daemonkit_log_lines_lost_total/ { print $2 }' <<< "$metrics")"
done
grep '^RESULT' "$work/bots.out" || { echo "bots failed:"; cat "$work/bots.out"; exit 1; }
kill -TERM $pid
wait $pid && echo "server stopped cleanly" || echo "server exit status $?"

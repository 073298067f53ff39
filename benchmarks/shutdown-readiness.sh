#!/usr/bin/env bash
# How soon readiness (GET /health/ready) turns 503 after TERM (issue 15: within 100 ms), over RUNS
# launcher starts: each run starts a launcher (echo only, shutdown.delay 2 s, pinned to CPU 0), the
# prober (CPU 1) polls readiness until 200, sends TERM itself (kill(2), no fork) and times the first 503.
#
#   benchmarks/shutdown-readiness.sh
#   RUNS=20 benchmarks/shutdown-readiness.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${RUNS:-10}
mkdir -p "$work/plugins" "$work/logs"
cp "$dist/plugins/echo.jar" "$work/plugins/"
cat > "$work/daemonkit.conf" <<CONF
daemonkit.admin.listen = "127.0.0.1:17070"
daemonkit.logging.console.enabled = false
daemonkit.shutdown.delay = 2 s
daemons.echo.listen = "127.0.0.1:17000"
daemons.daytime { listen = "127.0.0.1:17013", listen-udp = "127.0.0.1:17013" }
CONF
for run in $(seq 1 "$RUNS"); do
  DAEMONKIT_OPTS="-Xms256m -Xmx256m -XX:+AlwaysPreTouch" taskset -c 0 "$dist/bin/daemonkit" run \
    --config "$work/daemonkit.conf" --plugins "$work/plugins" --logs "$work/logs" > "$work/server.out" 2>&1 &
  launcher=$!; pids+=($launcher)
  taskset -c 1 java -cp "$bots" dev.daemonkit.bench.ReadinessOnTerm 17070 "$launcher" | tee -a "$work/results"
  wait "$launcher" || { echo "launcher exited with $?"; cat "$work/server.out"; exit 1; }
done
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'; }
echo "readiness 503 after TERM over $RUNS runs: p50 $(awk '{ print $4 }' "$work/results" | median) ms," \
  "max $(awk '{ print $4 }' "$work/results" | sort -n | tail -1) ms;" \
  "one readiness poll while ready (baseline, same runs): p50 $(sed 's/.*while ready: //' "$work/results" | awk '{ print $1 }' | median) ms"

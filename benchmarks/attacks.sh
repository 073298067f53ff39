#!/usr/bin/env bash
# The attacks of the isolation issue against a launcher running every sample daemon on its default
# budgets (ulimit -n 20000), while a probe asks echo, the cache and presence every 50 ms: per phase,
# the probe's p50/p99/max, new event-loop stalls (watchdog at 200 ms) and the launcher's RSS, and
# what the attacker got. The first phase is a quiet baseline of the same run.
# Server pinned to CPU 0, attacker and probe to CPU 1; server JVM -Xms = -Xmx, pre-touched.
#
#   benchmarks/attacks.sh                                   # every phase (about 2 minutes)
#   PHASES=baseline,memory benchmarks/attacks.sh
#   TRANSPORT=io_uring benchmarks/attacks.sh                # daemonkit.transport.native (default auto)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PHASES=${PHASES:-baseline,flood-admin,flood-all,memory,slowloris}
SERVER_JVM="-Xms512m -Xmx512m -XX:+AlwaysPreTouch"

mkdir -p "$work/plugins" "$work/logs"
cp -R "$dist"/plugins/. "$work/plugins/"   # presence is a folder (its jar and Lettuce)
cat > "$work/daemonkit.conf" <<CONF
daemonkit {
  admin.listen = "127.0.0.1:17070"
  watchdog.threshold = 200 ms
  transport.native = ${TRANSPORT:-auto}
  logging.console.enabled = false
}
daemons {
  echo.listen = "127.0.0.1:17000"
  daytime { listen = "127.0.0.1:17013", listen-udp = "127.0.0.1:17013" }
  cache.listen = "127.0.0.1:17311"
  presence { listen = "127.0.0.1:17100", listen-http = "127.0.0.1:17180" }
}
CONF
ulimit -n 20000
DAEMONKIT_OPTS="$SERVER_JVM" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/daemonkit.conf" \
  --plugins "$work/plugins" --logs "$work/logs" > "$work/server.out" 2>&1 &
server=$!; pids+=($server)
wait_port 17070 && wait_port 17000 && wait_port 17311 && wait_port 17100 || { cat "$work/server.out"; exit 1; }
echo "launcher pid $server; phases: $PHASES"
taskset -c 1 java -Xms512m -Xmx512m -cp "$bots" dev.daemonkit.bench.Attacks 17070 17000 17311 17100 17180 "$server" "$PHASES"
echo "--- launcher warnings during the run, counted by kind:"
grep -E " (WARN|ERROR) " "$work/logs/daemonkit.log" | sed -E 's/^[^ ]+ [^ ]+ //; s/#[0-9]+ from [0-9.:]+/#N from PEER/; s/[0-9]+ (ms|more)/N \1/g; s/conn=[0-9]+ peer=[0-9.:]+/conn=N/' \
  | cut -c1-200 | sort | uniq -c | sort -rn | head -12 || true
echo "--- stall reports with the top of the blocked stack:"
grep -A8 "has been blocked for" "$work/logs/daemonkit.log" | grep -E "blocked for|^\s+at " | cut -c1-160 | head -40 || true
kill -TERM $server; wait $server 2>/dev/null || true

#!/usr/bin/env bash
# An attacker's partial TLS records against a TLS echo listener (OpenSSL, the framework's record path): N
# connections each finish a handshake, then send the header of a 16 KiB record and BODY bytes of it and stop.
# Prints how many the daemon left open, the bytes it counts for incomplete requests, its refusals and the
# launcher's RSS before and while they are held. BoringSSL keeps such a record in a buffer of its own, which
# counts against daemons.echo.inbound.max-buffered-total (64 MiB by default): past it, connections are refused.
#
#   benchmarks/tls-record-flood.sh                 # N=6000 BODY=16000, about a minute
#   DIST=/path/to/other/build N=3000 BODY=0 benchmarks/tls-record-flood.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${N:-6000}
BODY=${BODY:-16000}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/echo.key" \
  -out "$work/echo.crt" -days 2 -subj /CN=localhost 2>/dev/null
mkdir -p "$work/plugins" "$work/logs"
cp "$dist/plugins/echo.jar" "$work/plugins/"
cat > "$work/daemonkit.conf" <<CONF
daemonkit {
  admin.listen = "127.0.0.1:17070"
  logging.console.enabled = false
}
daemons.echo {
  listen = "127.0.0.1:17443"
  tls.listen { cert-file = "$work/echo.crt", key-file = "$work/echo.key" }
}
CONF
ulimit -n 20000
"$dist/bin/daemonkit" run --config "$work/daemonkit.conf" --plugins "$work/plugins" --logs "$work/logs" \
  > "$work/server.out" 2>&1 &
server=$!; pids+=($server)
wait_port 17070 && wait_port 17443 || { cat "$work/server.out"; exit 1; }
sleep 2
java_pid=$server # bin/daemonkit execs the JVM
before=$(ps -o rss= -p "$java_pid")
python3 "$root/benchmarks/tls/record-flood.py" 127.0.0.1 17443 "$N" 15 16384 "$BODY" > "$work/flood.out" &
flood=$!; pids+=($flood)
until grep -q "still open" "$work/flood.out" 2>/dev/null; do
  kill -0 "$flood" 2>/dev/null || { cat "$work/flood.out"; exit 1; }
  sleep 1
done
cat "$work/flood.out"
held=$(ps -o rss= -p "$java_pid")
echo "launcher RSS: ${before} kB before, ${held} kB while they are held (+$(( (held - before) / 1024 )) MB)"
curl -s http://127.0.0.1:17070/metrics | grep 'daemon="echo"' \
  | grep -E '^daemonkit_(connections_open|inbound_buffered_bytes|inbound_refused_total)' || true
wait "$flood" || true

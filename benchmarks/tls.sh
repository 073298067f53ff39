#!/usr/bin/env bash
# What TLS costs the echo daemon (issue 15): plaintext against TLS with the JDK's engine and with
# OpenSSL (netty-tcnative-boringssl-static), the same daemon and config but for the tls block.
#   kept:       requests per second over kept connections, depth 1 (one request in flight each)
#   handshake:  new connections per second, each a full TLS handshake (no session resumption), one
#               request, close (the plaintext row is TCP connect + request + close, for scale)
# with the server's CPU per request (or per connection) from /proc/PID/stat.
#
#   benchmarks/tls.sh                            # 1 round, 5 s per measured run
#   ROUNDS=3 DURATION=5s benchmarks/tls.sh
#   CONFIGS="plain openssl" benchmarks/tls.sh
#
# Server pinned to CPU 0, bots to CPU 1. Certificate: EC P-256, self-signed, made by the openssl CLI.
# Bounded: every process it starts is stopped at the end; each bots run lasts WARMUP + DURATION.
set -euo pipefail
ROUNDS=${ROUNDS:-1}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-5s}
CONNS=${CONNS:-50}             # kept connections
HS_CONNS=${HS_CONNS:-16}       # connections opened in parallel in the handshake runs
CONFIGS=${CONFIGS:-plain jdk openssl}
read -r first _ <<< "$CONFIGS"
if [ "$first" != plain ]; then echo "CONFIGS must start with plain (the ratios are to it): $CONFIGS" >&2; exit 2; fi
for c in $CONFIGS; do
  case $c in plain|jdk|openssl) ;; *) echo "unknown configuration $c (plain jdk openssl)" >&2; exit 2 ;; esac
done
command -v openssl > /dev/null || { echo "the openssl CLI is needed to make the certificate (apt-get install openssl)" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
port=17920
admin=17921
hz=$(getconf CLK_TCK)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/server.key" -out "$work/server.crt" 2> /dev/null

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# bots MODE_ARGS... -> "REQ_S P50_US", measured, with the server's CPU ticks around it in $work/ticks
measure() {
  local pid=$1; shift
  taskset -c 1 java -jar "$bots" --mode echo --target 127.0.0.1:$port --duration "$WARMUP" --warmup 0s "$@" > /dev/null 2>&1
  local c0; c0=$(cpu_ticks "$pid")
  local out; out=$(taskset -c 1 java -jar "$bots" --mode echo --target 127.0.0.1:$port --duration "$DURATION" \
    --warmup 0s "$@" 2>&1 | grep '^RESULT')
  local c1; c1=$(cpu_ticks "$pid")
  echo "$((c1 - c0))" > "$work/ticks"
  echo "$(echo "$out" | sed -E 's/.*req_s=([0-9]+).*/\1/') $(echo "$out" | sed -E 's/.*p50_us=([0-9]+).*/\1/')"
}

run() {   # CONFIG -> prints two result lines, appends "CONFIG kept N" and "CONFIG handshake N" to results
  local name=$1 tls=""
  case $name in
    jdk|openssl) tls="tls.listen { cert-file = \"$work/server.crt\", key-file = \"$work/server.key\", provider = $name }" ;;
  esac
  rm -rf "$work/home"; mkdir -p "$work/home/plugins" "$work/home/logs"
  cp "$dist/plugins/echo.jar" "$work/home/plugins/"
  cat > "$work/home/d.conf" <<CONF
daemonkit.admin.listen = "127.0.0.1:$admin"
daemonkit.logging.console.enabled = false
daemons {
  echo {
    listen = "127.0.0.1:$port"
    $tls
  }
  daytime.enabled = false
}
CONF
  DAEMONKIT_OPTS="-Xms512m -Xmx512m -XX:+AlwaysPreTouch" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/home/d.conf" \
    --plugins "$work/home/plugins" --logs "$work/home/logs" > "$work/launcher.out" 2>&1 &
  local pid=$!; pids+=($pid)
  wait_port $port
  if [ "$name" != plain ] && ! grep -rq "provider $name" "$work/home/logs"; then
    echo "the launcher did not report provider $name:" >&2; grep -ri tls "$work/home/logs" >&2 || true; exit 1
  fi
  local secs; secs=$(echo "$DURATION" | tr -d s)
  local tls_arg=(); [ "$name" != plain ] && tls_arg=(--tls)
  read -r reqs p50 <<< "$(measure $pid --connections "$CONNS" --depth 1 "${tls_arg[@]}")"
  local us; us=$(awk -v t="$(cat "$work/ticks")" -v hz="$hz" -v r="$reqs" -v s="$secs" 'BEGIN { printf "%.2f", t / hz * 1e6 / (r * s) }')
  printf '%-8s kept       %9s req/s    server CPU %7s us/req    p50 %5s us\n' "$name" "$reqs" "$us" "$p50"
  echo "$name kept $reqs" >> "$work/results"
  read -r conns p50 <<< "$(measure $pid --connections "$HS_CONNS" --depth 1 --reconnect "${tls_arg[@]}")"
  us=$(awk -v t="$(cat "$work/ticks")" -v hz="$hz" -v r="$conns" -v s="$secs" 'BEGIN { printf "%.1f", t / hz * 1e6 / (r * s) }')
  printf '%-8s handshake  %9s conn/s   server CPU %7s us/conn   p50 %5s us\n' "$name" "$conns" "$us" "$p50"
  echo "$name handshake $conns" >> "$work/results"
  kill -TERM $pid; wait $pid 2>/dev/null || true
}

echo "echo daemon, kept: $CONNS connections depth 1; handshake: $HS_CONNS in parallel; $WARMUP warm-up + $DURATION per run; $ROUNDS round(s)"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r"
  for c in $CONFIGS; do run "$c"; done
done
# Same-round ratios: kept TLS / kept plaintext, and OpenSSL / JDK handshakes.
echo "per round:"
awk '$1 == "plain" && $2 == "kept" { round++ } { v[round, $1, $2] = $3 } END {
  for (r = 1; r <= round; r++) { line = "round " r ":"
    if (v[r, "jdk", "kept"]) line = line sprintf("  kept jdk/plain %.3f", v[r, "jdk", "kept"] / v[r, "plain", "kept"])
    if (v[r, "openssl", "kept"]) line = line sprintf("  kept openssl/plain %.3f", v[r, "openssl", "kept"] / v[r, "plain", "kept"])
    if (v[r, "jdk", "handshake"] && v[r, "openssl", "handshake"])
      line = line sprintf("  handshakes openssl/jdk %.2f", v[r, "openssl", "handshake"] / v[r, "jdk", "handshake"])
    print line } }' "$work/results"

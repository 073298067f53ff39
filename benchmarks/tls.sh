#!/usr/bin/env bash
# What TLS costs the echo daemon (issue 15): plaintext against TLS with the JDK's engine and with
# OpenSSL (netty-tcnative-boringssl-static). One launcher runs three instances of the echo plugin,
# alike but for their tls block: echo (plaintext), echo-jdk (provider = jdk), echo-openssl
# (provider = openssl). Each is measured in turn, in short interleaved slices, so that a busy
# neighbour on this shared machine hits all three alike and the ratios within a round hold:
#   kept:       requests per second over kept connections, depth 1 (one request in flight each)
#   handshake:  new connections per second, each a full TLS handshake (no session resumption), one
#               request, close (the plaintext row is TCP connect + request + close, for scale)
# with the server's CPU per request (or per connection) from /proc/PID/stat, taken from the bots'
# "measuring" line to their end.
#
#   benchmarks/tls.sh                      # warm-up, then 3 rounds of 3 s slices
#   ROUNDS=5 DURATION=5s benchmarks/tls.sh
#
# Server pinned to CPU 0, bots to CPU 1. Certificate: EC P-256, self-signed, made by the openssl CLI.
# Bounded: every process it starts is stopped at the end; no bots run lasts more than WARMUP + 2 s.
set -euo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3s}
# Warm-up of each daemon's paths before the rounds: with 4 s the JDK engine's paths were still being
# compiled (174 us of server CPU per kept request; 30 us after 15 s), which would be charged to it.
WARMUP=${WARMUP:-10s}
CONNS=${CONNS:-50}             # kept connections
HS_CONNS=${HS_CONNS:-16}       # connections opened in parallel in the handshake slices
command -v openssl > /dev/null || { echo "the openssl CLI is needed to make the certificate (apt-get install openssl)" >&2; exit 2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
base=17920
admin=17929
hz=$(getconf CLK_TCK)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/server.key" -out "$work/server.crt" 2> /dev/null

mkdir -p "$work/home/plugins" "$work/home/logs"
cp "$dist/plugins/echo.jar" "$work/home/plugins/"
tls() { echo "tls.listen { cert-file = \"$work/server.crt\", key-file = \"$work/server.key\", provider = $1 }"; }
cat > "$work/home/d.conf" <<CONF
daemonkit.admin.listen = "127.0.0.1:$admin"
daemonkit.logging.console.enabled = false
daemons {
  echo.listen = "127.0.0.1:$base"
  echo-jdk { plugin = echo, listen = "127.0.0.1:$((base + 1))", $(tls jdk) }
  echo-openssl { plugin = echo, listen = "127.0.0.1:$((base + 2))", $(tls openssl) }
  daytime.enabled = false
}
CONF
DAEMONKIT_OPTS="-Xms512m -Xmx512m -XX:+AlwaysPreTouch" taskset -c 0 "$dist/bin/daemonkit" run --config "$work/home/d.conf" \
  --plugins "$work/home/plugins" --logs "$work/home/logs" > "$work/launcher.out" 2>&1 &
pid=$!; pids+=($pid)
for p in $base $((base + 1)) $((base + 2)); do wait_port $p; done
for name in jdk openssl; do
  grep -rq "provider $name" "$work/home/logs" || { echo "the launcher did not report provider $name" >&2; exit 1; }
done
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
port_of() { case $1 in plain) echo $base ;; jdk) echo $((base + 1)) ;; openssl) echo $((base + 2)) ;; esac; }
tls_arg() { [ "$1" = plain ] || echo --tls; }

# bots CONFIG DURATION ARGS... -> "REQ_S P50_US US_PER_REQ", the server's CPU counted from "measuring" on
measure() {
  local name=$1 duration=$2; shift 2
  local out="$work/bots.out"; : > "$out"
  taskset -c 1 java -jar "$bots" --mode echo --target "127.0.0.1:$(port_of "$name")" $(tls_arg "$name") \
    --duration "$duration" --warmup 1s "$@" > "$out" 2>&1 &
  local b=$!; pids+=($b)
  local c0=""
  for _ in $(seq 1 400); do
    if grep -q '^measuring' "$out"; then c0=$(cpu_ticks); break; fi
    kill -0 $b 2>/dev/null || break
    sleep 0.025
  done
  wait $b || true
  local c1; c1=$(cpu_ticks)
  local line; line=$(grep '^RESULT' "$out") || { echo "bots failed:" >&2; cat "$out" >&2; exit 1; }
  local reqs; reqs=$(echo "$line" | sed -E 's/.*req_s=([0-9]+).*/\1/')
  local secs; secs=$(echo "$duration" | tr -d s)
  echo "$reqs $(echo "$line" | sed -E 's/.*p50_us=([0-9]+).*/\1/') $(awk -v t=$((c1 - ${c0:-c1})) -v hz="$hz" -v r="$reqs" \
    -v s="$secs" 'BEGIN { printf "%.1f", t / hz * 1e6 / (r * s) }')"
}

echo "echo daemon x3 in one launcher; kept: $CONNS connections depth 1; handshake: $HS_CONNS in parallel"
echo "warm-up: $WARMUP kept + $WARMUP handshakes per daemon"
for name in plain jdk openssl; do
  measure "$name" "$WARMUP" --connections "$CONNS" --depth 1 > /dev/null
  measure "$name" "$WARMUP" --connections "$HS_CONNS" --depth 1 --reconnect > /dev/null
done
echo "rounds: $ROUNDS x $DURATION slices (server CPU per request, or per new connection)"
for r in $(seq 1 "$ROUNDS"); do
  for name in plain jdk openssl; do
    read -r reqs p50 us <<< "$(measure "$name" "$DURATION" --connections "$CONNS" --depth 1)"
    printf 'round %d %-8s kept       %8s req/s    %7s us/req    p50 %6s us\n' "$r" "$name" "$reqs" "$us" "$p50"
    echo "$r $name kept $reqs $us" >> "$work/results"
  done
  for name in plain jdk openssl; do
    read -r conns p50 us <<< "$(measure "$name" "$DURATION" --connections "$HS_CONNS" --depth 1 --reconnect)"
    printf 'round %d %-8s handshake  %8s conn/s   %7s us/conn   p50 %6s us\n' "$r" "$name" "$conns" "$us" "$p50"
    echo "$r $name handshake $conns $us" >> "$work/results"
  done
done
# Same-round ratios: kept TLS / kept plaintext (throughput and server CPU), OpenSSL / JDK handshakes.
echo "per round (req/s ratio, and server CPU per request as a ratio to plaintext's):"
awk '{ v[$1, $2, $3] = $4; c[$1, $2, $3] = $5; if ($1 > n) n = $1 } END {
  for (r = 1; r <= n; r++)
    printf "round %d:  kept openssl/plain %.3f (CPU %.2fx)  kept jdk/plain %.3f (CPU %.2fx)  handshakes openssl/jdk %.2f (CPU %.2fx)\n", r,
      v[r, "openssl", "kept"] / v[r, "plain", "kept"], c[r, "openssl", "kept"] / c[r, "plain", "kept"],
      v[r, "jdk", "kept"] / v[r, "plain", "kept"], c[r, "jdk", "kept"] / c[r, "plain", "kept"],
      v[r, "openssl", "handshake"] / v[r, "jdk", "handshake"], c[r, "openssl", "handshake"] / c[r, "jdk", "handshake"] }' \
  "$work/results" | tee "$work/ratios"
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%.3f", (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2 }'; }
printf 'median of the rounds: kept openssl/plain %s, kept jdk/plain %s, handshakes openssl/jdk %s\n' \
  "$(awk '{ print $5 }' "$work/ratios" | median)" "$(awk '{ print $10 }' "$work/ratios" | median)" \
  "$(awk '{ print $15 }' "$work/ratios" | median)"

#!/usr/bin/env bash
# What TLS costs the echo daemon (issue 15): plaintext against TLS with the JDK's engine and with
# OpenSSL (netty-tcnative-boringssl-static). One launcher runs four instances of the echo plugin,
# alike but for their tls block: echo (plaintext), echo-jdk (provider = jdk), echo-openssl
# (provider = openssl) and echo-openssl-netty (below). Each is measured in turn, in short interleaved
# slices, so that a busy neighbour on this shared machine hits all alike and the ratios within a
# round hold (about 4 minutes with the defaults):
#   kept:       requests per second over kept connections, depth 1 (one request in flight each)
#   handshake:  new connections per second, each a full TLS handshake (no session resumption), one
#               request, close (the plaintext row is TCP connect + request + close, for scale)
# with the server's CPU per request (or per connection) from /proc/PID/stat, taken from the bots'
# "measuring" line to their end.
#
#   benchmarks/tls.sh                      # warm-up, then 3 rounds of 8 s slices (~5 min)
#   ROUNDS=5 DURATION=5s benchmarks/tls.sh
#   KEPT="plain openssl openssl-netty" HANDSHAKES="" benchmarks/tls.sh   # the kept-connection A/B only
#
# openssl-netty is a fourth instance, provider = openssl like echo-openssl, whose records stay Netty's
# SslHandler's after the handshake (-Ddaemonkit.tls.netty-records=echo-openssl-netty) where echo-openssl's
# go through the framework's OpenSslRecordHandler: the same-launcher A/B of that handler.
#
# Server pinned to CPU 0, bots to CPU 1. Certificate: EC P-256, self-signed, made by the openssl CLI.
# Bounded: every process it starts is stopped at the end; no bots run lasts more than WARMUP + 2 s.
#
# What bounds the rate: the bots pay for TLS as the server does (a client's record work is the
# server's), so with the server free to use all of CPU 0 the TLS rows measured the bots' core as
# much as the server. Here the server runs in a cgroup with a CPU quota below a core (SERVER_CPU,
# default 0.4 of a core, in 10 ms periods), which the bots on their whole core can saturate with
# plaintext and with TLS alike: each slice's rate is then set by the server's CPU per request, the
# thing measured (the quota starts after the warm-up, so the JIT's compiling is not charged to it).
# Each slice prints the server's CPU share and the share of periods in which the quota throttled
# it; "bound server" means the server used >= 90 % of its quota, else the row is marked "bound
# other" (the bots, or a neighbour on CPU 0) and its rate says less about the server. Not much
# below 0.4: the 50 handshakes that open each kept slice must fit in the bots' 1 s warm-up (at 0.05
# of a core the JDK engine's took ~5 s). Needs root and a cgroup cpu controller (v2 cpu.max, or v1
# cpu.cfs_quota_us); SERVER_CPU=0 runs without a quota, as before.
set -euo pipefail
ROUNDS=${ROUNDS:-3}
# 8 s: in the quiet window of 2026-11-30 3 s slices spread the same subject's CPU per request by 1.7x between
# rounds under the 0.4-core quota (a few scheduler periods and one GC weigh a lot in 1.2 s of CPU); 8 s slices
# kept it within 1.2x (docs/benchmarks.md, "Quiet-machine runs of the record handler").
DURATION=${DURATION:-8s}
# Warm-up of each daemon's paths before the rounds: with 4 s the JDK engine's paths were still being
# compiled (174 us of server CPU per kept request; 30 us after 15 s), which would be charged to it.
WARMUP=${WARMUP:-10s}
CONNS=${CONNS:-50}             # kept connections
DEPTH=${DEPTH:-1}              # requests in flight per kept connection (the target is at depth 1)
HS_CONNS=${HS_CONNS:-16}       # connections opened in parallel in the handshake slices
KEPT=${KEPT-plain jdk openssl openssl-netty}   # daemons measured over kept connections, in this order
HANDSHAKES=${HANDSHAKES-plain jdk openssl}     # daemons measured in handshake slices ("" for none)
SERVER_CPU=${SERVER_CPU:-0.4}  # the server's CPU quota in cores (cgroup); 0: none
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
  echo-openssl-netty { plugin = echo, listen = "127.0.0.1:$((base + 3))", $(tls openssl) }
  daytime.enabled = false
}
CONF
# The server's cgroup: v2 where the unified hierarchy has the cpu controller, else v1's cpu hierarchy.
cg=""; cg_v=""
if [ "$SERVER_CPU" != 0 ]; then
  period=10000 # 10 ms: short throttled pauses; 100 ms below 0.1 of a core (the kernel's least quota is 1 ms)
  quota=$(awk -v c="$SERVER_CPU" -v p=$period 'BEGIN { printf "%d", c * p }')
  if [ "$quota" -lt 1000 ]; then period=100000; quota=$(awk -v c="$SERVER_CPU" -v p=$period 'BEGIN { printf "%d", c * p }'); fi
  if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2> /dev/null; then
    cg=/sys/fs/cgroup/daemonkit-tls-bench.$$; cg_v=2
    grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu > /sys/fs/cgroup/cgroup.subtree_control
    mkdir "$cg"
  elif [ -w /sys/fs/cgroup/cpu/cgroup.procs ]; then
    cg=/sys/fs/cgroup/cpu/daemonkit-tls-bench.$$; cg_v=1
    mkdir "$cg" && echo $period > "$cg/cpu.cfs_period_us"
  else
    echo "cannot cap the server's CPU (needs root and a cgroup cpu controller); run SERVER_CPU=0 for no quota" >&2
    exit 2
  fi
  # Removed once the launcher is gone (the cleanup of lib.sh kills it first).
  trap 'cleanup; for _ in $(seq 1 50); do rmdir "$cg" 2> /dev/null && break; sleep 0.1; done' EXIT
fi
# The launcher enters the cgroup before it execs, so every thread of the JVM is in it.
DAEMONKIT_OPTS="-Xms512m -Xmx512m -XX:+AlwaysPreTouch -Ddaemonkit.tls.netty-records=echo-openssl-netty" taskset -c 0 sh -c \
  '[ -z "$1" ] || echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$cg" "$dist/bin/daemonkit" run \
  --config "$work/home/d.conf" --plugins "$work/home/plugins" --logs "$work/home/logs" > "$work/launcher.out" 2>&1 &
pid=$!; pids+=($pid)
# Up to 60 s: on a busy machine, a start that pre-touches the heap can take more than wait_port's 10 s.
for p in $base $((base + 1)) $((base + 2)) $((base + 3)); do
  for _ in 1 2 3 4 5 6; do wait_port $p && break; done
  wait_port $p || { echo "the launcher did not listen on 127.0.0.1:$p within 60 s:" >&2; cat "$work/launcher.out" >&2; exit 1; }
done
for name in jdk openssl; do # the log is written by a background appender: give it up to 5 s
  for _ in $(seq 1 50); do grep -rq "provider $name" "$work/home/logs" && break; sleep 0.1; done
  grep -rq "provider $name" "$work/home/logs" || { echo "the launcher did not report provider $name:" >&2; cat "$work/launcher.out" >&2; exit 1; }
done
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
# "PERIODS THROTTLED" of the server's cgroup so far (0 0 without one)
throttles() { if [ -n "$cg" ]; then awk '$1 == "nr_periods" { p = $2 } $1 == "nr_throttled" { t = $2 } END { print p + 0, t + 0 }' "$cg/cpu.stat"; else echo 0 0; fi; }
port_of() { case $1 in plain) echo $base ;; jdk) echo $((base + 1)) ;; openssl) echo $((base + 2)) ;; openssl-netty) echo $((base + 3)) ;; esac; }
tls_arg() { [ "$1" = plain ] || echo --tls; }

# bots CONFIG DURATION ARGS... -> "REQ_S P50_US US_PER_REQ SHARE THROTTLED", the server's CPU (per
# request, and its share of a core) and the share of cgroup periods it was throttled in, counted
# from "measuring" on
measure() {
  local name=$1 duration=$2; shift 2
  local out="$work/bots.out"; : > "$out"
  taskset -c 1 java -jar "$bots" --mode echo --target "127.0.0.1:$(port_of "$name")" $(tls_arg "$name") \
    --duration "$duration" --warmup 1s "$@" > "$out" 2>&1 &
  local b=$!; pids+=($b)
  local c0="" t0="0 0"
  for _ in $(seq 1 400); do
    if grep -q '^measuring' "$out"; then c0=$(cpu_ticks); t0=$(throttles); break; fi
    kill -0 $b 2>/dev/null || break
    sleep 0.025
  done
  wait $b || true
  local c1; c1=$(cpu_ticks)
  local t1; t1=$(throttles)
  local line; line=$(grep '^RESULT' "$out") || { echo "bots failed:" >&2; cat "$out" >&2; exit 1; }
  local reqs; reqs=$(echo "$line" | sed -E 's/.*req_s=([0-9]+).*/\1/')
  local secs; secs=$(echo "$duration" | tr -d s)
  echo "$reqs $(echo "$line" | sed -E 's/.*p50_us=([0-9]+).*/\1/') $(awk -v t=$((c1 - ${c0:-c1})) -v hz="$hz" -v r="$reqs" \
    -v s="$secs" -v a="$t0" -v b="$t1" 'BEGIN { split(a, x, " "); split(b, y, " "); p = y[1] - x[1]
      printf "%.1f %.2f %.2f", t / hz * 1e6 / (r * s), t / hz / s, (p > 0 ? (y[2] - x[2]) / p : 0) }')"
}
# Which side set a slice's rate: the server when it used >= 90 % of its quota.
bound() { awk -v s="$1" -v q="$SERVER_CPU" 'BEGIN { print (q > 0 && s >= 0.9 * q) ? "server" : "other" }'; }

echo "echo daemon x4 in one launcher; kept ($KEPT): $CONNS connections depth $DEPTH; handshake ($HANDSHAKES): $HS_CONNS in parallel"
if [ -n "$cg" ]; then
  echo "server: CPU 0, cgroup v$cg_v quota $SERVER_CPU of a core ($quota us per $period us); bots: CPU 1"
else
  echo "server: CPU 0, no CPU quota (the bots may bound the rate); bots: CPU 1"
fi
echo "warm-up: $WARMUP per daemon and kind of slice"
for name in $KEPT; do
  measure "$name" "$WARMUP" --connections "$CONNS" --depth "$DEPTH" > /dev/null
done
for name in $HANDSHAKES; do
  measure "$name" "$WARMUP" --connections "$HS_CONNS" --depth 1 --reconnect > /dev/null
done
# The quota from here on: the start and the warm-up (pre-touching the heap, the JIT compiling the
# paths, which would take its share of the quota) are not what is measured.
case $cg_v in
  2) echo "$quota $period" > "$cg/cpu.max" ;;
  1) echo "$quota" > "$cg/cpu.cfs_quota_us" ;;
esac
echo "rounds: $ROUNDS x $DURATION slices (server CPU per request, or per new connection)"
for r in $(seq 1 "$ROUNDS"); do
  for name in $KEPT; do
    read -r reqs p50 us share thr <<< "$(measure "$name" "$DURATION" --connections "$CONNS" --depth "$DEPTH")"
    printf 'round %d %-8s kept       %8s req/s    %7s us/req    p50 %6s us   server CPU %s, throttled %s: bound %s\n' \
      "$r" "$name" "$reqs" "$us" "$p50" "$share" "$thr" "$(bound "$share")"
    echo "$r $name kept $reqs $us $share" >> "$work/results"
  done
  for name in $HANDSHAKES; do
    read -r conns p50 us share thr <<< "$(measure "$name" "$DURATION" --connections "$HS_CONNS" --depth 1 --reconnect)"
    printf 'round %d %-8s handshake  %8s conn/s   %7s us/conn   p50 %6s us   server CPU %s, throttled %s: bound %s\n' \
      "$r" "$name" "$conns" "$us" "$p50" "$share" "$thr" "$(bound "$share")"
    echo "$r $name handshake $conns $us $share" >> "$work/results"
  done
done
# Same-round ratios: kept TLS / kept plaintext (throughput and server CPU), OpenSSL / JDK handshakes.
echo "per round (req/s ratio, and server CPU per request as a ratio):"
# "ROUND NAME RATIO CPU_RATIO" for each pair measured: kept KIND/plain, kept openssl/openssl-netty (the
# record handler's A/B), handshakes openssl/jdk
awk '{ v[$1, $2, $3] = $4; c[$1, $2, $3] = $5; if ($1 > n) n = $1 } END {
  split("openssl/plain kept,jdk/plain kept,openssl-netty/plain kept,openssl/openssl-netty kept,openssl/jdk handshake", pairs, ",")
  for (r = 1; r <= n; r++) {
    line = ""
    for (i = 1; i in pairs; i++) {
      split(pairs[i], p, " "); split(p[1], ab, "/")
      if (v[r, ab[1], p[2]] == "" || v[r, ab[2], p[2]] == "" || v[r, ab[2], p[2]] == 0) continue
      printf "%d %s_%s %.3f %.2f\n", r, p[2], p[1], v[r, ab[1], p[2]] / v[r, ab[2], p[2]], c[r, ab[1], p[2]] / c[r, ab[2], p[2]]
    }
  } }' "$work/results" > "$work/ratios"
awk '{ if ($1 != r) { if (line != "") print line; r = $1; line = "round " r ":" }
  line = line sprintf("  %s %.3f (CPU %.2fx)", $2, $3, $4) } END { if (line != "") print line }' "$work/ratios"
# How many kept slices the server's quota bounded: a ratio says most about the server when all did.
awk -v q="$SERVER_CPU" '$3 == "kept" { n[$2]++; if (q > 0 && $6 >= 0.9 * q) b[$2]++ } END {
  printf "kept slices bound by the server'"'"'s quota:"; for (k in n) printf " %s %d/%d", k, b[k], n[k]; print "" }' "$work/results"
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%.3f", (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2 }'; }
printf 'median of the rounds:'
for k in $(awk '{ print $2 }' "$work/ratios" | awk '!seen[$0]++'); do
  printf ' %s %s (CPU %s)' "$k" "$(awk -v k="$k" '$2 == k { print $3 }' "$work/ratios" | median)" \
    "$(awk -v k="$k" '$2 == k { print $4 }' "$work/ratios" | median)"
done
echo

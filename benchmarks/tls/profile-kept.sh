#!/usr/bin/env bash
# Where the server's CPU (or allocation) per kept request goes, plaintext echo against OpenSSL echo (issue 15):
# one launcher (pinned to CPU 0, nice 19) serves both; each is warmed, then profiled in turn by async-profiler
# attached through jcmd while the bots (CPU 1) keep 50 connections at depth 1 for SECS.
#
#   benchmarks/tls/profile-kept.sh DIST OUTDIR cpu|alloc [SECS]      # e.g. distribution/target/daemonkit /tmp/p cpu 8
#   python3 benchmarks/tls/per-request.py OUTDIR/openssl-cpu.collapsed REQUESTS [US_PER_SAMPLE]
#
# Writes OUTDIR/KIND-EVENT.collapsed and OUTDIR/KIND-EVENT.result (the bots' RESULT line); the profile also
# covers the bots' 1 s warm-up, so REQUESTS = req_s x (SECS + 1). AP: libasyncProfiler.so (4.1). WARM: warm-up
# per daemon (10s). Only the launcher it starts is profiled, and it is stopped at the end.
set -euo pipefail
dist=$1; out=$2; ev=$3; secs=${4:-10}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"; bots=$root/benchmarks/bots/target/bots.jar; ap=${AP:-/tmp/perf/ap/linux-x64/libasyncProfiler.so}
mkdir -p "$out"; w=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout $w/k -out $w/c 2>/dev/null
mkdir -p $w/plugins $w/logs; cp $dist/plugins/echo.jar $w/plugins/
cat > $w/d.conf <<CONF
daemonkit.admin.listen = "127.0.0.1:17949"
daemonkit.logging.console.enabled = false
daemons {
  echo.listen = "127.0.0.1:17940"
  echo-openssl { plugin = echo, listen = "127.0.0.1:17942", tls.listen { cert-file = "$w/c", key-file = "$w/k", provider = openssl } }
  daytime.enabled = false
}
CONF
DAEMONKIT_OPTS="-Xms512m -Xmx512m -XX:+AlwaysPreTouch" nice -n 19 taskset -c 0 $dist/bin/daemonkit run --config $w/d.conf --plugins $w/plugins --logs $w/logs > $w/launcher.out 2>&1 &
lp=$!
trap 'kill $lp 2>/dev/null; wait $lp 2>/dev/null; rm -rf $w' EXIT
for p in 17940 17942; do for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done; done
jpid=$lp
echo "launcher java pid $jpid"
run() { nice -n 19 taskset -c 1 java -jar $bots --mode echo --target 127.0.0.1:$1 $2 --connections 50 --depth 1 --duration $3 --warmup 1s; }
for k in plain openssl; do p=17940; t=""; [ $k = openssl ] && p=17942 t=--tls; run $p "$t" ${WARM:-10s} > /dev/null; done
for k in plain openssl; do
  p=17940; t=""; [ $k = openssl ] && p=17942 t=--tls
  jcmd $jpid JVMTI.agent_load $ap "\"start,event=$ev,interval=$([ $ev = cpu ] && echo 100us || echo 65536),threads\""
  run $p "$t" ${secs}s | grep RESULT | tee $out/$k-$ev.result
  jcmd $jpid JVMTI.agent_load $ap "\"stop,file=$out/$k-$ev.collapsed,collapsed\""
done

#!/usr/bin/env bash
# Every comparison of issue 17 in one command, with progress, then one table of same-run ratios
# against the issue's targets.
#
#   benchmarks/run-all.sh            # the full set (~40-50 minutes on the 2-core build machine)
#   benchmarks/run-all.sh --quick    # the same comparisons, shorter and smaller (~10 minutes)
#   ONLY="timers held" benchmarks/run-all.sh --quick   # some of: timers expiry held logging cache presence
#   ONLY=timers-reschedule ROUNDS=2 benchmarks/run-all.sh --quick   # "timers" is timers-schedule-cancel
#                                                                   # plus timers-reschedule; ROUNDS: the
#                                                                   # latter's rounds (5, --quick 2)
#
# Each step runs one existing benchmark (JMH in benchmarks.jar, or a benchmarks/*.sh script) under a
# time limit (`timeout`), so the whole run always ends by itself; a step that fails or runs out of
# time shows as "n/a" in the table, with its log named. Every ratio in the table compares subjects
# measured in the same step, one right after the other: the machine is shared, so absolute figures
# move by 10-20 % between steps and mean little; the logs keep them all (the folder is printed).
# Timers pinned to CPU 1 (taskset), servers to CPU 0 and load to CPU 1 (as each script documents);
# every JVM with -Xms = -Xmx and -XX:+AlwaysPreTouch.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
ONLY=${ONLY:-"timers expiry held logging cache presence"}
out="${OUT:-$root/benchmarks/target/run-all-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
summary="$out/summary.tsv"
: > "$summary"
jar="$root/benchmarks/target/benchmarks.jar"
JVM="-Xms2g -Xmx2g -XX:+AlwaysPreTouch"
started=$(date +%s)

steps=()
total=0
for s in $ONLY; do
  steps+=("$s")
  case $s in timers | logging | expiry) total=$((total + 2)) ;; *) total=$((total + 1)) ;; esac
done
n=0

progress() { printf '[%s +%4ds] %s\n' "$(date +%H:%M:%S)" $(( $(date +%s) - started )) "$*"; }

# row WHAT TARGET OP LIMIT VALUE UNIT SOURCE: one line of the table; OP is ">=" or "<=".
row() {
  local what=$1 target=$2 op=$3 limit=$4 value=$5 unit=$6 src=$7 verdict
  if [ -z "$value" ] || [ "$value" = "n/a" ]; then
    verdict="n/a"; value="n/a"; unit=""
  else
    # op "info": a figure shown beside the targets, not one of them (verdict "info").
    verdict=$(awk -v v="$value" -v l="$limit" -v op="$op" 'BEGIN { if (op == "info") { print "info"; exit } ok = (op == ">=") ? (v >= l) : (v <= l); print ok ? "met" : "MISSED" }')
  fi
  printf '%s\t%s\t%s%s\t%s\t%s\n' "$what" "$target" "$value" "$unit" "$verdict" "$src" >> "$summary"
}

# step NAME LIMIT_SECONDS COMMAND...: runs one benchmark with progress and a time limit.
step() {
  local name=$1 limit=$2; shift 2
  n=$((n + 1))
  progress "[$n/$total] $name: started (at most $((limit / 60)) min), log $out/$name.log"
  timeout --kill-after=30 "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    progress "[$n/$total] $name: stopped at its time limit; figures may be missing"
  elif [ $rc -ne 0 ]; then
    progress "[$n/$total] $name: failed (exit $rc); see its log"
  else
    progress "[$n/$total] $name: done"
  fi
}

# The timer steps need only benchmarks.jar; the others the distribution and the load generator too.
servers=0
for s in "${steps[@]}"; do case $s in timers*| expiry) ;; *) servers=1 ;; esac; done
if [ ! -f "$jar" ] || { [ $servers = 1 ] && { [ ! -x "$root/distribution/target/daemonkit/bin/daemonkit" ] \
    || [ ! -f "$root/benchmarks/bots/target/bots.jar" ]; }; }; then
  progress "building (mvn -B -q -DskipTests package)"
  (cd "$root" && mvn -B -q -DskipTests package) || { echo "build failed" >&2; exit 1; }
fi

# JMH params and iteration counts.
if [ $QUICK = 1 ]; then
  JMH_ITER="-f 1 -wi 1 -w 1s -i 3 -r 1s"; SC_TIMERS="daemonkit-api,agrona,hwt-1ms"; RS_TIMERS="daemonkit-api agrona hwt-1ms"
  RS_ROUNDS=${ROUNDS:-2}
  HELD_N=5000; LOG_ROUNDS=1; LOG_DURATION=5s; LOG_WARMUP=10s; CACHE_ROUNDS=1; CACHE_DURATION=5s
  P_MEM=3000; P_USERS=2000; P_DURATION=20s
else
  JMH_ITER="-f 1 -wi 2 -w 1s -i 5 -r 1s"; SC_TIMERS="daemonkit-api,daemonkit-api-conn,agrona,hwt-1ms,hwt-default,stpe,netty-loop"
  RS_TIMERS="daemonkit-api agrona hwt-1ms hwt-default stpe netty-loop"; RS_ROUNDS=${ROUNDS:-5}
  HELD_N=19000; LOG_ROUNDS=3; LOG_DURATION=10s; LOG_WARMUP=30s; CACHE_ROUNDS=3; CACHE_DURATION=8s
  P_MEM=15000; P_USERS=10000; P_DURATION=60s
fi

# jmh_score LOG BENCH_SUFFIX PARAMS...: the score (ops/s) of the row whose columns contain all PARAMS.
jmh_score() {
  local log=$1; shift
  awk -v want="$*" 'BEGIN { n = split(want, w, " ") }
    /thrpt/ && $1 ~ /Benchmark\.[a-zA-Z]+$/ { ok = 1; for (i = 1; i <= n; i++) { f = 0; for (j = 2; j <= NF; j++) if ($j == w[i]) f = 1; if (!f) ok = 0 } if (ok) { for (j = 1; j <= NF; j++) if ($j == "thrpt") { print $(j + 2); exit } } }' "$log"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.2f", a / b }'; }
best_of() { local best=""; for v in "$@"; do [ -n "$v" ] && best=$(awk -v a="$best" -v b="$v" 'BEGIN { print (a == "" || b > a) ? b : a }'); done; echo "$best"; }

for s in "${steps[@]}"; do
  case $s in
  timers | timers-schedule-cancel | timers-reschedule)
    if [ "$s" != timers-reschedule ]; then
      step timers-schedule-cancel $((QUICK ? 900 : 2400)) taskset -c 1 java $JVM -jar "$jar" ScheduleCancelBenchmark \
        -p timer="$SC_TIMERS" -p delay=random $JMH_ITER -jvmArgs "$JVM"
      log="$out/timers-schedule-cancel.log"
      for p in 0 10000; do
        api=$(jmh_score "$log" random "$p" daemonkit-api); ag=$(jmh_score "$log" random "$p" agrona)
        row "timers: schedule+cancel, $p pending, API / Agrona" ">= 1.0x" ">=" 1.0 "$(ratio "$api" "$ag")" x timers-schedule-cancel
      done
      api=$(jmh_score "$log" random 1000000 daemonkit-api)
      anchors=()
      for t in agrona hwt-1ms hwt-default stpe netty-loop; do anchors+=("$(jmh_score "$log" random 1000000 "$t")"); done
      row "timers: schedule+cancel, 1M pending, API / best anchor" ">= 1.5x" ">=" 1.5 "$(ratio "$api" "$(best_of "${anchors[@]}")")" x timers-schedule-cancel
    fi
    [ "$s" = timers-schedule-cancel ] && continue
    # Rounds (benchmarks/timers-reschedule.sh): each subject a short JMH run per round, the order reversed
    # every other round; each round's API / best anchor, and the row is their median. With one long run
    # per subject the random row read 1.41x, 0.59x, 1.01x with no code change (docs/benchmarks.md).
    step timers-reschedule $((QUICK ? 600 : 1200)) env ROUNDS="$RS_ROUNDS" SUBJECTS="$RS_TIMERS" \
      ITER="-f 1 -wi 1 -w 1s -i 3 -r 1s" CSV_DIR="$out/timers-reschedule" "$root/benchmarks/timers-reschedule.sh"
    log="$out/timers-reschedule.log"
    for d in random latest; do
      # "round 2 ratio: random 1.08 (daemonkit-api 11.20 M ops/s, best anchor agrona 10.37); latest ..."
      per=$(sed -n "s/^round [0-9]* ratio: .*$d \([0-9.]*\|n\/a\) .*/\1/p" "$log" | tr '\n' ' ' | sed 's/ $//')
      med=$(echo "$per" | tr ' ' '\n' | awk '/^[0-9.]+$/ { v[n++] = $1 } END { if (!n) exit
        for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
        printf "%.2f", n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2 }')
      row "timers: reschedule 1 of 100k ($d), API / best anchor, median of the rounds (each: ${per:-none})" ">= 1.0x" ">=" 1.0 "$med" x timers-reschedule
    done
    ;;
  expiry)
    # The wheel's own CPU per tick (no loop, hand-moved clock): its longest tick is a cascade's.
    step timers-ticks 300 taskset -c 1 java -Druns=$((QUICK ? 3 : 5)) $JVM -cp "$jar" \
      dev.daemonkit.benchmarks.timers.ExpiryAndFootprint ticks ticks-256 ticks-512 ticks-1024
    # Medians of several runs (-Druns): one 1 s run moves by 20-40 % on a shared machine.
    step timers-expiry $((QUICK ? 300 : 600)) taskset -c 0,1 java -Druns=$((QUICK ? 3 : 5)) $JVM -cp "$jar" \
      dev.daemonkit.benchmarks.timers.ExpiryAndFootprint expiry \
      daemonkit-thread agrona daemonkit-thread-256 daemonkit-api-epoll daemonkit-api-epoll-kernel-slack netty-loop-epoll
    log="$out/timers-expiry.log"
    cpu_of() { sed -n "s/^\[expiry\] $1 *median of .*CPU per expired timer \([0-9]*\) ns (all.*/\1/p" "$log" | tail -1; }
    p99_of() { sed -n "s/^\[expiry\] $1 *median of .*p99 lateness \([0-9.]*\) ms.*/\1/p" "$log" | tail -1; }
    # Like with like: the library's default and Agrona's wheel both have 1024 slots, so neither
    # cascades a timer of up to 1 s. The 256-slot row shows what the default before cost.
    row "timers: CPU per expired timer, ThreadTimerWheel (its default 1024 slots; at 256: $(ratio "$(cpu_of daemonkit-thread-256)" "$(cpu_of agrona)")x) / Agrona (1024)" "<= 1.0x" "<=" 1.0 \
      "$(ratio "$(cpu_of daemonkit-thread)" "$(cpu_of agrona)")" x timers-expiry
    row "timers: p99 lateness, event loop (epoll), API, the launcher's default wheel and loop slack (with the kernel's slack: $(p99_of daemonkit-api-epoll-kernel-slack) ms; Netty's scheduler: $(p99_of netty-loop-epoll) ms)" "<= 1.1 ms" "<=" 1.1 \
      "$(p99_of daemonkit-api-epoll)" " ms" timers-expiry
    ;;
  held)
    step held-connections $((QUICK ? 600 : 1200)) env N=$HELD_N "$root/benchmarks/held-connections.sh"
    log="$out/held-connections.log"
    for d in echo cache; do
      b=$(sed -n "s/^daemonkit-$d .*: *\([0-9]*\) bytes per connection/\1/p" "$log")
      row "heap per held idle connection, $d daemon" "<= 1536 B" "<=" 1536 "$b" " B" held-connections
    done
    ;;
  logging)
    for depth in 1 16; do
      step "logging-depth-$depth" $((QUICK ? 600 : 1800)) env CONFIGS="off info" DEPTH=$depth ROUNDS=$LOG_ROUNDS \
        DURATION=$LOG_DURATION WARMUP=$LOG_WARMUP "$root/benchmarks/echo-logging.sh"
      r=$(sed -n 's/^median of the per-round ratios:.* info \([0-9.]*\).*/\1/p' "$out/logging-depth-$depth.log")
      limit=$([ $depth = 1 ] && echo 0.85 || echo 0.70)
      row "logging: one INFO line per request (default config), depth $depth, throughput / no logging" ">= ${limit}x" ">=" $limit "$r" x "logging-depth-$depth"
    done
    ;;
  cache)
    step cache-vs-memcached $((QUICK ? 900 : 2400)) env ROUNDS=$CACHE_ROUNDS DURATION=$CACHE_DURATION "$root/benchmarks/cache-vs-memcached.sh"
    log="$out/cache-vs-memcached.log"
    # "depth 1   cache/memcached: throughput 0.95x, cpu/req 1.24x, p99 0.86x;  cache/raw-netty: throughput ..."
    get() { sed -n "s|^depth $1 *cache/memcached: [^;]*$2 \([0-9.]*\)x.*|\1|p" "$log"; }
    raw() { sed -n "s|^depth $1 .*cache/raw-netty: throughput \([0-9.]*\)x.*|\1|p" "$log"; }
    row "cache vs memcached, depth 1: throughput" ">= 1.0x" ">=" 1.0 "$(get 1 throughput)" x cache-vs-memcached
    row "cache vs memcached, depth 1: CPU per request" "<= 1.0x" "<=" 1.0 "$(get 1 cpu/req)" x cache-vs-memcached
    row "cache vs memcached, depth 1: p99" "<= 1.0x" "<=" 1.0 "$(get 1 p99)" x cache-vs-memcached
    row "cache vs memcached, depth 16: throughput" ">= 4.0x" ">=" 4.0 "$(get 16 throughput)" x cache-vs-memcached
    row "cache vs raw Netty, depth 1: throughput" ">= 0.9x" ">=" 0.9 "$(raw 1)" x cache-vs-memcached
    # the same cache daemon on io_uring (daemonkit.transport.native = io_uring; "cache-uring/memcached: ...")
    uring() { sed -n "s|^depth $1 *cache-uring/memcached: [^;]*$2 \([0-9.]*\)x.*|\1|p" "$log"; }
    vs_epoll() { sed -n "s|^depth $1 .*cache-uring/cache (epoll): [^;]*$2 \([0-9.]*\)x.*|\1|p" "$log"; }
    # io_uring is optional (issue 17: epoll stays the default unless io_uring measures better), so these rows
    # are information, not targets; the last one is the measure for choosing the default.
    row "cache on io_uring vs memcached, depth 1: throughput" "-" info 0 "$(uring 1 throughput)" x cache-vs-memcached
    row "cache on io_uring vs memcached, depth 1: CPU per request" "-" info 0 "$(uring 1 cpu/req)" x cache-vs-memcached
    row "cache on io_uring vs memcached, depth 16: throughput" "-" info 0 "$(uring 16 throughput)" x cache-vs-memcached
    row "cache on io_uring / on epoll, depth 1: CPU per request (below 1.0x in every run: auto should pick io_uring)" "-" info 0 "$(vs_epoll 1 cpu/req)" x cache-vs-memcached
    ;;
  presence)
    step presence $((QUICK ? 600 : 1200)) env MEM_USERS=$P_MEM USERS=$P_USERS DURATION=$P_DURATION "$root/benchmarks/presence.sh"
    log="$out/presence.log"
    per=$(sed -n 's/.* \([0-9]*\) bytes per user$/\1/p' "$log" | tail -1)
    row "presence: heap per online user" "<= 3072 B" "<=" 3072 "$per" " B" presence
    p99=$(sed -n 's/^RESULT mode=presence .* p99_us=\([0-9]*\).*/\1/p' "$log" | tail -1)
    row "presence: delivery latency p99 (us)" "<= 10000 us" "<=" 10000 "$p99" " us" presence
    ;;
  *) echo "unknown step '$s' (known: timers expiry held logging cache presence; timers-schedule-cancel, timers-reschedule)" >&2 ;;
  esac
done

echo
echo "Summary ($( [ $QUICK = 1 ] && echo quick || echo full ) run, $(date '+%Y-%m-%d %H:%M'), load average now:$(uptime | sed 's/.*load average://'))"
echo "Ratios compare subjects measured in the same step; logs and absolute figures: $out"
{
  printf 'what\ttarget\tmeasured\tverdict\tlog\n'
  cat "$summary"
} | column -t -s $'\t'

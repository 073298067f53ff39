#!/usr/bin/env bash
# Issue 17, reschedule one of 100k pending timers (RescheduleBenchmark, deadlines random and latest): the
# API against every anchor, in rounds. Each round gives every subject its own short JMH run (one fork per
# deadline pattern), the subjects in the opposite order to the round before; each round's ratio is the
# API's score over the best anchor's of the same round, and the result is the median of those ratios.
# One long run per subject, minutes apart, let a neighbour's burst land on one subject and not on the one
# it is compared with (the 100k timers are several times the L2); rounds spread a burst over all of them.
#
#   benchmarks/timers-reschedule.sh                                            # 5 rounds, 6 subjects (~7 min)
#   ROUNDS=2 SUBJECTS="daemonkit-api agrona hwt-1ms" benchmarks/timers-reschedule.sh   # ~1.5 min
#   ITER="-f 1 -wi 1 -w 1s -i 1 -r 1s" CSV_DIR=/tmp/rs benchmarks/timers-reschedule.sh
#
# Prints JMH's own output, then per subject a line "score round=R timer=T deadlines=D ops/s=X" (from
# JMH's CSV, kept in CSV_DIR as roundR-T.csv), per round a line "round R ratio: random X (...); latest Y
# (...)", and at the end the per-round ratios and their median. Pinned to CPU 1 as run-all.sh's timer
# steps; the measured JVM (JMH's fork) with -Xms = -Xmx and -XX:+AlwaysPreTouch.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/benchmarks/target/benchmarks.jar"
[ -f "$jar" ] || (cd "$root" && mvn -B -q -o -pl benchmarks -am package -DskipTests) || exit 1
ROUNDS=${ROUNDS:-5}
SUBJECTS=${SUBJECTS:-"daemonkit-api agrona hwt-1ms hwt-default stpe netty-loop"}
API=${API:-daemonkit-api}
ITER=${ITER:-"-f 1 -wi 1 -w 1s -i 3 -r 1s"}
CSV_DIR=${CSV_DIR:-$(mktemp -d)}
mkdir -p "$CSV_DIR"
JVM="-Xms2g -Xmx2g -XX:+AlwaysPreTouch"
scores="$CSV_DIR/scores"
: > "$scores"

read -r -a subjects <<< "$SUBJECTS"
echo "reschedule 1 of 100k: $ROUNDS round(s) of ${subjects[*]} ($ITER per subject and deadline pattern); API $API; CSV in $CSV_DIR"

# round_ratio R DEADLINES: "X.XX (API a, best anchor T b)" from the scores of round R, or "n/a (...)".
round_ratio() {
  awk -v r="$1" -v d="$2" -v api="$API" '
    $1 == "score" { split($2, a, "="); split($3, t, "="); split($4, dd, "="); split($5, s, "=")
      if (a[2] != r || dd[2] != d) next
      if (t[2] == api) own = s[2]; else if (best == "" || s[2] + 0 > best + 0) { best = s[2]; who = t[2] } }
    END { o = own == "" ? "none" : sprintf("%.2f M ops/s", own / 1e6); b = best == "" ? "none" : sprintf("%s %.2f", who, best / 1e6)
          printf "%s (%s %s, best anchor %s)", own == "" || best + 0 == 0 ? "n/a" : sprintf("%.2f", own / best), api, o, b }' "$scores"
}

for r in $(seq 1 "$ROUNDS"); do
  order=("${subjects[@]}")
  if [ $((r % 2)) = 0 ]; then
    order=()
    for ((i = ${#subjects[@]} - 1; i >= 0; i--)); do order+=("${subjects[i]}"); done
  fi
  echo "== round $r: ${order[*]} ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"
  for t in "${order[@]}"; do
    csv="$CSV_DIR/round$r-$t.csv"
    rm -f "$csv"
    # The runner only starts the forks and collects results: no 2 GB heap of its own.
    # shellcheck disable=SC2086
    taskset -c 1 java -Xmx256m -jar "$jar" RescheduleBenchmark -p timer="$t" $ITER -jvmArgs "$JVM" \
      -rf csv -rff "$csv" || echo "round $r $t: JMH failed (exit $?)"
    # JMH's CSV: quoted header names, CRLF line ends, one row per parameter set; columns found by name.
    [ -f "$csv" ] && awk -F, -v r="$r" '
      { gsub(/["\r]/, "") }
      NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "Score") sc = i; if ($i == "Param: timer") tm = i; if ($i == "Param: deadlines") dl = i }; next }
      sc && tm && dl { printf "score round=%s timer=%s deadlines=%s ops/s=%s\n", r, $tm, $dl, $sc }' "$csv" | tee -a "$scores"
  done
  echo "round $r ratio: random $(round_ratio "$r" random); latest $(round_ratio "$r" latest)"
done

# The same lines as printed above, read back: per deadline pattern, each round's ratio and their median.
for d in random latest; do
  list=$(for r in $(seq 1 "$ROUNDS"); do round_ratio "$r" "$d" | cut -d' ' -f1; done | tr '\n' ' ')
  echo "per-round ratios, $d: $list"
done
printf 'median of the per-round ratios:'
for d in random latest; do
  for r in $(seq 1 "$ROUNDS"); do round_ratio "$r" "$d" | cut -d' ' -f1; done \
    | awk -v d="$d" '$1 != "n/a" { v[n++] = $1 } END { if (!n) { printf " %s n/a", d; exit }
        for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
        printf " %s %.2f", d, n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2 }'
done
echo " ($ROUNDS rounds, ratio = $API / the round's best anchor)"

# Sourced by benchmark scripts: builds what is missing, gives a scratch directory and stops every
# process listed in pids on exit, whatever way the script ends.
#   root   the repository          dist  the assembled distribution    bots  the load generator jar
#   work   a scratch directory, removed on exit
#   pids   add each background process here: it is killed on exit
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="${DIST:-$root/distribution/target/daemonkit}"   # DIST: another build, for an A/B in one session
bots="$root/benchmarks/bots/target/bots.jar"
if [ ! -x "$dist/bin/daemonkit" ] || [ ! -f "$bots" ]; then
  (cd "$root" && mvn -B -q -DskipTests package)
fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# Waits up to 10 s until something listens on 127.0.0.1:PORT.
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

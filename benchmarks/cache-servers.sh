# Sourced by cache-vs-memcached.sh and cache-syscalls.sh (after they set root and dist): a scratch
# directory, cleanup of every process in pids on exit, and the two servers compared, each pinned to
# CPU 0: memcached -t 1 (mc_port, mc_pid) and the cache daemon alone in a launcher with one I/O thread
# (cache_port, cache_pid). With IO_URING=1 (the default), the cache daemon once more in a second launcher
# on the io_uring transport (uring_port, uring_pid), started the same way, with URING_RING buffers in its
# provided buffer ring (daemonkit.transport.io-uring-buffer-ring; default 0, none; 512 to try one). Helpers: wait_port PORT,
# free_port, cpu_ticks PID, hz.
JVM="-Xms1g -Xmx1g -XX:+AlwaysPreTouch -XX:+UseG1GC"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# memcached, one worker thread
mc_port=$(free_port)
user_flag=(); [ "$(id -u)" = 0 ] && user_flag=(-u root)
taskset -c 0 memcached -p "$mc_port" -U 0 -l 127.0.0.1 -t 1 -m 1024 "${user_flag[@]}" &
mc_pid=$!; pids+=("$mc_pid")

# the cache daemon in the launcher, alone, one I/O thread
IO_URING=${IO_URING:-1}
start_cache() {   # transport port name [dist]: starts a launcher (of dist, default this build); its pid in started_pid
  local d=${4:-$dist}
  mkdir -p "$work/logs-$3" "$work/plugins-$3"
  cp "$d/plugins/cache.jar" "$work/plugins-$3/"
  cat > "$work/daemonkit-$3.conf" <<CONF
daemonkit.transport.io-threads = 1
daemonkit.transport.native = $1
daemonkit.transport.io-uring-buffer-ring = ${URING_RING:-0}
daemonkit.logging.level = WARN
daemons.cache { listen = "127.0.0.1:$2", memory-limit = 512 MiB }
CONF
  DAEMONKIT_OPTS="$JVM" taskset -c 0 "$d/bin/daemonkit" run --config "$work/daemonkit-$3.conf" \
    --plugins "$work/plugins-$3" --logs "$work/logs-$3" > "$work/launcher-$3.out" 2>&1 &
  started_pid=$!; pids+=("$started_pid")
}
cache_port=$(free_port)
start_cache auto "$cache_port" cache; cache_pid=$started_pid
if [ "$IO_URING" = 1 ]; then
  uring_port=$(free_port)
  start_cache io_uring "$uring_port" cache-uring; uring_pid=$started_pid
fi

#!/usr/bin/env bash
# HTTP overhead of alliance-map against a bare axum server (examples/bare_server.rs: no
# middleware, a fixed JSON body of the same size), side by side in one run: wrk on loopback,
# single GET lookups at random points in England's bbox, the two servers measured in
# alternation ROUNDS times. On a 2-core machine each server runs on core 0 with one tokio
# worker and wrk on core 1 (PIN=0 to let the scheduler place them), so the servers are
# compared at one core each. Prints each round (req/s and server CPU µs per request, from
# /proc), the medians and both ratios.
# BASELINE=path/to/an/older/alliance-map adds that build as a third server (before/after in one
# run; it is started with `serve --addr … --no-postcodes --data …`).
#   ROUNDS=5 DURATION=10s CONNECTIONS=64 scripts/bench-http-overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
port=${PORT:-18090}
bare_port=$((port + 10))
data=${ALLIANCE_MAP_DATA:-../shared/data}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
source scripts/lib.sh
server_cpu="" client_cpu=""
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_cpu="taskset -c 0" client_cpu="taskset -c 1"
  export TOKIO_WORKER_THREADS=1
fi
NO_POSTCODES=1 LAUNCH="$server_cpu" start_server
cargo build --release --quiet --example bare_server
$server_cpu "${CARGO_TARGET_DIR:-target}/release/examples/bare_server" "127.0.0.1:$bare_port" 2>/dev/null &
bare=$!
base_pid=""
if [ -n "${BASELINE:-}" ]; then
  RUST_LOG=warn $server_cpu "$BASELINE" serve --addr "127.0.0.1:$((port + 20))" --no-postcodes --data "$data" &
  base_pid=$!
fi
trap 'kill $pid $bare $base_pid 2>/dev/null || true; wait $pid $bare $base_pid 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -n "$base_pid" ]; then
  until curl -fsS "http://127.0.0.1:$((port + 20))/healthz" >/dev/null 2>&1; do sleep 0.1; done
fi
until curl -fsS "http://127.0.0.1:$bare_port/api/v1/lookup" >/dev/null 2>&1; do sleep 0.1; done
echo "answer sizes: alliance-map $(curl -s "http://127.0.0.1:$port/api/v1/lookup?lon=-1.5492&lat=53.7997" | wc -c) B, bare $(curl -s "http://127.0.0.1:$bare_port/api/v1/lookup" | wc -c) B"

lookup_script "$work/lookup.lua"

# CPU seconds (user + system) a process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
# One wrk run against URL $1 served by process $2: "req/s µs-of-server-CPU-per-request".
measure() {
  local before after out
  before=$(cpu "$2")
  out=$($client_cpu wrk -t1 -c"$connections" -d"$duration" -s "$work/lookup.lua" "$1")
  after=$(cpu "$2")
  awk -v b="$before" -v a="$after" '/Requests\/sec/ {r=$2} /requests in/ {n=$1} END {printf "%s %.2f\n", r, (a - b) * 1e6 / n}' <<< "$out"
}
# Waits until process $1 has finished its background warm-up (lookup grids, crosswalks, the
# default period's map tiles: several CPU-seconds that would otherwise land in the first rounds):
# less than 20 ms of CPU in half a second, or 120 s at most.
wait_idle() {
  local before after
  for _ in $(seq 240); do
    before=$(cpu "$1"); sleep 0.5; after=$(cpu "$1")
    awk -v b="$before" -v a="$after" 'BEGIN {exit !(a - b < 0.02)}' && return 0
  done
  echo "warning: process $1 still busy after 120 s" >&2
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
wait_idle "$pid"
[ -n "$base_pid" ] && wait_idle "$base_pid"
# Warm both (grid built, caches hot).
$client_cpu wrk -t1 -c8 -d2s -s "$work/lookup.lua" "http://127.0.0.1:$port" >/dev/null
$client_cpu wrk -t1 -c8 -d2s -s "$work/lookup.lua" "http://127.0.0.1:$bare_port" >/dev/null
: > "$work/ours"; : > "$work/bare"; : > "$work/baseline"
[ -n "$base_pid" ] && $client_cpu wrk -t1 -c8 -d2s -s "$work/lookup.lua" "http://127.0.0.1:$((port + 20))" >/dev/null
for r in $(seq "$rounds"); do
  measure "http://127.0.0.1:$bare_port" "$bare" >> "$work/bare"
  measure "http://127.0.0.1:$port" "$pid" >> "$work/ours"
  read -r br bc < <(tail -1 "$work/bare"); read -r or oc < <(tail -1 "$work/ours")
  line="round $r: bare $br req/s ($bc µs CPU/request), alliance-map $or req/s ($oc µs CPU/request)"
  if [ -n "$base_pid" ]; then
    measure "http://127.0.0.1:$((port + 20))" "$base_pid" >> "$work/baseline"
    read -r xr xc < <(tail -1 "$work/baseline")
    line="$line, baseline $xr req/s ($xc µs CPU/request)"
  fi
  echo "$line"
done
o_rate=$(cut -d' ' -f1 "$work/ours" | median); b_rate=$(cut -d' ' -f1 "$work/bare" | median)
o_cpu=$(cut -d' ' -f2 "$work/ours" | median); b_cpu=$(cut -d' ' -f2 "$work/bare" | median)
echo "median: bare $b_rate req/s, $b_cpu µs CPU/request; alliance-map $o_rate req/s, $o_cpu µs CPU/request"
awk -v o="$o_rate" -v b="$b_rate" -v oc="$o_cpu" -v bc="$b_cpu" \
  'BEGIN {printf "ratio (alliance-map / bare): throughput %.3f, CPU per request %.3f\n", o / b, bc / oc}'
if [ -n "$base_pid" ]; then
  x_rate=$(cut -d' ' -f1 "$work/baseline" | median); x_cpu=$(cut -d' ' -f2 "$work/baseline" | median)
  awk -v x="$x_rate" -v b="$b_rate" -v xc="$x_cpu" -v bc="$b_cpu" \
    'BEGIN {printf "baseline: %s req/s, %.2f µs CPU/request; ratio to bare: throughput %.3f, CPU per request %.3f\n", x, xc, x / b, bc / xc}'
fi

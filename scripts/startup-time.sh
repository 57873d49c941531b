#!/usr/bin/env bash
# Measures start-up to serving: from exec of the release binary to the first 200 from
# /healthz, over several runs; prints each and the median (milliseconds).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-9}
port=${PORT:-18089}
cargo build --release --quiet
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  ./target/release/alliance-map serve --addr "127.0.0.1:$port" --admin-addr "127.0.0.1:$((port + 1))" "$@" >/dev/null 2>&1 &
  pid=$!
  until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "server exited" >&2; exit 1; }
    sleep 0.005
  done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  times+=($(( (end - start) / 1000000 )))
done
echo "runs (ms): ${times[*]}"
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print "median (ms):", a[int((NR+1)/2)]}'

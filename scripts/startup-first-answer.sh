#!/usr/bin/env bash
# Start-up to the first answer with the embedded data (issue 15, requirement 2), as
# scripts/bench-postgis.sh times it but without PostgreSQL: `lookup --lon --lat`, `annotate`
# of a one-row CSV, and `serve --no-postcodes` to the first 200 from /api/v1/lookup; then
# `lookup --postcode`. Prints each run and the median wall time (ms), with the median CPU
# (user + system, GNU time) of the one-shot commands. BIN picks the binary (default: release
# build); BASELINE=<binary> times another binary in the same runs, alternating.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-9}
port=${PORT:-18291}
[ -n "${BIN:-}" ] || { cargo build --release --quiet; BIN=${CARGO_TARGET_DIR:-target}/release/alliance-map; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'id,lon,lat\n1,-1.5492,53.7997\n' > "$work/one.csv"
now() { date +%s%N; }
declare -A wall cpu
# Times "$@" to exit; appends to wall[$key] and cpu[$key].
one_shot() {
  local key=$1; shift
  local start; start=$(now)
  /usr/bin/time -f '%U %S' -o "$work/time.txt" "$@" >/dev/null 2>&1
  wall[$key]+="$(( ($(now) - start) / 1000000 )) "
  cpu[$key]+="$(awk '{print ($1 + $2) * 1000}' "$work/time.txt") "
}
serve() {
  local key=$1 bin=$2
  local start; start=$(now)
  RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --admin-addr "127.0.0.1:$((port + 1))" --no-postcodes >/dev/null 2>&1 &
  local pid=$!
  until curl -fsS "http://127.0.0.1:$port/api/v1/lookup?lon=-1.5492&lat=53.7997" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "server exited" >&2; exit 1; }
    sleep 0.002
  done
  wall[$key]+="$(( ($(now) - start) / 1000000 )) "
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
bins=("new=$BIN")
[ -n "${BASELINE:-}" ] && bins+=("old=$BASELINE")
for _ in $(seq "$runs"); do
  for nb in "${bins[@]}"; do
    name=${nb%%=*} bin=${nb#*=}
    one_shot "$name lookup" "$bin" lookup --lon -1.5492 --lat 53.7997
    one_shot "$name annotate" "$bin" annotate "$work/one.csv" --lon-column lon --lat-column lat
    serve "$name serve" "$bin"
    one_shot "$name lookup --postcode" "$bin" lookup --postcode "LS1 4AP"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for key in $(printf '%s\n' "${!wall[@]}" | sort | tr ' ' '_'); do
  k=${key//_/ }
  line="$k: median $(echo "${wall[$k]}" | median) ms (runs: ${wall[$k]})"
  [ -n "${cpu[$k]:-}" ] && line+="; CPU median $(echo "${cpu[$k]}" | median) ms"
  echo "$line"
done

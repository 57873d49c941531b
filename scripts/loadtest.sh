#!/usr/bin/env bash
# HTTP load profile on loopback: builds release, starts the server (boundaries + postcodes),
# and runs wrk against single lookups (random points in England's bbox), single postcodes
# (random real postcodes) and bulk POSTs of 1000 points. Prints req/s, latency percentiles
# and the server's resident memory. Needs wrk (Debian: apt-get install wrk).
#   DURATION=15s CONNECTIONS=64 THREADS=1 scripts/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-15s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-1}
port=${PORT:-18090}
data=${ALLIANCE_MAP_DATA:-../shared/data}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
source scripts/lib.sh
start_server
base="http://127.0.0.1:$port"

lookup_script "$work/lookup.lua"

postcode_table "$work/pcs.lua"
{ cat "$work/pcs.lua"; cat <<'LUA'
math.randomseed(7)
request = function()
  return wrk.format("GET", "/api/v1/postcodes/" .. pcs[math.random(#pcs)])
end
LUA
} > "$work/postcode.lua"

cat > "$work/bulk.lua" <<'LUA'
math.randomseed(3)
local pts = {}
for i = 1, 1000 do
  pts[i] = string.format('{"lon":%.5f,"lat":%.5f,"id":%d}', -6.42 + math.random() * 8.19, 49.86 + math.random() * 5.96, i)
end
wrk.method = "POST"
wrk.body = '{"points":[' .. table.concat(pts, ",") .. ']}'
wrk.headers["Content-Type"] = "application/json"
LUA

# Warm up (builds the map documents and touches the postcode index).
curl -fsS "$base/api/v1/boundaries/alliances.geojson" >/dev/null
wrk -t1 -c8 -d2s -s "$work/postcode.lua" "$base" >/dev/null

summarise() {
  awk -v name="$1" '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx/ {errors=$NF}
    /Socket errors/ {socket=$0}
    END {printf "%-22s %10s req/s   p50 %-9s p99 %-9s non-2xx %s %s\n", name, rps, p50, p99, (errors == "" ? 0 : errors), socket}'
}
echo "wrk: $threads thread(s), $connections connections, $duration each, loopback, same 2-core machine as the server"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$work/lookup.lua" "$base" | tee "$work/w1.txt" | summarise "GET /lookup"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$work/postcode.lua" "$base" | tee "$work/w2.txt" | summarise "GET /postcodes/{pc}"
# Bulk: few connections, so latency is the cost of one request rather than queueing.
wrk -t"$threads" -c"${BULK_CONNECTIONS:-2}" -d"$duration" --latency -s "$work/bulk.lua" "$base/api/v1/lookup" | tee "$work/w3.txt" | summarise "POST /lookup x1000"
grep -E "VmRSS|VmHWM" "/proc/$pid/status"

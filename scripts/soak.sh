#!/usr/bin/env bash
# Soak: 5 minutes (SOAK=5m) of mixed load from wrk with 256 connections against the release
# server on loopback: 60 % point lookups, 30 % postcode lookups, 10 % bulk POSTs of 100 points,
# all valid. Reports errors (must be zero), req/s, latency and resident memory at the start
# (after warm-up) and the end (growth must be ≤ 10 %). Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${SOAK:-5m}
port=${PORT:-18092}
data=${ALLIANCE_MAP_DATA:-../shared/data}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
source scripts/lib.sh
start_server
postcode_table "$work/pcs.lua"
{ cat "$work/pcs.lua"; cat <<'LUA'
math.randomseed(11)
local function point() return -6.42 + math.random() * 8.19, 49.86 + math.random() * 5.96 end
local bulk = {}
for i = 1, 100 do local x, y = point(); bulk[i] = string.format('{"lon":%.5f,"lat":%.5f}', x, y) end
local body = '{"points":[' .. table.concat(bulk, ",") .. ']}'
request = function()
  local r = math.random()
  if r < 0.6 then
    local x, y = point()
    return wrk.format("GET", string.format("/api/v1/lookup?lon=%.5f&lat=%.5f", x, y))
  elseif r < 0.9 then
    return wrk.format("GET", "/api/v1/postcodes/" .. pcs[math.random(#pcs)])
  else
    return wrk.format("POST", "/api/v1/lookup", {["Content-Type"] = "application/json"}, body)
  end
end
LUA
} > "$work/mixed.lua"
# Warm up, then take the starting memory.
wrk -t1 -c64 -d10s -s "$work/mixed.lua" "http://127.0.0.1:$port" >/dev/null
rss_start=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "soak: $duration, 256 connections, mixed valid requests; RSS after warm-up ${rss_start} kB"
wrk -t2 -c256 -d"$duration" --timeout 10s --latency -s "$work/mixed.lua" "http://127.0.0.1:$port" | tee "$work/soak.txt"
rss_end=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
growth=$(awk -v a="$rss_start" -v b="$rss_end" 'BEGIN {printf "%.1f", (b - a) * 100 / a}')
errors=$(awk '/Non-2xx/ {print $NF}' "$work/soak.txt"); errors=${errors:-0}
socket=$(grep -c "Socket errors" "$work/soak.txt" || true)
echo "RSS start ${rss_start} kB, end ${rss_end} kB (growth ${growth} %), peak ${hwm} kB; non-2xx ${errors}; socket-error lines ${socket}"
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null && echo "healthy after the soak"
[ "$errors" = 0 ] && [ "$socket" = 0 ] && awk -v g="$growth" 'BEGIN {exit !(g <= 10)}'

#!/usr/bin/env bash
# Hostile and slow clients at full scale against the release server on loopback (boundaries
# only), with the figures of docs/RELIABILITY.md. Each phase runs `examples/hostile.rs`:
#   1. 20,000 sockets (10,000 silent + 10,000 half HTTP/2 preface, two client processes):
#      all closed by the server, /healthz latency on fresh connections meanwhile;
#   2. 1,000 clients requesting the largest document and never reading: RSS growth;
#   3. 600 connections trickling request bodies: ordinary lookups' success rate and p99;
#   4. 1,000 connections posting 1000-point bulks back to back: single lookups' p99, shed
#      counts in /metrics.
#   SECS=20 scripts/hostile.sh
# Needs root, or a hard open-file limit of at least 45,000 (server and clients each hold
# 20,000 sockets at once in phase 1).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-18094}
secs=${SECS:-20}
data=${ALLIANCE_MAP_DATA:-../shared/data}
# The server raises its soft limit to the hard one; make the hard one big enough.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
export NO_POSTCODES=1
cargo build --release --quiet --example hostile
hostile="${CARGO_TARGET_DIR:-target}/release/examples/hostile"
source scripts/lib.sh
start_server
addr="127.0.0.1:$port"
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
metric() { curl -fsS "http://127.0.0.1:$((port + 1))/metrics" | grep -E "$1" || true; }

echo "== 1. 20,000 silent and half-preface sockets (RSS before $(rss) kB)"
"$hostile" silent "$addr" 10000 > "$work/silent.txt" &
a=$!
"$hostile" silent "$addr" 10000 preface > "$work/preface.txt" &
b=$!
wait $a $b
cat "$work/silent.txt" "$work/preface.txt"
metric 'connections_closed_total'
echo "RSS after $(rss) kB"

echo "== 2. 1,000 slow readers of the largest document"
largest="/api/v1/boundaries/stps.geojson?detail=full"
size=$(curl -fsS "http://$addr$largest" | wc -c)
# The documents are built on first request: warm up first, so only the readers are measured.
for l in alliances stps countries; do curl -fsS -o /dev/null "http://$addr/api/v1/boundaries/$l.geojson?detail=full"; done
rss0=$(rss)
"$hostile" readers "$addr" 1000 "$largest" 8 > "$work/readers.txt" &
r=$!
peak=$rss0
while kill -0 $r 2>/dev/null; do now=$(rss); [ "$now" -gt "$peak" ] && peak=$now; sleep 0.2; done
cat "$work/readers.txt"
echo "document ${size} bytes; RSS before ${rss0} kB, peak ${peak} kB (+$(( (peak - rss0) / 1024 )) MB), after $(rss) kB"
metric 'reason="write_timeout"'

echo "== 3. 600 slow-body connections, lookups alongside for ${secs} s"
"$hostile" slowbody "$addr" 600 "$secs"

echo "== 4. 1,000 connections of 1000-point bulks, lookups alongside for ${secs} s"
"$hostile" bulk "$addr" 1000 "$secs"
metric 'alliance_map_shed_total'
echo "RSS at the end $(rss) kB"
curl -fsS "http://$addr/healthz" >/dev/null && echo "healthy after"

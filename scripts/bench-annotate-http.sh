#!/usr/bin/env bash
# Streaming annotate over HTTP (`POST /api/v1/annotate`) on loopback against the release
# server with its embedded data: rows/s for ROWS (default 1,000,000) real postcodes and for
# ROWS random points in England's bounding box (3 runs each, medians printed), then a
# BIG_ROWS (default 10,000,000) postcode stream piped through curl without ever being held
# in a file, with the server's RSS sampled through it. The same CSV through
# the CLI (`annotate`, process start included) is timed beside it for the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
big=${BIG_ROWS:-10000000}
port=${PORT:-18480}
data=${ALLIANCE_MAP_DATA:-../shared/data}
work=$(mktemp -d)
bin=${CARGO_TARGET_DIR:-target}/release/alliance-map
# shellcheck source=lib.sh
source scripts/lib.sh
EMBEDDED=1 start_server
sleep 3 # let the background warm-up (grids, tiles) finish

echo 'id,"site name",postcode' > "$work/pc.csv"
{ unzip -p "$data/postcodes/codepo_gb.zip" 'Data/CSV/*.csv' || true; } | head -n "$rows" |
  awk -F, '{gsub(/"/, "", $1); printf "%d,\"Site %d, somewhere\",%s\n", NR, NR, $1}' >> "$work/pc.csv"
awk -v n="$rows" 'BEGIN { srand(2017); print "id,lon,lat";
  for (i = 1; i <= n; i++) printf "%d,%.5f,%.5f\n", i, -6.42 + rand() * 8.19, 49.86 + rand() * 5.96 }' > "$work/pt.csv"
echo "inputs: $rows rows each; postcodes $(du -h "$work/pc.csv" | cut -f1), points $(du -h "$work/pt.csv" | cut -f1)"

rss() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' "/proc/$pid/status"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

run_http() { # $1 input, $2 query; prints ms
  local start end
  start=$(ms_now)
  curl -fsS -X POST -H 'Content-Type: text/csv' --data-binary "@$1" \
    "http://127.0.0.1:$port/api/v1/annotate?$2" -o "$work/out.csv"
  end=$(ms_now)
  echo $((end - start))
}
run_cli() { # $1 input, then annotate's flags; prints ms
  local start end input=$1
  shift
  start=$(ms_now)
  RUST_LOG=warn "$bin" annotate "$input" "$@" -o "$work/cli.csv" 2>/dev/null
  end=$(ms_now)
  echo $((end - start))
}

report() { # $1 label, $2 rows, then ms figures
  local label=$1 n=$2
  shift 2
  local med
  med=$(printf '%s\n' "$@" | median)
  echo "$label: runs $* ms; median $med ms = $((n * 1000 / (med > 0 ? med : 1))) rows/s"
}

run_http "$work/pc.csv" postcode_column=postcode >/dev/null # warm-up
report "HTTP postcodes" "$rows" $(for _ in 1 2 3; do run_http "$work/pc.csv" postcode_column=postcode; done)
echo "  output rows: $(($(wc -l < "$work/out.csv") - 1)), matched: $(grep -c ',matched$' "$work/out.csv" || true)"
report "CLI  postcodes" "$rows" $(for _ in 1 2 3; do run_cli "$work/pc.csv" --postcode-column postcode; done)
cmp -s "$work/out.csv" "$work/cli.csv" && echo "  HTTP and CLI answers are byte-identical" || echo "  HTTP and CLI answers DIFFER"
report "HTTP points" "$rows" $(for _ in 1 2 3; do run_http "$work/pt.csv" 'lon_column=lon&lat_column=lat'; done)
report "CLI  points" "$rows" $(for _ in 1 2 3; do run_cli "$work/pt.csv" --lon-column lon --lat-column lat; done)
report "HTTP points, timeline" "$rows" $(for _ in 1 2 3; do run_http "$work/pt.csv" 'lon_column=lon&lat_column=lat&timeline=true'; done)

# The big stream: BIG_ROWS rows generated on the fly, uploaded chunked, answer counted and
# thrown away; nothing holds the whole input or output.
before=$(rss VmRSS)
# VmHWM counts start-up too: sample VmRSS every 0.2 s during the stream instead.
( while kill -0 "$pid" 2>/dev/null; do rss VmRSS; sleep 0.2; done > "$work/rss.txt" ) &
sampler=$!
start=$(ms_now)
lines=$( { echo 'id,"site name",postcode'; reps=$(( (big + rows - 1) / rows ));
  # (head closes the pipe once it has BIG_ROWS: the loop's SIGPIPE is expected)
  { for _ in $(seq "$reps"); do tail -n +2 "$work/pc.csv"; done || true; } | head -n "$big"; } |
  curl -fsS -X POST -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' -T - \
    "http://127.0.0.1:$port/api/v1/annotate?postcode_column=postcode" | wc -l)
end=$(ms_now)
ms=$((end - start))
kill "$sampler" 2>/dev/null || true
peak=$(sort -n "$work/rss.txt" | tail -n 1)
echo "HTTP stream of $big rows: $((lines - 1)) rows back in $ms ms ($((big * 1000 / (ms > 0 ? ms : 1))) rows/s); server RSS before ${before} MB, highest during the stream ${peak} MB, after $(rss VmRSS) MB"

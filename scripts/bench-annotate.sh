#!/usr/bin/env bash
# Times `alliance-map annotate` on a CSV of N real postcodes (default 1,000,000) drawn from
# Code-Point Open, with a quoted name column; prints rows/s. Runs 3 times, reports each.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
data=${ALLIANCE_MAP_DATA:-../shared/data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
# Build the postcode cache first so the timing is annotate alone.
RUST_LOG=warn ./target/release/alliance-map lookup --postcode "LS1 1AZ" --data "$data" >/dev/null
echo 'id,"site name",postcode' > "$work/in.csv"
# (head closes the pipe early: unzip's SIGPIPE is expected)
{ unzip -p "$data/postcodes/codepo_gb.zip" 'Data/CSV/*.csv' || true; } | head -n "$rows" |
  awk -F, '{gsub(/"/, "", $1); printf "%d,\"Site %d, somewhere\",%s\n", NR, NR, $1}' >> "$work/in.csv"
echo "input: $(($(wc -l < "$work/in.csv") - 1)) rows, $(du -h "$work/in.csv" | cut -f1)"
for run in 1 2 3; do
  start=$(date +%s%N)
  RUST_LOG=warn ./target/release/alliance-map annotate "$work/in.csv" --postcode-column postcode \
    -o "$work/out.csv" --data "$data" 2>"$work/err.txt"
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  echo "run $run: ${ms} ms ($(( rows * 1000 / (ms > 0 ? ms : 1) )) rows/s); $(tail -n 1 "$work/err.txt")"
done

#!/usr/bin/env bash
# Runs each cargo-fuzz target for FUZZ_SECONDS (default 60). cargo-fuzz needs nightly flags;
# on the stable toolchain RUSTC_BOOTSTRAP=1 enables them. Installs cargo-fuzz if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
# Seeds: a real index built from the ONSPD sample, so the reader fuzzer starts from valid input.
mkdir -p fuzz/corpus/postcode_index_file
if [ -f ../shared/data/postcodes/onspd-sample-2019.csv ] && [ ! -f fuzz/corpus/postcode_index_file/seed.amp ]; then
  cargo run --release --quiet -- import-postcodes ../shared/data/postcodes/onspd-sample-2019.csv \
    --out fuzz/corpus/postcode_index_file/seed.amp 2>/dev/null
fi
for target in postcode_parse lookup_query geojson_layer lookup_csv postcode_index_file; do
  echo "== $target (${seconds}s)"
  cargo fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 2>&1 | grep -E "Done|ERROR|panicked|SUMMARY|stat::number_of_executed_units" || true
  [ ! -d "fuzz/artifacts/$target" ] || [ -z "$(ls -A "fuzz/artifacts/$target" 2>/dev/null)" ] || { echo "crash found in $target: fuzz/artifacts/$target"; exit 1; }
done

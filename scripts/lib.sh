# Shared by the load scripts: start the release server on loopback, and list real postcodes.
# Source it after `cd` to the repository root; set `port` and `data` first.

# Builds release, starts the server in the background (pid in $pid; admin listener on
# port+1; boundaries only with NO_POSTCODES=1; the embedded data instead of $data with
# EMBEDDED=1; LAUNCH prefixes the command, e.g. taskset), waits for /healthz and arranges for it to stop
# (and $work to be removed) on exit.
start_server() {
  cargo build --release --quiet
  local data_args=(--data "$data")
  if [ -n "${EMBEDDED:-}" ]; then data_args=(); fi
  RUST_LOG=warn ${LAUNCH:-} "${CARGO_TARGET_DIR:-target}/release/alliance-map" serve --addr "127.0.0.1:$port" \
    --admin-addr "127.0.0.1:$((port + 1))" "${data_args[@]}" ${NO_POSTCODES:+--no-postcodes} &
  pid=$!
  trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
  until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "server exited" >&2; exit 1; }
    sleep 0.1
  done
}

# Writes a Lua table `pcs` of 20,000 real postcodes (every 85th of Code-Point Open with
# coordinates, URL-encoded) to the file $1.
postcode_table() {
  { echo "local pcs = {"
    { unzip -p "$data/postcodes/codepo_gb.zip" 'Data/CSV/*.csv' || true; } |
      awk -F, 'NR % 85 == 0 && $2 != 90 {gsub(/"/, "", $1); gsub(/ +/, "%20", $1); printf "\"%s\",\n", $1}'
    echo "}"; } > "$1"
}

# Writes a wrk Lua script to $1: single GET lookups at random points in England's bounding box
# (seeded by $2, default 42, so runs are comparable).
lookup_script() {
  cat > "$1" <<LUA
math.randomseed(${2:-42})
request = function()
  local lon = -6.42 + math.random() * 8.19
  local lat = 49.86 + math.random() * 5.96
  return wrk.format("GET", string.format("/api/v1/lookup?lon=%.5f&lat=%.5f", lon, lat))
end
LUA
}

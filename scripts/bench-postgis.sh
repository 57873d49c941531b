#!/usr/bin/env bash
# The honest anchor (issue 15): alliance-map side by side with PostGIS, in one run, on the same
# random points in England's bounding box (seed 2017) and the same 2017 alliance and STP layers
# at full detail.
#
# PostGIS, two variants on a throwaway cluster (loopback, jit off):
#   naive  - the whole polygons under GiST; a point-driven LATERAL join per layer.
#   expert - ST_Subdivide(geom, 255) into a separate table with GiST, ANALYZE; the points in a
#            table sorted by geometry (PostGIS 3's Hilbert order) with GiST; a polygon-driven join
#            (each piece probes the points' index), ST_Covers, the lowest code per point on
#            borders (alliance-map's rule); single queries prepared through pgbench.
# alliance-map: `annotate` CLI (CSV in -> CSV out, process start included), HTTP bulk
# (`POST /api/v1/lookup`, 1000 points a request, 2 connections, curl), single GETs under wrk
# with 2 connections, and start-up (process start -> first answer).
# Server CPU per request from /proc/PID/stat (utime + stime; for PostgreSQL the postmaster with
# its reaped children plus every live child). Medians of REPS repetitions, variants interleaved.
# The answers (alliance and STP per point PostGIS covers) are checked to agree.
#
# Installs PostgreSQL + PostGIS (Debian), wrk, curl, bc and GNU time if missing. Settings through the environment:
#   SIZES="100000 1000000"  REPS=3  NAIVE_MAX=100000 (naive batch only up to this size)
#   DURATION=10 (s per single-query run)  STARTUP_RUNS=7  PGPORT_BENCH=55432  PORT=18190
#   AM_DATA=embedded (alliance-map answers from the data embedded in its binary, as shipped) or
#   AM_DATA=files (from the official files in ALLIANCE_MAP_DATA, default ../shared/data);
#   start-up is measured with both.
#   KEEP=1 keeps the work directory (outputs, logs) for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
here=scripts/postgis
data=$(cd "${ALLIANCE_MAP_DATA:-../shared/data}" && pwd)
sizes=${SIZES:-100000 1000000}
reps=${REPS:-3}
naive_max=${NAIVE_MAX:-100000}
duration=${DURATION:-10}
startup_runs=${STARTUP_RUNS:-7}
pgport=${PGPORT_BENCH:-55432}
port=${PORT:-18190}
bulk_size=1000
bin=$(realpath -m "${CARGO_TARGET_DIR:-target}/release/alliance-map")
am_source=${AM_DATA:-embedded}

# --- what it needs --------------------------------------------------------------------------
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pgver=$(basename "$(dirname "$pgbin")")
if ! ls "/usr/share/postgresql/$pgver/extension/postgis.control" >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq "postgresql-$pgver-postgis-3" >/dev/null
fi
for tool in wrk curl bc /usr/bin/time:time; do
  command -v "${tool%%:*}" >/dev/null || { apt-get update -qq && apt-get install -y -qq "${tool##*:}" >/dev/null; }
done
cargo build --release --quiet

work=$(mktemp -d /tmp/bench-postgis.XXXXXX)
chmod 755 "$work"
results=$work/results.tsv
: > "$results"
record() { printf '%s\t%s\n' "$1" "$2" >> "$results"; }
now() { date +%s%N; }
ms_since() { echo $(( ($(now) - $1) / 1000000 )); }
tck=$(getconf CLK_TCK)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
  [ -f "$work/pg/postmaster.pid" ] && su postgres -c "$pgbin/pg_ctl -D $work/pg stop -m immediate" >/dev/null 2>&1 || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- a throwaway cluster --------------------------------------------------------------------
install -d -o postgres "$work/pg"
su postgres -c "$pgbin/initdb -D $work/pg -A trust -U postgres" >/dev/null
# Read-only benchmark: durability off speeds up loading only; jit off (its compile time costs the
# batch 2-3 s here); shared_buffers holds every table.
su postgres -c "$pgbin/pg_ctl -D $work/pg -w -l $work/pg/server.log start -o \"-p $pgport -k $work/pg \
  -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c work_mem=64MB -c jit=off -c fsync=off \
  -c synchronous_commit=off -c full_page_writes=off\"" >/dev/null
psql() { PGOPTIONS="-c client_min_messages=warning" command psql -h 127.0.0.1 -p "$pgport" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
# CPU ticks of every PostgreSQL process: the postmaster with its reaped children (backends that
# have exited) plus every live child.
# pg_ticks sys: system time only.
pg_ticks() {
  local pm
  pm=$(head -1 "$work/pg/postmaster.pid")
  { awk -v sys="${1:-}" '{print (sys ? 0 : $14 + $16) + $15 + $17}' "/proc/$pm/stat"
    for c in $(pgrep -P "$pm"); do awk -v sys="${1:-}" '{print (sys ? 0 : $14) + $15}' "/proc/$c/stat" 2>/dev/null || true; done
  } | awk '{s += $1} END {print s}'
}
am_ticks() { awk -v sys="${1:-}" '{print (sys ? 0 : $14) + $15}' "/proc/$server_pid/stat"; }
psql -c "CREATE EXTENSION postgis"
# alliance-map with one data source: `run_am SOURCE ARGS...` runs the binary in place of the
# calling (sub)shell, so `(run_am ...) &` leaves the server's own pid in $!. The embedded data
# is used when no --data is given and ALLIANCE_MAP_DATA is unset; the working directory is the
# work directory, so no ./data or ../shared/data is picked up instead.
run_am() {
  local src=$1; shift
  if [ "$src" = embedded ]; then
    cd "$work" && exec env -u ALLIANCE_MAP_DATA RUST_LOG=warn "$bin" "$@"
  else
    exec env RUST_LOG=warn "$bin" "$@" --data "$data"
  fi
}
sources=files
if (run_am embedded lookup --lon -1.5492 --lat 53.7997 >/dev/null 2>&1); then sources="files embedded"
elif [ "$am_source" = embedded ]; then echo "no data embedded in the binary: answering from the files"; am_source=files; fi
echo "== setup"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "PostgreSQL $(psql -c 'SHOW server_version'); $(psql -c 'SELECT postgis_full_version()' | cut -d' ' -f1-4)"
echo "alliance-map $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' (modified)'), answering from: $am_source data"

start=$(now)
python3 "$here/load.py" "$data" > "$work/load.sql"
psql -f "$work/load.sql"
echo "loaded the 2017 layers in $(ms_since "$start") ms: $(psql -c "SELECT string_agg(t, ', ') FROM (
  SELECT format('%s %s features, %s vertices', 'alliances', count(*), sum(ST_NPoints(geom))) t FROM alliances UNION ALL
  SELECT format('%s %s features, %s vertices', 'STPs', count(*), sum(ST_NPoints(geom))) FROM stps UNION ALL
  SELECT format('%s pieces of alliances', count(*)) FROM alliances_sub UNION ALL
  SELECT format('%s pieces of STPs', count(*)) FROM stps_sub) x")"

# --- batch: PostGIS (naive, expert) and annotate, interleaved --------------------------------
for n in $sizes; do
  echo "== batch, $n points"
  python3 "$here/points.py" "$n" > "$work/points-$n.csv"
  for rep in $(seq "$reps"); do
    # The expert's points table, loaded from the same CSV (timed: what CSV in costs PostGIS).
    start=$(now)
    psql -c "DROP TABLE IF EXISTS pts_$n, pts_in" \
      -c "CREATE UNLOGGED TABLE pts_in (id int, lon float8, lat float8)" \
      -c "\\copy pts_in FROM '$work/points-$n.csv' CSV HEADER" \
      -c "CREATE TABLE pts_$n AS SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geometry(Point, 4326) AS geom FROM pts_in ORDER BY 2" \
      -c "CREATE INDEX ON pts_$n USING gist (geom)" -c "ANALYZE pts_$n"
    load_ms=$(ms_since "$start")

    sleep 0.2; t0=$(pg_ticks); start=$(now)   # (after the loading backend is reaped)
    psql -v pts="pts_$n" -f "$here/batch-expert.sql" > "$work/expert-$n.csv"
    ms=$(ms_since "$start"); sleep 0.2; t1=$(pg_ticks)   # (the backend exits and is reaped)
    record "pg_expert_ms:$n" "$ms"
    record "pg_load_expert_ms:$n" "$((load_ms + ms))"
    record "pg_expert_cpu_us_per_point:$n" "$(echo "($t1 - $t0) * 1000000 / $tck / $n" | bc -l)"
    line="expert $ms ms (+ $load_ms ms loading the points)"

    if [ "$n" -le "$naive_max" ]; then
      t0=$(pg_ticks); start=$(now)
      psql -v pts="pts_$n" -f "$here/batch-naive.sql" > "$work/naive-$n.csv"
      ms=$(ms_since "$start"); sleep 0.2; t1=$(pg_ticks)
      record "pg_naive_ms:$n" "$ms"
      record "pg_naive_cpu_us_per_point:$n" "$(echo "($t1 - $t0) * 1000000 / $tck / $n" | bc -l)"
      line="$line; naive $ms ms"
    fi

    start=$(now)
    (run_am "$am_source" annotate "$work/points-$n.csv" --lon-column lon --lat-column lat \
      -o "$work/annotate-$n.csv") 2>"$work/annotate-$n.err"
    ms=$(ms_since "$start")
    record "annotate_ms:$n" "$ms"
    echo "rep $rep: PostGIS $line; annotate $ms ms"
  done
done
if [ "${EXPLAIN:-}" ]; then
  n=${sizes%% *}
  sed -n '/^  WITH/,/ORDER BY p.id$/p' "$here/batch-expert.sql" | sed "s/:pts/pts_$n/g" |
    { echo "EXPLAIN (ANALYZE, TIMING OFF)"; cat; } | psql
fi

# --- HTTP: the alliance-map server ----------------------------------------------------------
(run_am "$am_source" serve --addr "127.0.0.1:$port" --admin-addr "127.0.0.1:$((port + 1))" \
  --no-postcodes) >"$work/server.log" 2>&1 &
server_pid=$!
until curl -fsS "http://127.0.0.1:$port/api/v1/lookup?lon=-1.5&lat=53.8" >/dev/null 2>&1; do
  kill -0 "$server_pid" 2>/dev/null || { echo "server exited" >&2; cat "$work/server.log" >&2; exit 1; }
  sleep 0.05
done
# Let the background work after start (grids, map documents, crosswalks) finish: wait until the
# server uses no CPU for a second (at most 60 s), so it is not counted as the requests' CPU.
for _ in $(seq 60); do
  t0=$(am_ticks); sleep 1; t1=$(am_ticks)
  [ "$((t1 - t0))" -le 1 ] && break
done
for n in $sizes; do
  echo "== HTTP bulk, $n points in requests of $bulk_size, 2 connections"
  python3 "$here/bulk.py" "$work/points-$n.csv" "$work/bulk-$n" "http://127.0.0.1:$port/api/v1/lookup" "$bulk_size"
  bulk() { curl --no-progress-meter --parallel --parallel-max 2 -K "$work/bulk-$n/curl.cfg" 2>>"$work/curl.err"; }
  bulk   # warm-up
  for rep in $(seq "$reps"); do
    t0=$(am_ticks); start=$(now)
    bulk
    ms=$(ms_since "$start"); t1=$(am_ticks)
    record "bulk_ms:$n" "$ms"
    record "bulk_cpu_us_per_point:$n" "$(echo "($t1 - $t0) * 1000000 / $tck / $n" | bc -l)"
    echo "rep $rep: $ms ms"
  done
done

# --- single queries: pgbench (prepared) and wrk, 2 connections each, interleaved -------------
echo "== single queries, 2 clients, ${duration} s a run"
lookup_lua=$work/lookup.lua
. scripts/lib.sh
lookup_script "$lookup_lua" 2017
pgbench() { "$pgbin/pgbench" -h 127.0.0.1 -p "$pgport" -U postgres -n -M prepared -c 2 -j 2 --random-seed=2017 "$@" postgres; }
pgbench -T 2 -f "$here/single-expert.sql" >/dev/null 2>&1   # warm-up
wrk -t 2 -c 2 -d 2s -s "$lookup_lua" "http://127.0.0.1:$port" >/dev/null
for rep in $(seq "$reps"); do
  for variant in expert naive; do
    t0=$(pg_ticks); s0=$(pg_ticks sys)
    pgbench -T "$duration" -f "$here/single-$variant.sql" > "$work/pgbench.txt" 2>&1
    sleep 0.2   # the backends exit; the postmaster reaps them (their CPU moves to its cutime)
    t1=$(pg_ticks); s1=$(pg_ticks sys)
    tx=$(awk '/number of transactions actually processed/ {print $NF}' "$work/pgbench.txt" | cut -d/ -f1)
    tps=$(awk '/^tps/ {print $3}' "$work/pgbench.txt")
    record "pg_${variant}_qps" "$tps"
    record "pg_${variant}_cpu_us" "$(echo "($t1 - $t0) * 1000000 / $tck / $tx" | bc -l)"
    record "pg_${variant}_sys_us" "$(echo "($s1 - $s0) * 1000000 / $tck / $tx" | bc -l)"
    printf 'rep %s: PostGIS %s %.0f queries/s, %.1f µs CPU each\n' "$rep" "$variant" "$tps" "$(echo "($t1 - $t0) * 1000000 / $tck / $tx" | bc -l)"
  done
  t0=$(am_ticks); s0=$(am_ticks sys)
  wrk -t 2 -c 2 -d "${duration}s" -s "$lookup_lua" "http://127.0.0.1:$port" > "$work/wrk.txt"
  t1=$(am_ticks); s1=$(am_ticks sys)
  reqs=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
  [ -z "$non2xx" ] || echo "wrk: $non2xx non-2xx answers" >&2
  record get_rps "$rps"
  record get_cpu_us "$(echo "($t1 - $t0) * 1000000 / $tck / $reqs" | bc -l)"
  record get_sys_us "$(echo "($s1 - $s0) * 1000000 / $tck / $reqs" | bc -l)"
  printf 'rep %s: alliance-map %.0f GETs/s, %.1f µs CPU each\n' "$rep" "$rps" "$(echo "($t1 - $t0) * 1000000 / $tck / $reqs" | bc -l)"
done
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=

# --- start-up: process start -> first answer, from each data source ------------------------
echo "== start-up, $startup_runs runs each, data: $sources"
head -2 "$work/points-${sizes%% *}.csv" > "$work/one.csv"
for _ in $(seq "$startup_runs"); do
  for src in $sources; do
    # (CPU, user + system, from GNU time: less sensitive to a busy machine than wall time)
    start=$(now)
    /usr/bin/time -f '%U %S' -o "$work/time.txt" bash -c "$(declare -f run_am); work=$work bin=$bin data=$data; run_am $src lookup --lon -1.5492 --lat 53.7997" >/dev/null
    record "startup_${src}_lookup_ms" "$(ms_since "$start")"
    record "startup_${src}_lookup_cpu_ms" "$(awk '{print ($1 + $2) * 1000}' "$work/time.txt")"
    start=$(now)
    /usr/bin/time -f '%U %S' -o "$work/time.txt" bash -c "$(declare -f run_am); work=$work bin=$bin data=$data; run_am $src annotate $work/one.csv --lon-column lon --lat-column lat" >/dev/null 2>&1
    record "startup_${src}_annotate_ms" "$(ms_since "$start")"
    record "startup_${src}_annotate_cpu_ms" "$(awk '{print ($1 + $2) * 1000}' "$work/time.txt")"
    start=$(now)
    (run_am "$src" serve --addr "127.0.0.1:$port" --admin-addr "127.0.0.1:$((port + 1))" --no-postcodes) >/dev/null 2>&1 &
    server_pid=$!
    until curl -fsS "http://127.0.0.1:$port/api/v1/lookup?lon=-1.5492&lat=53.7997" >/dev/null 2>&1; do
      kill -0 "$server_pid" 2>/dev/null || { echo "server exited" >&2; exit 1; }
      sleep 0.002
    done
    record "startup_${src}_serve_ms" "$(ms_since "$start")"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
  done
done

# --- the answers, and the table --------------------------------------------------------------
echo "== answers"
agree=0
for n in $sizes; do
  extra=()
  [ -f "$work/naive-$n.csv" ] && extra+=("naive=$work/naive-$n.csv")
  python3 "$here/compare.py" "$work/expert-$n.csv" "${extra[@]}" "annotate=$work/annotate-$n.csv" "bulk=$work/bulk-$n" || agree=1
done
echo "== results (load at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
python3 "$here/report.py" "$results"
exit $agree

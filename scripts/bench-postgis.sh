#!/usr/bin/env bash
# Side by side with PostGIS: the same 19 + 44 polygons, the same 100,000 random points in
# England's bounding box, ST_Covers with GiST indexes. Times PostGIS as one SQL batch and as
# single queries through pgbench, times alliance-map on the same points (annotate by
# coordinates, and the HTTP API under wrk when available), and checks both give the same
# STP and alliance for every point (border ties broken the same way: lowest code).
# Installs PostgreSQL + PostGIS from Debian if missing. Runs a throwaway cluster on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${ALLIANCE_MAP_DATA:-../shared/data}
points=${POINTS:-100000}
port=${PGPORT_BENCH:-55432}
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq postgresql postgresql-15-postgis-3 >/dev/null
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d)
chmod 755 "$work"
cargo build --release --quiet

# A throwaway cluster owned by the postgres user.
install -d -o postgres "$work/pg"
su postgres -c "$pgbin/initdb -D $work/pg -A trust -U postgres" >/dev/null
su postgres -c "$pgbin/pg_ctl -D $work/pg -o '-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_parallel_workers_per_gather=0' -l $work/pg/server.log start" >/dev/null
trap 'su postgres -c "$pgbin/pg_ctl -D $work/pg stop -m fast" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
psql() { command psql -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql -c "CREATE EXTENSION postgis"

echo "== load the polygons"
python3 - "$data" > "$work/load.sql" <<'PY'
import json, sys
d = sys.argv[1]
print("CREATE TABLE alliances (code text PRIMARY KEY, geom geometry(MultiPolygon, 4326));")
print("CREATE TABLE stps (code text PRIMARY KEY, geom geometry(MultiPolygon, 4326));")
print("CREATE TABLE stp_alliances (stp text, alliance text);")
for table, f, prop in [("alliances", "cancer-alliances-2017.geojson", "calncv17cd"), ("stps", "stps-2017.geojson", "stp17cd")]:
    for ft in json.load(open(f"{d}/boundaries/{f}"))["features"]:
        g = json.dumps(ft["geometry"]).replace("'", "''")
        print(f"INSERT INTO {table} VALUES ('{ft['properties'][prop]}', ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON('{g}'), 4326)));")
import csv
pairs = {(r["STP17CD"], r["CALNCV17CD"]) for r in csv.DictReader(open(f"{d}/lookups/ccg17-stp17-calncv17-apr2017.csv"))}
for s, a in sorted(pairs):
    print(f"INSERT INTO stp_alliances VALUES ('{s}', '{a}');")
print("CREATE INDEX ON alliances USING gist (geom); CREATE INDEX ON stps USING gist (geom); ANALYZE;")
PY
psql -f "$work/load.sql"

echo "== $points random points"
python3 - "$points" > "$work/points.csv" <<'PY'
import random, sys
random.seed(2017)
print("id,lon,lat")
for i in range(int(sys.argv[1])):
    print(f"{i},{-6.42 + random.random() * 8.19:.6f},{49.86 + random.random() * 5.96:.6f}")
PY
psql -c "CREATE TABLE pts (id int PRIMARY KEY, lon float8, lat float8, geom geometry(Point, 4326))"
psql -c "\\copy pts (id, lon, lat) FROM '$work/points.csv' CSV HEADER"
psql -c "UPDATE pts SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326); ANALYZE pts"

# The same rules as alliance-map's 'contains' answers: the lowest-coded covering STP, then
# the lowest-coded covering alliance among that STP's alliances.
query="SELECT p.id, s.code, (SELECT a.code FROM alliances a JOIN stp_alliances sa ON sa.alliance = a.code AND sa.stp = s.code
        WHERE ST_Covers(a.geom, p.geom) ORDER BY a.code LIMIT 1)
      FROM pts p LEFT JOIN LATERAL (SELECT code FROM stps WHERE ST_Covers(stps.geom, p.geom) ORDER BY code LIMIT 1) s ON true
      ORDER BY p.id"
echo "== PostGIS: one SQL batch (3 runs)"
for run in 1 2 3; do
  start=$(date +%s%N)
  psql -c "$query" > "$work/postgis.txt"
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  echo "run $run: $ms ms = $(( points * 1000 / (ms > 0 ? ms : 1) )) points/s"
done

echo "== alliance-map: annotate the same points by coordinates (3 runs; includes start-up)"
for run in 1 2 3; do
  start=$(date +%s%N)
  RUST_LOG=warn ./target/release/alliance-map annotate "$work/points.csv" --lon-column lon --lat-column lat \
    -o "$work/ours.csv" --data "$data" 2>/dev/null
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  echo "run $run: $ms ms = $(( points * 1000 / (ms > 0 ? ms : 1) )) points/s"
done

echo "== same answers?"
# PostGIS answers 'contains' only; compare on points an STP covers (alliance-map's nearest
# fallback for coastal points is not an ST_Covers answer).
python3 - "$work/postgis.txt" "$work/ours.csv" <<'PY'
import csv, sys
pg = {}
for line in open(sys.argv[1]):
    i, stp, alliance = line.rstrip("\n").split("|")
    pg[int(i)] = (stp, alliance)
covered = same = 0
diff = []
for row in csv.DictReader(open(sys.argv[2])):
    i = int(row["id"])
    if pg[i][0]:
        covered += 1
        ours = (row["stp_code"], row["alliance_code"])
        if ours == pg[i]:
            same += 1
        elif len(diff) < 5:
            diff.append((i, row["lon"], row["lat"], ours, pg[i]))
print(f"{covered} points covered by an STP in PostGIS; alliance-map agrees on {same}")
for d in diff:
    print("  differs:", d)
sys.exit(0 if same == covered else 1)
PY

echo "== PostGIS: single queries through pgbench (4 clients, 15 s)"
cat > "$work/one.sql" <<'SQL'
\set lon random(-642000, 177000)
\set lat random(4986000, 5582000)
SELECT s.code, (SELECT a.code FROM alliances a JOIN stp_alliances sa ON sa.alliance = a.code AND sa.stp = s.code
  WHERE ST_Covers(a.geom, ST_SetSRID(ST_MakePoint(:lon / 100000.0, :lat / 100000.0), 4326)) ORDER BY a.code LIMIT 1)
FROM (SELECT code FROM stps WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon / 100000.0, :lat / 100000.0), 4326)) ORDER BY code LIMIT 1) s;
SQL
"$pgbin/pgbench" -h 127.0.0.1 -p "$port" -U postgres -n -c 4 -j 2 -T 15 -f "$work/one.sql" postgres 2>/dev/null | grep -E "^(tps|latency average)"

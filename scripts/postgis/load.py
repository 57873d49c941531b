"""Writes SQL loading the 2017 alliance and STP layers at full detail (every vertex of the
shipped GeoJSON) into `alliances` and `stps`, then the expert's subdivided copies.
Usage: python3 load.py DATA_DIR > load.sql"""
import json
import sys

d = sys.argv[1]
print("SET client_min_messages = warning;")
for table, f, prop in [("alliances", "cancer-alliances-2017.geojson", "calncv17cd"),
                       ("stps", "stps-2017.geojson", "stp17cd")]:
    print(f"CREATE TABLE {table} (code text PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL);")
    for ft in json.load(open(f"{d}/boundaries/{f}"))["features"]:
        g = json.dumps(ft["geometry"], separators=(",", ":"))
        print(f"INSERT INTO {table} VALUES ('{ft['properties'][prop]}', "
              f"ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON('{g}'), 4326)));")
    # naive: the whole polygons under GiST
    print(f"CREATE INDEX ON {table} USING gist (geom);")
    # expert: pieces of at most 255 vertices, their own table and GiST index
    print(f"CREATE TABLE {table}_sub AS SELECT code, ST_Subdivide(geom, 255) AS geom FROM {table};")
    print(f"CREATE INDEX ON {table}_sub USING gist (geom);")
print("ANALYZE;")

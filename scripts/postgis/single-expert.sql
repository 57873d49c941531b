\set lon -6.42 + random(0, 819000) / 100000.0
\set lat 49.86 + random(0, 596000) / 100000.0
SELECT (SELECT min(code) FROM alliances_sub WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))) AS alliance,
       (SELECT min(code) FROM stps_sub WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))) AS stp;

\set lon -6.42 + random(0, 819000) / 100000.0
\set lat 49.86 + random(0, 596000) / 100000.0
SELECT (SELECT code FROM alliances WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY code LIMIT 1) AS alliance,
       (SELECT code FROM stps WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY code LIMIT 1) AS stp;

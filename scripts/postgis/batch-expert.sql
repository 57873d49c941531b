-- The expert batch: polygon-driven joins (each subdivided piece probes the GiST index of the
-- points table; OFFSET 0 keeps the planner from turning it round), the lowest covering code per
-- point (alliance-map's border rule), every point in the output (empty where nothing covers it).
-- psql variable :pts names the points table.
COPY (
  WITH a AS (SELECT p.id, min(s.code) AS code FROM alliances_sub s
               CROSS JOIN LATERAL (SELECT id FROM :pts p WHERE ST_Covers(s.geom, p.geom) OFFSET 0) p GROUP BY p.id),
       t AS (SELECT p.id, min(s.code) AS code FROM stps_sub s
               CROSS JOIN LATERAL (SELECT id FROM :pts p WHERE ST_Covers(s.geom, p.geom) OFFSET 0) p GROUP BY p.id)
  SELECT p.id, a.code, t.code FROM :pts p LEFT JOIN a USING (id) LEFT JOIN t USING (id) ORDER BY p.id
) TO STDOUT WITH (FORMAT csv);

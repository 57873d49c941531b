-- The naive batch: whole polygons under GiST, a point-driven LATERAL join per layer.
COPY (
  SELECT p.id, a.code, t.code FROM :pts p
  LEFT JOIN LATERAL (SELECT code FROM alliances WHERE ST_Covers(alliances.geom, p.geom) ORDER BY code LIMIT 1) a ON true
  LEFT JOIN LATERAL (SELECT code FROM stps WHERE ST_Covers(stps.geom, p.geom) ORDER BY code LIMIT 1) t ON true
  ORDER BY p.id
) TO STDOUT WITH (FORMAT csv);

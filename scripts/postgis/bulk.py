"""Splits points.csv into bulk lookup bodies of at most SIZE points (ids echoed) and writes a
curl config that POSTs them all (one request per chunk, the answer of chunk i to out/i.json).
Usage: python3 bulk.py points.csv DIR URL SIZE   -> DIR/body/*.json, DIR/curl.cfg"""
import csv
import json
import os
import sys

src, out, url, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(f"{out}/body", exist_ok=True)
os.makedirs(f"{out}/out", exist_ok=True)
rows = list(csv.reader(open(src)))[1:]
with open(f"{out}/curl.cfg", "w") as cfg:
    for n, start in enumerate(range(0, len(rows), size)):
        chunk = rows[start:start + size]
        # Numbers written as in the CSV (6 dp), so both sides read the same coordinates.
        body = '{"points":[' + ",".join(f'{{"lon":{lon},"lat":{lat},"id":{i}}}' for i, lon, lat in chunk) + "]}"
        name = f"{n:05d}"
        with open(f"{out}/body/{name}.json", "w") as f:
            f.write(body)
        if n:
            cfg.write("next\n")
        cfg.write(f'url = "{url}"\nrequest = "POST"\nheader = "Content-Type: application/json"\n'
                  f'data-binary = "@{out}/body/{name}.json"\noutput = "{out}/out/{name}.json"\nfail\n')

"""Shared fixtures: the HTTP API to compare answers with (ALLIANCE_MAP_URL, set by
tests/python.rs to a real server on loopback), and samples of real points and postcodes."""

from __future__ import annotations

import json
import os
import random
import urllib.error
import urllib.parse
import urllib.request

import pytest

# Every period's start and a few dates inside them, the default (None) and 'latest'.
DATES = [None, "2017-04-01", "2018-06-30", "2019-07-01", "2020-01-15", "2021-04-01", "2022-07-01",
         "2023-04-01", "2023-07-01", "2024-03-31", "latest"]


class Api:
    """The HTTP API at ``base``: JSON in, ``(status, JSON)`` out."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def get(self, path: str, **params):
        path = urllib.parse.quote(path)
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return self._send(urllib.request.Request(f"{self.base}{path}?{query}" if query else self.base + path))

    def post(self, path: str, body, **params):
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        request = urllib.request.Request(
            f"{self.base}{path}?{query}" if query else self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        return self._send(request)

    @staticmethod
    def _send(request):
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


@pytest.fixture(scope="session")
def api() -> Api:
    base = os.environ.get("ALLIANCE_MAP_URL")
    if not base:
        pytest.skip("ALLIANCE_MAP_URL is not set: run through `cargo test --test python` (tests/python.rs)")
    return Api(base)


@pytest.fixture(scope="session")
def points():
    """1,500 points: uniform over England's bounding box and beyond (land, coast, sea, Wales,
    Scotland), plus points just off the coast of real places, where `nearest` answers."""
    rng = random.Random(14)
    pts = [(rng.uniform(-6.5, 2.0), rng.uniform(49.8, 56.0)) for _ in range(1200)]
    # Off Blackpool, Skegness, Whitby, Brighton, Plymouth, Great Yarmouth: within 2 km of land.
    coast = [(-3.075, 53.817), (0.360, 53.143), (-0.590, 54.495), (-0.138, 50.815), (-4.150, 50.350),
             (1.760, 52.605)]
    for lon, lat in coast:
        for _ in range(50):
            pts.append((lon + rng.uniform(-0.02, 0.02), lat + rng.uniform(-0.02, 0.02)))
    return pts


@pytest.fixture(scope="session")
def postcodes(api):
    """Real postcodes held by the service: those nearest 60 random points in England (the
    API's nearby search), with spellings varied as analysts' data has them, plus Welsh,
    Scottish, Northern Irish and Crown dependency postcodes, and malformed text."""
    rng = random.Random(41)
    found = []
    while len(found) < 600:
        lon, lat = rng.uniform(-2.8, 0.5), rng.uniform(50.8, 54.5)
        status, body = api.get("/api/v1/postcodes", lon=lon, lat=lat, radius=2000, limit=20)
        assert status == 200, body
        found += [r["postcode"] for r in body["results"]]
    varied = []
    for i, pc in enumerate(found):
        varied.append([pc, pc.lower(), pc.replace(" ", ""), f"  {pc} "][i % 4])
    others = ["CF10 1EP", "EH1 1YZ", "BT1 1AA", "JE2 3ZZ", "IM1 1AA", "GY1 1AA", "LS1 4AP", "S40 1LL",
              "LS1 1AZ", "ZZ9 9ZZ", "XYZ", "", "12345", "LS1", "SW1A 1AA", "M1 1AE", "B1 1BB"]
    return varied + others

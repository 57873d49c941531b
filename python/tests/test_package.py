"""The package against the HTTP API: the same answers for points, postcodes, timelines and
editions at every date, the same date errors, and the documented answers for bad rows."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time

import numpy as np
import pyarrow as pa
import pytest

import alliance_map
from conftest import DATES

LAYERS = ("alliance", "footprint", "sub_area")


def rows(table: pa.Table) -> list[dict]:
    assert table.column_names == list(alliance_map.COLUMNS)
    return table.to_pylist()


def expected_point(answer: dict) -> dict:
    """A row as the API's lookup answer says it."""
    row = {}
    for layer in LAYERS:
        area = answer[layer]
        row[f"{layer}_code"] = area["code"] if area else None
        row[f"{layer}_name"] = area["name"] if area else None
    row["match"] = answer["match"]
    row["distance_m"] = answer["distance_m"]
    return row


def expected_postcode(item: dict) -> dict:
    """A row as the API's bulk postcode item says it (an item error: 400 malformed, 404
    not found)."""
    if item["result"] is None:
        why = {400: "malformed", 404: "not_found"}[item["error"]["status"]]
        return {**{f"{l}_{f}": None for l in LAYERS for f in ("code", "name")}, "match": why, "distance_m": None}
    row = expected_point({**item["result"], "match": None, "distance_m": 0.0})
    row["match"] = "contains" if item["result"]["footprint"] else "outside"
    return row


def chunks(items, n=1000):
    for i in range(0, len(items), n):
        yield items[i:i + n]


# ---- the same answers as the HTTP API ----------------------------------------------------------

@pytest.mark.parametrize("date", DATES)
def test_points_answer_as_the_api(api, points, date):
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    got = rows(alliance_map.lookup_points(lon, lat, date=date))
    want = []
    for part in chunks(points):
        status, body = api.post("/api/v1/lookup", {"points": [{"lon": x, "lat": y} for x, y in part]}, date=date)
        assert status == 200, body
        want += [expected_point(r) for r in body["results"]]
    assert len(got) == len(want) == len(points)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"point {points[i]} at {date}"
    kinds = {r["match"] for r in got}
    assert {"contains", "nearest", "outside"} <= kinds, kinds


@pytest.mark.parametrize("date", [None, "2019-07-01", "2021-04-01", "2023-07-01", "latest"])
def test_postcodes_answer_as_the_api(api, postcodes, date):
    got = rows(alliance_map.lookup_postcodes(postcodes, date=date))
    want = []
    for part in chunks(postcodes):
        status, body = api.post("/api/v1/postcodes", {"postcodes": part}, date=date)
        assert status == 200, body
        want += [expected_postcode(item) for item in body["results"]]
    assert len(got) == len(want) == len(postcodes)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"postcode {postcodes[i]!r} at {date}"
    kinds = [r["match"] for r in got]
    assert kinds.count("contains") >= 600 and {"malformed", "not_found"} <= set(kinds)


def test_leeds_is_west_yorkshire(api):
    # LS1 4AP (Leeds city centre) and a point there, as the API answers them at two dates.
    for date in (None, "2023-07-01"):
        status, body = api.get("/api/v1/postcodes/LS1 4AP", date=date)
        assert status == 200, body
        row = rows(alliance_map.lookup_postcodes(["ls1 4ap"], date=date))[0]
        assert row["alliance_code"] == body["alliance"]["code"]
        assert "West Yorkshire" in row["alliance_name"]
        assert row["footprint_code"] == body["footprint"]["code"]
        point = rows(alliance_map.lookup_points([body["lon"]], [body["lat"]], date=date))[0]
        assert point["alliance_code"] == row["alliance_code"] and point["match"] == "contains"


@pytest.mark.parametrize("where", [(-1.5492, 53.7997), (-3.0, 53.82), (-3.18, 51.48), (-2.5, 56.5)])
def test_point_timeline_is_the_apis(api, where):
    status, body = api.get("/api/v1/timeline", lon=where[0], lat=where[1])
    assert status == 200
    assert alliance_map.timeline(lon=where[0], lat=where[1]) == body
    assert alliance_map.timeline(*where) == body


@pytest.mark.parametrize("postcode", ["LS1 4AP", "s40 1ll", "CF10 1EP"])
def test_postcode_timeline_is_the_apis(api, postcode):
    status, body = api.get(f"/api/v1/postcodes/{postcode}/timeline")
    if status == 200:
        assert alliance_map.timeline(postcode=postcode) == body
    else:
        with pytest.raises(KeyError):
            alliance_map.timeline(postcode=postcode)


def test_postcode_timeline_errors_are_the_apis(api):
    status, body = api.get("/api/v1/postcodes/XYZ/timeline")
    assert status == 400
    with pytest.raises(ValueError) as e:
        alliance_map.timeline(postcode="XYZ")
    assert str(e.value) == body["detail"]
    status, body = api.get("/api/v1/postcodes/ZZ9 9ZZ/timeline")
    assert status == 404
    with pytest.raises(KeyError) as e:
        alliance_map.timeline(postcode="ZZ9 9ZZ")
    assert e.value.args[0] == body["detail"]


def test_editions_are_the_apis(api):
    status, body = api.get("/api/v1/editions")
    assert status == 200
    got = alliance_map.editions()
    assert got == body
    assert len(got["editions"]) == 13 and got["default_date"] == "2017-04-01"


@pytest.mark.parametrize("bad", ["2019-7-1", "2019-02-30", "20190701", "Latest", "", "2016-01-01",
                                 "2030-01-01", "2019-07-01T00:00"])
def test_bad_dates_are_value_errors_with_the_apis_message(api, bad):
    status, body = api.get("/api/v1/lookup", lon=-1.5, lat=53.8, date=bad)
    assert status == 400, body
    for call in (lambda: alliance_map.lookup_points([-1.5], [53.8], date=bad),
                 lambda: alliance_map.lookup_postcodes(["LS1 4AP"], date=bad)):
        with pytest.raises(ValueError) as e:
            call()
        message = str(e.value)
        assert message.startswith("date"), message
        # The API's detail says the same after naming the parameter.
        assert message.split("date", 1)[1].lstrip(": ") in body["detail"], (message, body["detail"])


# ---- arguments --------------------------------------------------------------------------------

def test_dates_as_date_objects_and_latest():
    lon, lat = [-1.5492, -0.1276, -2.2426], [53.7997, 51.5072, 53.4808]
    as_text = alliance_map.lookup_points(lon, lat, date="2022-07-01")
    assert alliance_map.lookup_points(lon, lat, date=dt.date(2022, 7, 1)).equals(as_text)
    latest = alliance_map.lookup_points(lon, lat, date="latest")
    assert latest.equals(alliance_map.lookup_points(lon, lat, date="2023-07-01"))
    with pytest.raises(ValueError, match="datetime"):
        alliance_map.lookup_points(lon, lat, date=dt.datetime(2022, 7, 1))
    with pytest.raises(TypeError, match="date must be"):
        alliance_map.lookup_points(lon, lat, date=20220701)


def test_every_input_kind_gives_the_same_table(points):
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    want = alliance_map.lookup_points(lon, lat)
    assert want.num_rows == len(points)
    assert alliance_map.lookup_points(list(lon), list(lat)).equals(want)
    assert alliance_map.lookup_points(pa.array(lon), pa.array(lat)).equals(want)
    chunked = (pa.chunked_array([lon[:100], lon[100:]]), pa.chunked_array([lat[:7], lat[7:]]))
    assert alliance_map.lookup_points(*chunked).equals(want)
    assert alliance_map.lookup_points(lon.astype(np.float32).astype(np.float64), lat).num_rows == len(points)
    # Strided views and integers are read (copied) too.
    wide = np.stack([lon, lat], axis=1)
    assert alliance_map.lookup_points(wide[:, 0], wide[:, 1]).equals(want)
    assert alliance_map.lookup_points(np.array([-1, 0]), np.array([53, 52])).num_rows == 2


def test_postcode_input_kinds():
    pcs = ["LS1 4AP", "S40 1LL", None, "nope"]
    want = alliance_map.lookup_postcodes(pcs)
    assert alliance_map.lookup_postcodes(np.array(pcs, dtype=object)).equals(want)
    assert alliance_map.lookup_postcodes(pa.array(pcs, pa.large_string())).equals(want)
    assert alliance_map.lookup_postcodes(pa.array(pcs).dictionary_encode()).equals(want)
    with pytest.raises(TypeError):
        alliance_map.lookup_postcodes(pa.array([1, 2]))
    with pytest.raises(TypeError, match="sequence"):
        alliance_map.lookup_postcodes("LS1 4AP")


def test_mismatched_lengths_and_non_numbers():
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        alliance_map.lookup_points([1.0, 2.0], [50.0, 51.0, 52.0])
    with pytest.raises(TypeError, match="lon"):
        alliance_map.lookup_points(["a", "b"], [50.0, 51.0])
    with pytest.raises(TypeError, match="lat"):
        alliance_map.lookup_points([1.0], 52.0)


def test_bad_coordinates_are_malformed_rows_not_errors():
    nan, inf = math.nan, math.inf
    lon = [-1.5492, nan, -1.5, inf, -181.0, -1.5, 180.0, None, -1.5492]
    lat = [53.7997, 53.8, nan, 53.8, 53.8, 90.5, -90.0, 53.8, None]
    got = rows(alliance_map.lookup_points(lon, lat))
    assert [r["match"] for r in got] == ["contains", "malformed", "malformed", "malformed", "malformed",
                                         "malformed", "outside", "missing", "missing"]
    for r in got[1:6] + got[7:]:
        assert r["distance_m"] is None and r["alliance_code"] is None and r["sub_area_name"] is None
    assert got[6]["distance_m"] == 0.0 and got[6]["footprint_code"] is None


def test_bad_postcodes_are_rows_not_errors():
    got = rows(alliance_map.lookup_postcodes(["LS1 4AP", "not a postcode", "ZZ9 9ZZ", None, ""]))
    assert [r["match"] for r in got] == ["contains", "malformed", "not_found", "missing", "malformed"]
    assert got[0]["distance_m"] == 0.0 and all(r["distance_m"] is None for r in got[1:])


def test_timeline_arguments():
    with pytest.raises(ValueError, match="lon must be between -180 and 180, got 200"):
        alliance_map.timeline(lon=200, lat=53)
    with pytest.raises(ValueError, match="lat must be finite"):
        alliance_map.timeline(lon=-1.5, lat=math.nan)
    with pytest.raises(TypeError):
        alliance_map.timeline(lon=-1.5, lat=53.8, postcode="LS1 4AP")
    with pytest.raises(TypeError):
        alliance_map.timeline()
    with pytest.raises(TypeError):
        alliance_map.timeline(lon="west", lat=53)


def test_empty_input_and_schema():
    table = alliance_map.lookup_points([], [])
    assert table.num_rows == 0
    schema = alliance_map.schema()
    assert schema.names == list(alliance_map.COLUMNS)
    assert pa.types.is_dictionary(schema.field("alliance_code").type)
    assert schema.field("distance_m").type == pa.float64()
    assert table.column("match").type.value_type == pa.string()


def test_a_period_without_sub_areas_has_null_sub_area_columns():
    # No CCG edition is held from 2018-04-01 to 2021-03-31 (see editions()).
    got = rows(alliance_map.lookup_points([-1.5492], [53.7997], date="2019-07-01"))[0]
    assert got["alliance_code"] and got["footprint_code"]
    assert got["sub_area_code"] is None and got["sub_area_name"] is None


# ---- the GIL ----------------------------------------------------------------------------------

def test_lookups_release_the_gil():
    rng = np.random.default_rng(7)
    n = 4_000_000
    lon, lat = rng.uniform(-5.5, 1.7, n), rng.uniform(50.0, 55.7, n)
    alliance_map.lookup_points(lon[:5000], lat[:5000])  # data loaded and grid built first
    done = threading.Event()
    ticks = 0

    def work():
        alliance_map.lookup_points(lon, lat)
        done.set()

    thread = threading.Thread(target=work)
    started = time.perf_counter()
    thread.start()
    while not done.is_set():
        ticks += 1
    thread.join()
    elapsed = time.perf_counter() - started
    # Had the lookup kept the GIL, this thread would have run only at the lookup's start and
    # end; released, it spins the whole time (millions of ticks a second).
    assert ticks > 10_000, f"{ticks} ticks in {elapsed:.2f} s"

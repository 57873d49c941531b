"""alliance_map.spark.annotate in PySpark's local mode (local[2]): a million rows annotated on
the executors, the same answers as lookup_points on a sample, the throughput printed; postcode
columns; argument errors raised on the driver."""

from __future__ import annotations

import os
import sys
import time

import pyarrow as pa
import pytest

import alliance_map

pyspark = pytest.importorskip("pyspark")
from pyspark.sql import SparkSession, functions as F  # noqa: E402

from alliance_map.spark import annotate  # noqa: E402

ROWS = int(os.environ.get("ALLIANCE_MAP_SPARK_ROWS", "1000000"))


@pytest.fixture(scope="module")
def spark():
    # The executors' Python workers are this interpreter, with alliance_map installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("alliance-map-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def points(spark, n):
    """n points over England's bounding box and beyond (so every kind of match occurs), four
    partitions, with an id column kept through the annotation."""
    return (
        spark.range(n, numPartitions=4)
        .withColumn("lon", F.rand(seed=1) * 8.5 - 6.5)
        .withColumn("lat", F.rand(seed=2) * 6.2 + 49.8)
    )


def test_a_million_points_on_the_executors(spark):
    df = points(spark, ROWS).cache()
    assert df.count() == ROWS
    annotated = annotate(df, lon_col="lon", lat_col="lat", date="2023-07-01")
    assert annotated.columns == ["id", "lon", "lat", *alliance_map.COLUMNS]

    # Throughput: the annotation run to the end on both executor cores (best of 2 runs; the
    # first also starts the Python workers, which load the data and build the grid).
    times = []
    for _ in range(2):
        started = time.perf_counter()
        annotated.write.format("noop").mode("overwrite").save()
        times.append(time.perf_counter() - started)
    print(f"\nspark: annotate {ROWS:,} points, local[2]: runs {', '.join(f'{t:.2f}' for t in times)} s; "
          f"best {ROWS / min(times):,.0f} rows/s")

    annotated = annotated.cache()  # one more pass, then the checks below read the cache
    counts = {r["match"]: r["count"] for r in annotated.groupBy("match").count().collect()}
    assert sum(counts.values()) == ROWS
    assert {"contains", "nearest", "outside"} <= set(counts), counts

    sample = annotated.sample(fraction=10_000 / ROWS, seed=3).orderBy("id").toArrow()
    assert sample.num_rows > 5_000
    want = alliance_map.lookup_points(sample.column("lon"), sample.column("lat"), date="2023-07-01")
    for c in alliance_map.COLUMNS:
        got = sample.column(c).to_pylist()
        expected = want.column(c).to_pylist()
        assert got == expected, c


def test_postcode_columns(spark):
    pcs = ["LS1 4AP", "s40 1ll", "CF10 1EP", "EH1 1YZ", "ZZ9 9ZZ", "not one", None, "M1 1AE"] * 500
    df = spark.createDataFrame([(i, p) for i, p in enumerate(pcs)], "i long, pc string").repartition(3)
    got = annotate(df, postcode_col="pc", date="latest").orderBy("i").toArrow()
    want = alliance_map.lookup_postcodes(pcs, date="latest")
    assert got.num_rows == len(pcs)
    for c in alliance_map.COLUMNS:
        assert got.column(c).to_pylist() == want.column(c).to_pylist(), c


def test_other_numeric_columns_and_the_default_date(spark):
    df = spark.createDataFrame([(-1.5492, 53.7997), (-3.18, 51.48)], "lon float, lat double")
    got = annotate(df, "lon", "lat").toArrow()
    want = alliance_map.lookup_points(pa.array([-1.5492, -3.18], pa.float32()), [53.7997, 51.48])
    assert got.column("alliance_code").to_pylist() == want.column("alliance_code").to_pylist()
    assert got.column("match").to_pylist() == ["contains", "outside"]


def test_argument_errors_on_the_driver(spark):
    df = spark.createDataFrame([(1.0, 52.0, "LS1 4AP")], "x double, y double, pc string")
    with pytest.raises(ValueError, match="no column 'lon'"):
        annotate(df, lon_col="lon", lat_col="y")
    with pytest.raises(TypeError, match="must be numeric"):
        annotate(df, lon_col="pc", lat_col="y")
    with pytest.raises(TypeError, match="must be a string"):
        annotate(df, postcode_col="x")
    with pytest.raises(TypeError):
        annotate(df, lon_col="x", lat_col="y", postcode_col="pc")
    with pytest.raises(TypeError):
        annotate(df, lon_col="x")
    with pytest.raises(ValueError, match="date"):
        annotate(df, lon_col="x", lat_col="y", date="2030-01-01")
    clash = df.withColumnRenamed("pc", "match")
    with pytest.raises(ValueError, match="already has"):
        annotate(clash, lon_col="x", lat_col="y")

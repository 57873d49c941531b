"""Times alliance_map's bulk lookups: the first call (loading the embedded data), the first
bulk call of a date (building its grid), then lookup_points and lookup_postcodes on one core,
each the median of RUNS runs (default 7), as wall time and as the process's CPU time.

Points: the 2.69 million real postcode centroids of the ONS NSPL (May 2025) in
../shared/data/postcodes (where analysts' points are: towns and cities, where the sub-area
borders are densest), in random order and in the file's (postcode) order; and N points
(default 5 million) uniform over England's bounding box (most at sea or in Wales and
Scotland). Postcodes: the 1.7 million of OS Code-Point Open, as pyarrow strings.

    target/python-venv/bin/python python/bench/bench_lookup.py [N]
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import threading
import time
import zipfile

import numpy as np
import pyarrow as pa

started = time.perf_counter()
import alliance_map  # noqa: E402

RUNS = int(os.environ.get("RUNS", "7"))
DATA = os.environ.get("SHARED_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/data"))


def timed(f, runs=RUNS):
    """(median wall s, median CPU s, last result)."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        out = f()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), out


def report(what, n, unit, f, runs=RUNS):
    wall, cpu, table = timed(f, runs)
    kinds = dict(zip(*[table.column("match").combine_chunks().value_counts().field(i).to_pylist() for i in (0, 1)]))
    print(f"{what}: {n:,} {unit}, median {wall:.3f} s = {n / wall / 1e6:.2f} M {unit}/s "
          f"(CPU {n / cpu / 1e6:.2f} M/s), {runs} runs; match {kinds}")


def nspl_points():
    path = os.path.join(DATA, "postcodes/nspl-2025-05-latlon.csv.gz")
    if not os.path.exists(path):
        return None
    import pyarrow.csv as pcsv
    import pyarrow.compute as pc

    t = pcsv.read_csv(path)
    t = t.filter(pc.is_valid(t["lat"]))
    return (t["long"].combine_chunks().to_numpy(zero_copy_only=False),
            t["lat"].combine_chunks().to_numpy(zero_copy_only=False))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
    t = time.perf_counter()
    alliance_map.lookup_points([-1.5], [53.8])
    print(f"import {t - started:.2f} s; first call (loads the embedded data) {time.perf_counter() - t:.2f} s")

    rng = np.random.default_rng(14)
    warm = (rng.uniform(-5.5, 1.7, 5000), rng.uniform(50.0, 55.7, 5000))
    for date in (None, "2023-07-01"):
        t = time.perf_counter()
        alliance_map.lookup_points(*warm, date=date)
        print(f"date={date}: first bulk call (builds the period's grid) {time.perf_counter() - t:.2f} s")

    points = nspl_points()
    if points is None:
        print("no NSPL file: real-point timings skipped")
    else:
        lon, lat = points
        order = rng.permutation(len(lon))
        shuffled = (lon[order], lat[order])
        for date in (None, "2023-07-01"):
            report(f"lookup_points, NSPL postcode centroids, random order, date={date}", len(lon), "points",
                   lambda: alliance_map.lookup_points(*shuffled, date=date))
        report("lookup_points, NSPL postcode centroids, file order, date=None", len(lon), "points",
               lambda: alliance_map.lookup_points(lon, lat))

        # Two threads at once: the GIL is released, so they run in parallel.
        half = len(lon) // 2

        def two_threads():
            threads = [threading.Thread(target=alliance_map.lookup_points,
                                        args=(shuffled[0][i * half:(i + 1) * half], shuffled[1][i * half:(i + 1) * half]))
                       for i in range(2)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            return alliance_map.lookup_points([], [])

        wall, _, _ = timed(two_threads)
        print(f"lookup_points, NSPL random order in 2 threads: median {wall:.3f} s = "
              f"{2 * half / wall / 1e6:.2f} M points/s ({os.cpu_count()} cores here)")

    lon, lat = rng.uniform(-6.5, 2.0, n), rng.uniform(49.8, 56.0, n)
    report("lookup_points, uniform over England's bounding box, date=None", n, "points",
           lambda: alliance_map.lookup_points(lon, lat))

    zip_path = os.path.join(DATA, "postcodes/codepo_gb.zip")
    if not os.path.exists(zip_path):
        print(f"no {zip_path}: postcode timing skipped")
        return
    postcodes = []
    with zipfile.ZipFile(zip_path) as z:
        for name in sorted(z.namelist()):
            if name.startswith("Data/CSV/") and name.endswith(".csv"):
                for line in io.TextIOWrapper(z.open(name), encoding="ascii"):
                    postcodes.append(line.split(",", 1)[0].strip('"'))
    arr = pa.array(postcodes)
    report("lookup_postcodes, Code-Point Open postcodes", len(postcodes), "postcodes",
           lambda: alliance_map.lookup_postcodes(arr))


if __name__ == "__main__":
    main()

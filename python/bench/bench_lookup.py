"""Times alliance_map's bulk lookups on one core: the first call (loading the embedded data),
lookup_points on N random points (default 10 million, uniform over England's bounding box, so
sea, Wales and Scotland and the borders are in it), and lookup_postcodes on real postcodes
from Code-Point Open (if ../shared/data/postcodes/codepo_gb.zip is there). Each timing is the
median of RUNS runs (default 7); the build is the installed one (scripts/python-env.sh).

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

started = time.perf_counter()
import alliance_map  # noqa: E402

RUNS = int(os.environ.get("RUNS", "7"))


def timed(f, runs=RUNS):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times), out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    t = time.perf_counter()
    alliance_map.lookup_points([-1.5], [53.8])
    print(f"import {t - started:.2f} s; first call (loads the embedded data) {time.perf_counter() - t:.2f} s")

    rng = np.random.default_rng(14)
    lon = rng.uniform(-6.5, 2.0, n)
    lat = rng.uniform(49.8, 56.0, n)
    for date in (None, "2023-07-01"):
        t = time.perf_counter()
        alliance_map.lookup_points(lon[:10_000], lat[:10_000], date=date)
        print(f"date={date}: first bulk call (builds the period's grid) {time.perf_counter() - t:.2f} s")
        med, lo, hi, table = timed(lambda: alliance_map.lookup_points(lon, lat, date=date))
        kinds = table.column("match").combine_chunks().value_counts().to_pylist()
        print(f"lookup_points, {n:,} points, date={date}: median {med:.3f} s = {n / med / 1e6:.1f} M points/s "
              f"(min {lo:.3f}, max {hi:.3f}, {RUNS} runs); {kinds}")

    # Two threads at once: the GIL is released, so they run in parallel.
    half = n // 2

    def two_threads():
        threads = [threading.Thread(target=alliance_map.lookup_points, args=(lon[i * half:(i + 1) * half], lat[i * half:(i + 1) * half])) for i in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

    med, lo, hi, _ = timed(two_threads)
    print(f"lookup_points, {n:,} points in 2 threads: median {med:.3f} s = {n / med / 1e6:.1f} M points/s "
          f"({os.cpu_count()} cores on this machine)")

    zip_path = os.environ.get("CODEPO_ZIP", os.path.join(os.path.dirname(__file__), "../../../shared/data/postcodes/codepo_gb.zip"))
    if not os.path.exists(zip_path):
        print(f"no {zip_path}: postcode timing skipped")
        return
    postcodes = []
    with zipfile.ZipFile(zip_path) as z:
        for name in sorted(z.namelist()):
            if name.startswith("Data/CSV/") and name.endswith(".csv"):
                for line in io.TextIOWrapper(z.open(name), encoding="ascii"):
                    postcodes.append(line.split(",", 1)[0].strip('"'))
    m = len(postcodes)
    arr = __import__("pyarrow").array(postcodes)
    med, lo, hi, table = timed(lambda: alliance_map.lookup_postcodes(arr), runs=max(3, RUNS // 2))
    kinds = table.column("match").combine_chunks().value_counts().to_pylist()
    print(f"lookup_postcodes, {m:,} Code-Point Open postcodes (pyarrow strings): median {med:.3f} s = "
          f"{m / med / 1e6:.2f} M postcodes/s (min {lo:.3f}, max {hi:.3f}); {kinds}")


if __name__ == "__main__":
    main()

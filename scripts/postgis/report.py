"""Prints the side-by-side table from results.tsv (lines: name<TAB>value, one per repetition).
Every figure is the median of its repetitions; every ratio is alliance-map ÷ expert PostGIS as
a speed (PostGIS time ÷ alliance-map time, or alliance-map throughput ÷ PostGIS throughput, or
PostGIS CPU ÷ alliance-map CPU), so > 1 means alliance-map is faster.
Usage: python3 report.py results.tsv"""
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    name, value = line.rstrip("\n").split("\t")
    runs[name].append(float(value))
med = {k: statistics.median(v) for k, v in runs.items()}


def fig(name, unit, fmt="{:,.0f}"):
    if name not in med:
        return "—"
    v = runs[name]
    spread = f" ({fmt.format(min(v))}–{fmt.format(max(v))})" if len(v) > 1 else ""
    return f"{fmt.format(med[name])} {unit}{spread}"


def ratio(num, den, target=None):
    if num not in med or den not in med or med[den] == 0:
        return "—", "—"
    r = med[num] / med[den]
    verdict = "—" if target is None else (f"≥ {target}×: " + ("met" if r >= target else "NOT met"))
    return f"**{r:.2f}×**", verdict


rows = []
sizes = sorted({int(k.split(":")[1]) for k in med if k.startswith("pg_expert_ms:")})
for n in sizes:
    label = f"{n:,}"
    target = 10 if n >= 1_000_000 else 3
    r, v = ratio(f"pg_expert_ms:{n}", f"annotate_ms:{n}", target)
    rows.append((f"batch, {label} points: PostGIS query → CSV (points loaded and indexed) vs `annotate` CSV → CSV incl. process start",
                 fig(f"pg_naive_ms:{n}", "ms"), fig(f"pg_expert_ms:{n}", "ms"), fig(f"annotate_ms:{n}", "ms"), r, v))
    r, _ = ratio(f"pg_load_expert_ms:{n}", f"annotate_ms:{n}")
    rows.append((f"batch, {label} points, PostGIS including `\\copy` in, point table, GiST index, ANALYZE",
                 "—", fig(f"pg_load_expert_ms:{n}", "ms"), fig(f"annotate_ms:{n}", "ms"), r, "—"))
    r, v = ratio(f"pg_expert_ms:{n}", f"bulk_ms:{n}", 10)
    rows.append((f"HTTP bulk, {label} points: `POST /api/v1/lookup` × 1000 points, 2 connections (server running)",
                 "—", fig(f"pg_expert_ms:{n}", "ms"), fig(f"bulk_ms:{n}", "ms"), r, v))
    r, _ = ratio(f"pg_expert_cpu_us_per_point:{n}", f"bulk_cpu_us_per_point:{n}")
    rows.append((f"server CPU per point, {label}-point batch (PostgreSQL backends / alliance-map server in bulk)",
                 fig(f"pg_naive_cpu_us_per_point:{n}", "µs", "{:.2f}"), fig(f"pg_expert_cpu_us_per_point:{n}", "µs", "{:.2f}"),
                 fig(f"bulk_cpu_us_per_point:{n}", "µs", "{:.2f}"), r, "—"))
r, _ = ratio("get_rps", "pg_expert_qps")
rows.append(("single queries/s, 2 clients (pgbench `-M prepared` vs `GET /api/v1/lookup` under wrk)",
             fig("pg_naive_qps", "/s"), fig("pg_expert_qps", "/s"), fig("get_rps", "/s"), r, "—"))
r, v = ratio("pg_expert_cpu_us", "get_cpu_us", 5)
ok8 = "get_cpu_us" in med and med["get_cpu_us"] <= 8
def cpu(name, sys):
    return fig(name, "µs", "{:.1f}") + (f"; kernel {med[sys]:.1f}" if sys in med else "")


rows.append(("server CPU per single query, user + kernel (all PostgreSQL processes / the alliance-map process)",
             cpu("pg_naive_cpu_us", "pg_naive_sys_us"), cpu("pg_expert_cpu_us", "pg_expert_sys_us"), cpu("get_cpu_us", "get_sys_us"), r,
             v + f"; ≤ 8 µs: {'met' if ok8 else 'NOT met'}"))
for src, label in [("embedded", "data embedded in the binary"), ("files", "official GeoJSON/CSV files, `--data`")]:
    for step, what in [("lookup", "`alliance-map lookup --lon --lat`"),
                       ("annotate", "`alliance-map annotate` of one row"),
                       ("serve", "`alliance-map serve` → first 200 from `GET /api/v1/lookup`")]:
        name = f"startup_{src}_{step}_ms"
        if name not in med:
            continue
        cpu = f"startup_{src}_{step}_cpu_ms"
        ok = med[name] <= 50
        shown = fig(name, "ms") + (f"; CPU {fig(cpu, 'ms')}" if cpu in med else "")
        rows.append((f"start-up, process start → first answer, {label}: {what}", "—", "—", shown, "—",
                     f"≤ 50 ms: {'met' if ok else 'NOT met'}"))

print("| what | PostGIS naive | PostGIS expert | alliance-map | alliance-map ÷ expert | target (issue 15) |")
print("|---|---|---|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
print()
print("Medians of the repetitions (range in brackets). Ratios are speed-ups: PostGIS time ÷ alliance-map time,")
print("alliance-map throughput ÷ PostGIS throughput, PostGIS CPU ÷ alliance-map CPU.")

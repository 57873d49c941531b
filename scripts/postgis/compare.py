"""Checks that every variant gives the same alliance (and STP) to every point the expert
PostGIS query finds covered, and counts the points alliance-map answers that PostGIS leaves
uncovered (alliance-map's nearest-area answer for coastal points, which ST_Covers has no
equivalent of). Prints one line per variant; exits 1 on any disagreement.
Usage: python3 compare.py EXPERT.csv [naive=FILE.csv] [annotate=FILE.csv] [bulk=DIR] ..."""
import csv
import glob
import json
import sys


def pg(path):
    return {int(i): (a or None, s or None) for i, a, s in csv.reader(open(path))}


def annotate(path):
    return {int(r["id"]): (r["alliance_code"] or None, r["stp_code"] or None) for r in csv.DictReader(open(path))}


def code(v):
    return v.get("code") if isinstance(v, dict) else None


def bulk(directory):
    out = {}
    for f in sorted(glob.glob(f"{directory}/out/*.json")):
        for r in json.load(open(f))["results"]:
            out[int(r["id"])] = (code(r.get("alliance")), code(r.get("stp")))
    return out


expert = pg(sys.argv[1])
covered = {i for i, (a, _) in expert.items() if a}
print(f"expert PostGIS: {len(expert)} points, {len(covered)} covered by an alliance")
bad = False
for arg in sys.argv[2:]:
    kind, path = arg.split("=", 1)
    got = {"naive": pg, "annotate": annotate, "bulk": bulk}[kind](path)
    same_a = sum(1 for i in covered if got.get(i, (None,))[0] == expert[i][0])
    same_s = sum(1 for i in covered if expert[i][1] and got.get(i, (None, None))[1] == expert[i][1])
    stp_cov = sum(1 for i in covered if expert[i][1])
    extra = sum(1 for i, (a, _) in got.items() if a and i not in covered)
    diffs = [(i, expert[i], got.get(i)) for i in sorted(covered) if got.get(i, (None,))[0] != expert[i][0]][:5]
    print(f"{kind}: {len(got)} answers; alliance agrees on {same_a} of {len(covered)}, STP on {same_s} of {stp_cov}; "
          f"{extra} more points answered (nearest-area fallback)")
    for d in diffs:
        print("  differs:", d)
    bad |= len(got) != len(expert) or same_a != len(covered) or same_s != stp_cov
sys.exit(1 if bad else 0)

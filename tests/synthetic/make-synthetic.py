#!/usr/bin/env python3
"""Writes the synthetic test dataset in this folder (hand-made shapes, no real geography).

Layout (lon 10..13.1, lat 50..53, far from the UK so it can never be mistaken for real data):

    lat 53 +---------------------------------+
           |   Scotland (S92, land, no area) |
    lat 52 +----------------+----------------+------ England's northern border
           | STP N-West     | STP N-East     |   .  all of STP N-East is the
           | = CCG 1        | = CCG 2 + 3    |   .  Vanguard East (E57)
           | Alliance West  | Vanguard East  |   .
    lat 51 +--------+-------+----------------+   .  <- coast: England's land ends
           | CCG 4  | CCG 5 | STP S-East     |   .     at lon 13.0, the STPs at
           | West   | South | = CCG 6        |   .     12.99: a coastal gap
           |  STP Split     | Alliance South |   .
    lat 50 +--------+-------+----------------+---
        lon 10    10.75   11.5            12.99 13.0

STP "Split" (E54900003) is split between two alliances along CCG lines (CCG 4 -> West,
CCG 5 -> South). A lake (hole) in STP N-West at lon 10.4..10.6, lat 51.4..51.6 is covered by no
area. Run `python3 tests/synthetic/make-synthetic.py` to rewrite the files (deterministic).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def box(x0, y0, x1, y1):
    # RFC 7946: exterior rings counter-clockwise.
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def hole(x0, y0, x1, y1):
    return [[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]


def fc(features):
    return {"type": "FeatureCollection", "features": features}


def feature(props, polygons):
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "MultiPolygon", "coordinates": polygons}}


LAKE = hole(10.4, 51.4, 10.6, 51.6)
E = 12.99  # eastern edge of every area: the coast is at 13.0

ccgs = [  # code, name, stp, alliance, polygon
    ("E38900001", "NHS Synthetic North West CCG", "E54900001", "E56900001", [box(10, 51, 11.5, 52), LAKE]),
    ("E38900002", "NHS Synthetic North East Inland CCG", "E54900002", "E57900001", [box(11.5, 51, 12.3, 52)]),
    ("E38900003", "NHS Synthetic North East Coast CCG", "E54900002", "E57900001", [box(12.3, 51, E, 52)]),
    ("E38900004", "NHS Synthetic Split West CCG", "E54900003", "E56900001", [box(10, 50, 10.75, 51)]),
    ("E38900005", "NHS Synthetic Split South CCG", "E54900003", "E56900002", [box(10.75, 50, 11.5, 51)]),
    ("E38900006", "NHS Synthetic South East CCG", "E54900004", "E56900002", [box(11.5, 50, E, 51)]),
]
stps = [
    ("E54900001", "Synthetic North West", [[box(10, 51, 11.5, 52), LAKE]]),
    ("E54900002", "Synthetic North East", [[box(11.5, 51, E, 52)]]),
    ("E54900003", "Synthetic Split", [[box(10, 50, 11.5, 51)]]),
    ("E54900004", "Synthetic South East", [[box(11.5, 50, E, 51)]]),
]
alliances = [
    # West: STP N-West plus the western half of the split STP (two touching parts).
    ("E56900001", "Synthetic Alliance West", [[box(10, 51, 11.5, 52), LAKE], [box(10, 50, 10.75, 51)]]),
    ("E56900002", "Synthetic Alliance South", [[box(10.75, 50, E, 51)]]),
    ("E57900001", "Synthetic Vanguard East", [[box(11.5, 51, E, 52)]]),
]
countries = [
    ("E92000001", "England", [[box(10, 50, 13.0, 52)]]),
    ("S92000003", "Scotland", [[box(10, 52, 13.0, 53)]]),
]
stp_names = {c: n for c, n, _ in stps}
alliance_names = {c: n for c, n, _ in alliances}


def write(name, text):
    with open(os.path.join(HERE, name), "w", newline="\n") as f:
        f.write(text)


def geojson(name, code_prop, name_prop, rows):
    write(name, json.dumps(fc([feature({code_prop: c, name_prop: n}, g) for c, n, g in rows]),
                           separators=(",", ":")) + "\n")


geojson("alliances-synthetic.geojson", "cal_cd", "cal_nm", alliances)
geojson("sub-areas-synthetic.geojson", "sub_cd", "sub_nm", [(c, n, [g]) for c, n, _, _, g in ccgs])

# A second edition (2020): the vanguard became an alliance with a new code, the split
# footprint was recoded; no sub-area edition is held after April 2019. Same shapes.
alliances_2020 = [
    ("E56900001", "Synthetic Alliance West", alliances[0][2]),
    ("E56900002", "Synthetic Alliance South", alliances[1][2]),
    ("E56900003", "Synthetic Alliance East", alliances[2][2]),
]
stps_2020 = [
    ("E54900001", "Synthetic North West ICB", stps[0][2]),
    ("E54900002", "Synthetic North East ICB", stps[1][2]),
    ("E54900004", "Synthetic South East ICB", stps[3][2]),
    ("E54900005", "Synthetic Split ICB", stps[2][2]),
]
geojson("alliances-2020-synthetic.geojson", "cal20cd", "cal20nm", alliances_2020)
geojson("footprints-2020-synthetic.geojson", "icb20cd", "icb20nm", stps_2020)
# An area overlay, as ONS does not publish one: each footprint x alliance pair sharing area.
overlay = [
    ("E54900001", "E56900001", 100.0), ("E54900002", "E56900003", 100.0),
    ("E54900004", "E56900002", 100.0), ("E54900005", "E56900001", 50.0),
    ("E54900005", "E56900002", 50.0),
]
write("overlay-2020-synthetic.csv", "\n".join(
    ["ICB20CD,CAL20CD,PCT_OF_ICB20"] + [f"{f},{a},{p:.3f}" for f, a, p in overlay]) + "\n")
geojson("stps-synthetic.geojson", "stp_cd", "stp_nm", stps)
geojson("countries-synthetic.geojson", "ctry_cd", "ctry_nm", countries)

lines = ["SUBCD,SUBNM,FPCD,FPNM,ALCD,ALNM"]
for code, name, stp, alliance, _ in ccgs:
    lines.append(f'{code},"{name}",{stp},{stp_names[stp]},{alliance},{alliance_names[alliance]}')
write("lookup-synthetic.csv", "\n".join(lines) + "\n")

# Postcodes in the ONSPD layout (the columns the importer reads, by header).
postcodes = [
    # pcds, lat, long, ctry, doterm
    ("ZZ1 1AA", 51.5, 10.2, "E92000001", ""),    # North West, Alliance West
    ("ZZ1 1AB", 51.5, 12.0, "E92000001", ""),    # North East, Vanguard
    ("ZZ1 1AD", 50.5, 10.3, "E92000001", ""),    # Split STP, West half
    ("ZZ1 1AE", 50.5, 11.0, "E92000001", ""),    # Split STP, South half
    ("ZZ1 1AF", 50.5, 12.0, "E92000001", ""),    # South East
    ("ZZ1 1AG", 51.5, 12.995, "E92000001", ""),  # in the coastal gap: nearest area
    ("ZZ1 1AH", 51.5, 10.5, "E92000001", ""),    # mid-lake, > 2 km from shore: no area
    ("ZZ2 1AA", 52.5, 11.0, "S92000003", ""),    # Scotland: no English area
    ("ZZ2 1AB", 51.2, 11.2, "E92000001", "201901"),  # terminated: never served
    ("ZZ3 1AA", 50.9, 11.49, "E92000001", ""),   # ZZ3 straddles two alliances
    ("ZZ3 1AB", 50.9, 11.51, "E92000001", ""),
    ("ZZ3 1AD", 51.1, 11.51, "E92000001", ""),
]
lines = ["pcds,lat,long,ctry,doterm"]
for pc, lat, lon, ctry, doterm in postcodes:
    lines.append(f'"{pc}",{lat},{lon},{ctry},{doterm}')
write("postcodes-synthetic.csv", "\n".join(lines) + "\n")

"""N random points in England's bounding box (-6.42..1.77, 49.86..55.82), 6 dp, seed 2017.
Usage: python3 points.py N > points.csv   (header id,lon,lat)"""
import random
import sys

random.seed(2017)
out = sys.stdout
out.write("id,lon,lat\n")
for i in range(int(sys.argv[1])):
    out.write(f"{i},{-6.42 + random.random() * 8.19:.6f},{49.86 + random.random() * 5.96:.6f}\n")

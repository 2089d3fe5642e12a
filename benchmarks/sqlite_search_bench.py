#!/usr/bin/env python3
"""The search benchmark's baseline: SQLite (Python's sqlite3) holding the same records as a
kiln dataset, in the natural relational form (one row per record, one row per element) with
an index on every field the query shapes use. Runs each shape REPS times and prints
shape,matches,median_ms,p99_ms,reps like bench_search. Each run computes the count and the
first 20 record ids (or the GROUP BY / min-max-avg of the aggregation shapes).

    sqlite_search_bench.py load DB DATA      # build DB from DATA's shards (h5py)
    sqlite_search_bench.py run DB REPS [--cold]
"""
import glob
import json
import os
import sqlite3
import statistics
import sys
import time

import h5py

SCHEMA = """
CREATE TABLE rec (rid INTEGER PRIMARY KEY, composition TEXT, label TEXT, band_gap REAL,
                  energy REAL, spacegroup INTEGER, year INTEGER, format TEXT);
CREATE TABLE el (rid INTEGER, el TEXT);
"""
INDEXES = """
CREATE INDEX rec_composition ON rec (composition);
CREATE INDEX rec_label ON rec (label);
CREATE INDEX rec_band_gap ON rec (band_gap);
CREATE INDEX rec_spacegroup ON rec (spacegroup);
CREATE INDEX el_el ON el (el, rid);
CREATE INDEX el_rid ON el (rid);
"""

# The same ten shapes as benchmarks/search_shapes.tsv.
SHAPES = [
    ("term", "SELECT rid FROM rec WHERE label = 'stable'"),
    ("composition_term", "SELECT rid FROM rec WHERE composition = 'Fe2O3'"),
    ("elements_and3", "SELECT rid FROM el WHERE el = 'Fe' INTERSECT SELECT rid FROM el WHERE el = 'O' "
                      "INTERSECT SELECT rid FROM el WHERE el = 'Li'"),
    ("elements_or", "SELECT rid FROM el WHERE el = 'Co' UNION SELECT rid FROM el WHERE el = 'Ni'"),
    ("range", "SELECT rid FROM rec WHERE band_gap BETWEEN 1 AND 2"),
    ("range_and_term", "SELECT rid FROM rec WHERE band_gap BETWEEN 1 AND 3 AND rid IN "
                       "(SELECT rid FROM el WHERE el = 'O')"),
    ("not", "SELECT rid FROM el WHERE el = 'O' EXCEPT SELECT rid FROM el WHERE el = 'Fe'"),
    ("prefix", "SELECT rid FROM rec WHERE composition >= 'Li' AND composition < 'Lj'"),
]
AGGREGATES = [
    ("count_by", "SELECT label, count(*) FROM rec WHERE rid IN (SELECT rid FROM el WHERE el = 'Li') "
                 "GROUP BY label"),
    ("stats", "SELECT count(band_gap), min(band_gap), max(band_gap), avg(band_gap) FROM rec "
              "WHERE rid IN (SELECT rid FROM el WHERE el = 'O')"),
]


def load(db_path, data):
    if os.path.exists(db_path):
        os.remove(db_path)
    db = sqlite3.connect(db_path)
    db.executescript(SCHEMA)
    recs, els = [], []
    for shard in sorted(glob.glob(os.path.join(data, "shards", "shard-*.h5"))):
        with h5py.File(shard, "r") as h:
            for rid, meta in zip(h["records/id"][:], h["records/metadata"][:]):
                r = json.loads(meta)
                c = r.get("custom", {})
                m = r.get("material", {})
                rid = int(rid)
                recs.append((rid, m.get("composition"), c.get("label"), c.get("band_gap"),
                             c.get("energy_per_atom"), c.get("spacegroup"), c.get("year"),
                             r["kiln"]["format"]))
                els.extend((rid, e) for e in m.get("elements", []))
        db.executemany("INSERT INTO rec VALUES (?,?,?,?,?,?,?,?)", recs)
        db.executemany("INSERT INTO el VALUES (?,?)", els)
        recs, els = [], []
    db.executescript(INDEXES)
    db.execute("ANALYZE")
    db.commit()
    db.close()


def drop_cache(path):
    fd = os.open(path, os.O_RDONLY)
    os.fdatasync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def run(db_path, reps, cold):
    print("shape,matches,median_ms,p99_ms,reps")
    db = sqlite3.connect(db_path)
    for name, sql in SHAPES + AGGREGATES:
        times = []
        matches = 0
        for _ in range(reps):
            if cold:  # as bench_search --cold: page cache dropped, database opened afresh
                db.close()
                drop_cache(db_path)
            t0 = time.perf_counter()
            if cold:
                db = sqlite3.connect(db_path)
            if name in ("count_by", "stats"):
                rows = db.execute(sql).fetchall()
                matches = db.execute("SELECT count(*) FROM (SELECT rid FROM el WHERE el = ?)",
                                     ("Li" if name == "count_by" else "O",)).fetchone()[0]
            else:
                matches = db.execute("SELECT count(*) FROM (" + sql + ")").fetchone()[0]
                db.execute("SELECT rid FROM (" + sql + ") ORDER BY rid LIMIT 20").fetchall()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        print("%s,%d,%.3f,%.3f,%d" % (name, matches, times[len(times) // 2],
                                      times[min(len(times) - 1, len(times) * 99 // 100)], reps))


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2], sys.argv[3])
    else:
        run(sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4 and sys.argv[4] == "--cold")

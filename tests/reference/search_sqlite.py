#!/usr/bin/env python3
"""Differential test of `kiln search` against SQLite (Python's sqlite3).

Reads every record of a kiln dataset with h5py (not through kiln), loads their fields into
SQLite with indexes, generates random queries (terms, element sets, numeric ranges, prefixes,
_exists_, NOT, nested AND/OR, with every operator spelling), runs each through `kiln search`
and through SQL, and requires identical record-id sets; every tenth query also compares a
--count-by aggregation and --stats with GROUP BY / min / max / sum.

    search_sqlite.py KILN DATA [--queries N] [--seed S] [--keyword-field F]...
Exit 0 when every query agrees; 1 with the disagreeing queries printed.
"""
import argparse
import glob
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import time

import h5py

DEFAULT_KEYWORD = ["material.*", "mdf.*", "files.*", "crystal_structure.*", "molecule.*",
                   "dft.*", "image.*", "kiln.format", "kiln.path", "kiln.part_of"]


def is_keyword(field, patterns):
    for p in patterns:
        if p.endswith("*") and field.startswith(p[:-1]):
            return True
        if field == p:
            return True
    return False


def leaves(node, path, out):
    """The same leaves as kiln::index::flatten: dotted paths, arrays share the path."""
    if isinstance(node, dict):
        for k, v in node.items():
            leaves(v, path + "." + k if path else k, out)
    elif isinstance(node, list):
        for v in node:
            leaves(v, path, out)
    elif node is None:
        return
    elif isinstance(node, bool):
        out.append((path, "b", "true" if node else "false"))
    elif isinstance(node, (int, float)):
        out.append((path, "n", float(node)))
    else:
        out.append((path, "s", node))


SPECIAL = set(' \t\n\r()[]{}:"\\*')


def field(f):
    """A field name as the query language reads it: specials escaped."""
    return "".join("\\" + c if c in SPECIAL else c for c in f)


def quote(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Data:
    def __init__(self, data_dir, keyword):
        self.keyword = keyword
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE TABLE recs (rid INTEGER PRIMARY KEY)")
        self.db.execute("CREATE TABLE kv (rid INTEGER, f TEXT, s TEXT, n REAL)")
        self.kinds = {}     # field -> set of kinds
        self.values = {}    # field -> sample of values (strings or floats)
        rows = []
        for shard in sorted(glob.glob(os.path.join(data_dir, "shards", "shard-*.h5"))):
            with h5py.File(shard, "r") as h:
                ids = h["records/id"][:]
                metas = h["records/metadata"][:]
            for rid, meta in zip(ids, metas):
                rid = int(rid)
                self.db.execute("INSERT INTO recs VALUES (?)", (rid,))
                out = []
                leaves(json.loads(meta), "", out)
                for f, kind, v in out:
                    self.kinds.setdefault(f, set()).add(kind)
                    sample = self.values.setdefault(f, [])
                    if len(sample) < 400 or random.random() < 0.01:
                        sample.append(v)
                    if kind == "n":
                        rows.append((rid, f, None, v))
                    else:
                        rows.append((rid, f, v, None))
                if len(rows) > 200000:
                    self.db.executemany("INSERT INTO kv VALUES (?,?,?,?)", rows)
                    rows = []
        self.db.executemany("INSERT INTO kv VALUES (?,?,?,?)", rows)
        self.db.execute("CREATE INDEX kv_fs ON kv (f, s)")
        self.db.execute("CREATE INDEX kv_fn ON kv (f, n)")
        self.db.execute("CREATE INDEX kv_rid ON kv (rid, f)")
        self.records = self.db.execute("SELECT count(*) FROM recs").fetchone()[0]
        self.text_fields = sorted(f for f, k in self.kinds.items()
                                  if k <= {"s", "b"} and is_keyword(f, keyword))
        self.number_fields = sorted(f for f, k in self.kinds.items() if k == {"n"})
        self.all_fields = sorted(self.kinds)


class Generator:
    def __init__(self, data, rng):
        self.d = data
        self.rng = rng

    def leaf(self):
        d, rng = self.d, self.rng
        r = rng.random()
        if r < 0.3 and d.text_fields:
            f = rng.choice(d.text_fields)
            v = rng.choice(d.values[f])
            return ("term", f, v)
        if r < 0.45 and "material.elements" in d.kinds:
            els = rng.sample(d.values["material.elements"], min(3, rng.randint(1, 3)))
            op = rng.choice(["and", "or"])
            return (op, [("term", "material.elements", e) for e in els])
        if r < 0.7 and d.number_fields:
            f = rng.choice(d.number_fields)
            vals = d.values[f]
            if rng.random() < 0.25:
                return ("nterm", f, rng.choice(vals))
            a, b = sorted([rng.choice(vals), rng.choice(vals)])
            lo = None if rng.random() < 0.15 else a
            hi = None if rng.random() < 0.15 else b
            return ("range", f, lo, hi, rng.random() < 0.7, rng.random() < 0.7)
        if r < 0.85:
            return ("exists", rng.choice(d.all_fields))
        prefix_fields = [f for f in ("kiln.path", "material.composition", "files.mime_type")
                         if f in d.text_fields]
        if prefix_fields:
            f = rng.choice(prefix_fields)
            v = rng.choice(d.values[f])
            k = rng.randint(1, max(1, min(len(v), 12)))
            return ("prefix", f, v[:k])
        return ("exists", rng.choice(d.all_fields))

    def tree(self, depth=0):
        r = self.rng.random()
        if depth >= 3 or r < 0.4:
            return self.leaf()
        if r < 0.65:
            return ("and", [self.tree(depth + 1) for _ in range(self.rng.randint(2, 3))])
        if r < 0.88:
            return ("or", [self.tree(depth + 1) for _ in range(self.rng.randint(2, 3))])
        return ("not", self.tree(depth + 1))

    def text(self, q):
        rng = self.rng
        kind = q[0]
        if kind == "term":
            return field(q[1]) + ":" + quote(q[2])
        if kind == "nterm":
            return field(q[1]) + ":" + repr(q[2])
        if kind == "range":
            lo = "*" if q[2] is None else repr(q[2])
            hi = "*" if q[3] is None else repr(q[3])
            return "%s:%s%s TO %s%s" % (field(q[1]), "[" if q[4] else "{", lo, hi,
                                        "]" if q[5] else "}")
        if kind == "exists":
            return rng.choice(["_exists_:" + field(q[1]), field(q[1]) + ":*"])
        if kind == "prefix":
            v = q[2]
            if all(c.isalnum() or c in "._/-" for c in v):
                return field(q[1]) + ":" + v + "*"
            return field(q[1]) + ":" + "".join("\\" + c if not c.isalnum() else c for c in v) + "*"
        if kind == "not":
            return rng.choice(["NOT ", "-", "!"]) + "(" + self.text(q[1]) + ")"
        sep = {"and": [" AND ", " && ", " "], "or": [" OR ", " || "]}[kind]
        return rng.choice(sep).join("(" + self.text(c) + ")" for c in q[1])

    def sql(self, q, args):
        kind = q[0]
        if kind == "term":
            args += [q[1], q[2]]
            return "rid IN (SELECT rid FROM kv WHERE f=? AND s=?)"
        if kind == "nterm":
            args += [q[1], q[2]]
            return "rid IN (SELECT rid FROM kv WHERE f=? AND n=?)"
        if kind == "range":
            cond = ["f=?", "n IS NOT NULL"]
            args.append(q[1])
            if q[2] is not None:
                cond.append("n >= ?" if q[4] else "n > ?")
                args.append(q[2])
            if q[3] is not None:
                cond.append("n <= ?" if q[5] else "n < ?")
                args.append(q[3])
            return "rid IN (SELECT rid FROM kv WHERE " + " AND ".join(cond) + ")"
        if kind == "exists":
            args.append(q[1])
            return "rid IN (SELECT rid FROM kv WHERE f=?)"
        if kind == "prefix":
            args += [q[1], len(q[2]), q[2]]
            return "rid IN (SELECT rid FROM kv WHERE f=? AND substr(s, 1, ?) = ?)"
        if kind == "not":
            return "NOT (" + self.sql(q[1], args) + ")"
        return "(" + (" AND " if kind == "and" else " OR ").join(
            "(" + self.sql(c, args) + ")" for c in q[1]) + ")"


def kiln(kiln_bin, data_dir, args):
    p = subprocess.run([kiln_bin, "search", data_dir] + args, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("kiln search %s exited %d: %s" % (args, p.returncode, p.stderr))
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kiln")
    ap.add_argument("data")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keyword-field", action="append", default=[])
    a = ap.parse_args()
    random.seed(a.seed)
    t0 = time.time()
    d = Data(a.data, DEFAULT_KEYWORD + a.keyword_field)
    print("loaded %d records, %d fields into SQLite in %.1f s" %
          (d.records, len(d.all_fields), time.time() - t0), flush=True)
    g = Generator(d, random.Random(a.seed))
    failures = 0
    nonempty = 0
    kiln_s = sql_s = 0.0
    # Few terms (kiln.format, mdf.source_name, custom.label), several per record
    # (material.elements), many of one per record (material.composition): each way kiln counts.
    agg_fields = [f for f in ("kiln.format", "material.elements", "mdf.source_name",
                              "material.composition", "custom.label")
                  if f in d.text_fields]
    for i in range(a.queries):
        q = g.tree()
        text = g.text(q)
        args = []
        where = g.sql(q, args)
        t = time.time()
        want = [r[0] for r in d.db.execute("SELECT rid FROM recs WHERE " + where, args)]
        sql_s += time.time() - t
        t = time.time()
        got = [int(x) for x in kiln(a.kiln, a.data, ["--query=" + text, "--format", "ids", "--limit", "0"]).split()]
        kiln_s += time.time() - t
        if sorted(got) != sorted(want) or len(got) != len(set(got)):
            failures += 1
            only_k = sorted(set(got) - set(want))[:5]
            only_s = sorted(set(want) - set(got))[:5]
            print("DISAGREE %d: %s\n  kiln %d, sqlite %d; only kiln %s; only sqlite %s" %
                  (i, text, len(got), len(want), only_k, only_s), flush=True)
            continue
        if got:
            nonempty += 1
        if got != sorted(got):
            failures += 1
            print("NOT IN ID ORDER %d: %s" % (i, text))
        if i % 10 == 0 and agg_fields:
            f = agg_fields[(i // 10) % len(agg_fields)]
            doc = json.loads(kiln(a.kiln, a.data, ["--query=" + text, "--count-by", f, "--format", "json"]))
            got_c = {c["value"]: c["count"] for c in doc["count_by"]["counts"]}
            want_c = dict(d.db.execute(
                "SELECT s, count(DISTINCT rid) FROM kv WHERE f=? AND s IS NOT NULL AND rid IN "
                "(SELECT rid FROM recs WHERE " + where + ") GROUP BY s", [f] + args).fetchall())
            if got_c != want_c or doc["total"] != len(want):
                failures += 1
                print("COUNT-BY %s DISAGREES %d: %s" % (f, i, text), flush=True)
            if d.number_fields:
                nf = d.number_fields[(i // 10) % len(d.number_fields)]
                doc = json.loads(kiln(a.kiln, a.data, ["--query=" + text, "--stats", nf, "--format", "json"]))
                row = d.db.execute(
                    "SELECT count(n), min(n), max(n), sum(n) FROM kv WHERE f=? AND n IS NOT NULL "
                    "AND rid IN (SELECT rid FROM recs WHERE " + where + ")", [nf] + args).fetchone()
                s = doc["stats"]
                ok = s["count"] == row[0]
                if row[0]:
                    ok = ok and s["min"] == row[1] and s["max"] == row[2] and math.isclose(
                        s["mean"], row[3] / row[0], rel_tol=1e-9, abs_tol=1e-9)
                if not ok:
                    failures += 1
                    print("STATS %s DISAGREE %d: %s: kiln %s sqlite %s" % (nf, i, text, s, row))
    print("%d queries (%d with hits), %d disagreements; kiln %.1f s (process per query), "
          "sqlite %.1f s" % (a.queries, nonempty, failures, kiln_s, sql_s))
    if nonempty < a.queries // 5:
        print("FAIL: too few queries had hits; the generator is not exercising the index")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

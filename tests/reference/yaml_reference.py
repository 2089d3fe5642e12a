#!/usr/bin/env python3
"""kiln extract vs PyYAML (Debian's python3-yaml, yaml.safe_load_all) on every .yaml/.yml
file of pymatgen-test-files: each document's custom fields (nested keys joined with '.',
arrays as their length, the first 100 fields in key order, 8 levels) must be equal.

    yaml_reference.py KILN ROOT     exit 1 on any disagreement
"""
import datetime
import json
import math
import os
import subprocess
import sys

import yaml

MAX_FIELDS, MAX_DEPTH = 100, 8


def flatten(v, prefix, depth, out):
    if len(out) >= MAX_FIELDS:
        return
    if isinstance(v, dict) and depth < MAX_DEPTH:
        for k in sorted(v, key=str):
            flatten(v[k], str(k) if not prefix else prefix + "." + str(k), depth + 1, out)
    elif isinstance(v, (list, dict)):
        out[prefix or "value"] = len(v)
    elif isinstance(v, float) and not math.isfinite(v):
        out[prefix or "value"] = None  # no JSON form; kiln keeps the text
    elif isinstance(v, (datetime.date, datetime.datetime)):
        out[prefix or "value"] = None  # timestamps: kiln keeps the text
    else:
        out[prefix or "value"] = v


def main():
    kiln, root = sys.argv[1], sys.argv[2]
    problems, files = [], 0
    for d, _, names in os.walk(root):
        for name in sorted(names):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(d, name)
            try:
                with open(path) as f:
                    docs = [x for x in yaml.safe_load_all(f) if x is not None]
            except Exception:
                continue  # PyYAML cannot read it: not compared
            out = subprocess.run([kiln, "extract", path], capture_output=True, text=True)
            recs = [json.loads(line) for line in out.stdout.splitlines()]
            if len(recs) != len(docs):
                problems.append(f"{path}: {len(recs)} records, {len(docs)} documents "
                                f"{recs[0]['kiln'].get('error', '') if recs else ''}")
                continue
            for i, (doc, rec) in enumerate(zip(docs, recs)):
                want = {}
                flatten(doc, "", 0, want)
                got = rec.get("custom", {})
                for k, v in want.items():
                    if v is None:
                        got.pop(k, None)  # compared only by presence
                        continue
                    if got.get(k) != v or type(got.get(k)) is bool != (type(v) is bool):
                        problems.append(f"{path} doc {i}: {k}: kiln {got.get(k)!r} PyYAML {v!r}")
                extra = set(got) - set(want)
                if extra:
                    problems.append(f"{path} doc {i}: only kiln has {sorted(extra)[:5]}")
            files += 1
    for p in problems[:50]:
        print("DISAGREE", p)
    print(f"compared {files} YAML files; {len(problems)} disagreements")
    return 1 if problems or files < 5 else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Table and plot of benchmarks/scale_replicas.sh results (Debian's python3-matplotlib).

    scale_replicas_report.py --csv OUT.csv --plot OUT.png IN.csv...

Merges the input CSVs (the tasks of slurm/scale-replicas.sbatch) into OUT.csv, adds the
scaling efficiency throughput(R) / (R x throughput(1)) of each series (same inferences,
layout, batching and cache), prints a table and draws throughput and efficiency against the
replica count R, one line per series.
"""
import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--plot", required=True)
    ap.add_argument("inputs", nargs="+")
    args = ap.parse_args()
    rows = []
    for path in args.inputs:
        with open(path) as f:
            rows += [r for r in csv.DictReader(f)]
    if not rows:
        raise SystemExit("scale_replicas_report.py: no results in " + " ".join(args.inputs))
    series = {}
    for r in rows:
        key = (int(r["inferences"]), r["layout"], r["batching"], r["cache"])
        series.setdefault(key, []).append(r)
    for key, rs in series.items():
        rs.sort(key=lambda r: int(r["replicas"]))
        base = next((float(r["rows_per_s"]) for r in rs if int(r["replicas"]) == 1), None)
        for r in rs:
            eff = float(r["rows_per_s"]) / (int(r["replicas"]) * base) if base else float("nan")
            r["efficiency"] = f"{eff:.2f}"
    fields = list(rows[0].keys())
    if "efficiency" not in fields:
        fields.insert(fields.index("rows_per_s") + 1, "efficiency")
    ordered = [r for key in sorted(series) for r in series[key]]
    with open(args.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(ordered)

    head = ["inferences", "R", "ranks x replicas", "batching", "cache", "seconds", "rows/s",
            "efficiency", "executions"]
    table = [[r["inferences"], r["replicas"], f'{r["ranks"]} x {r["replicas_per_rank"]}',
              r["batching"], r["cache"], r["seconds"], r["rows_per_s"], r["efficiency"],
              r["exec_count"]] for r in ordered]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *table)]
    for line in [head] + table:
        print("  ".join(str(x).rjust(w) for x, w in zip(line, widths)))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for (n, layout, batching, cache), rs in sorted(series.items()):
        label = f"{n} inf, {layout}, batch {batching}, cache {cache}"
        xs = [int(r["replicas"]) for r in rs]
        ax1.plot(xs, [float(r["rows_per_s"]) for r in rs], marker="o", label=label)
        ax2.plot(xs, [float(r["efficiency"]) for r in rs], marker="o", label=label)
    machine = rows[0].get("machine", "")
    ax1.set(xlabel="replicas R", ylabel="inferences / s", title=f"kiln infer throughput ({machine})")
    ax2.set(xlabel="replicas R", ylabel="throughput(R) / (R x throughput(1))",
            title="scaling efficiency")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.grid(True, alpha=0.3)
    ax1.set_yscale("log")
    ax2.axhline(1.0, color="grey", linewidth=0.8)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=110)
    print(f"wrote {args.csv} and {args.plot}")


if __name__ == "__main__":
    main()

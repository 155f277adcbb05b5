#!/usr/bin/env python3
"""Print criterion results of one group as a Markdown table with ratios.

Usage: scripts/bench-table.py GROUP [BASELINE_BENCH ...]
Reads target/criterion/GROUP/*/new/estimates.json (the last `cargo bench` run) and prints each
benchmark's median, and its ratio to every baseline named (e.g. hand_written_prometheus).
"""
import json
import pathlib
import sys

group = sys.argv[1]
baselines = sys.argv[2:]
root = pathlib.Path("target/criterion") / group
rows = {}
for estimates in sorted(root.glob("**/new/estimates.json")):
    bench_dir = estimates.parent.parent
    benchmark = json.loads((estimates.parent / "benchmark.json").read_text())
    name = benchmark.get("function_id") or bench_dir.name
    if benchmark.get("value_str"):
        name = f"{name}/{benchmark['value_str']}"
    rows[name] = json.loads(estimates.read_text())["median"]["point_estimate"]

def fmt_ns(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.1f} ns"

header = "| benchmark | median |" + "".join(f" ÷ {b} |" for b in baselines)
print(header)
print("|---|---:|" + "---:|" * len(baselines))
for name, ns in rows.items():
    ratios = "".join(f" {ns / rows[b]:.2f} |" if b in rows else " – |" for b in baselines)
    print(f"| {name} | {fmt_ns(ns)} |{ratios}")

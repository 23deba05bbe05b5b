#!/usr/bin/env python3
"""Prints scripts/bench/capacity.sh's tables from its rounds file.

Usage: capacity-table.py ROUNDS_TSV CONNECTIONS SECONDS_EACH BATCH_ROWS

ROUNDS_TSV has one line per writer and round: round, writer (SB = sysbench
oltp_insert, SS = sysbench on the store_sales row, T<n> = tpcds-bench with n
rows per transaction), rows/s, rows, p95 ms (sysbench only), server CPU s,
client CPU s. Every ratio is taken within its round (the writers of a round
ran one right after the other); the summary gives the median over the rounds
and their range, because the disk moves every writer's rate between rounds.
"""

import csv
import math
import statistics
import sys


def per_krow(cpu_s, rows):
    """Milliseconds of CPU per 1000 rows."""
    cpu_s, rows = float(cpu_s), float(rows)
    return math.nan if math.isnan(cpu_s) or rows == 0 else cpu_s * 1e6 / rows


def spread(xs, fmt):
    """`median (min–max)` of xs, each formatted with fmt; the median alone for one round."""
    xs = [x for x in xs if not math.isnan(x)]
    if not xs:
        return "n/a"
    med = fmt(statistics.median(xs))
    return med if len(xs) == 1 else f"{med} ({fmt(min(xs))}–{fmt(max(xs))})"


def main():
    path, connections, seconds, batch = sys.argv[1:5]
    runs = {}
    with open(path, newline="") as f:
        for rnd, writer, rate, rows, p95, server, client in csv.reader(f, delimiter="\t"):
            runs[(int(rnd), writer)] = dict(
                rate=float(rate), rows=float(rows), p95=p95,
                server=per_krow(server, rows), client=per_krow(client, rows))
    rounds = sorted({r for r, _ in runs})
    tb = f"T{batch}"
    x = lambda v: f"{v:.2f}x"
    n = lambda v: f"{v:.0f}"

    def ratio(writer, base, r):
        return runs[(r, writer)]["rate"] / runs[(r, base)]["rate"]

    print(f"\n## Capacity on one MariaDB ({connections} connections each, {seconds} s per writer, "
          f"{len(rounds)} round{'s' if len(rounds) != 1 else ''})\n")
    print("Each round, one writer right after the other (ratios within the round):\n")
    print(f"| round | sysbench oltp_insert | sysbench, store_sales row | tpcds-bench, 1 row/txn "
          f"| vs oltp_insert | vs sysbench, same row | tpcds-bench, {batch} rows/txn | vs oltp_insert |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rounds:
        g = lambda w: runs[(r, w)]["rate"]
        print(f"| {r} | {g('SB'):.0f} | {g('SS'):.0f} ({x(ratio('SS', 'SB', r))}) | {g('T1'):.0f} "
              f"| {x(ratio('T1', 'SB', r))} | {x(ratio('T1', 'SS', r))} | {g(tb):.0f} "
              f"| {x(ratio(tb, 'SB', r))} |")

    print("\nOver the rounds: median (range).\n")
    print("| writer | rows/txn | rows/s | vs oltp_insert | target | vs sysbench, same row "
          "| MariaDB CPU ms / 1000 rows | client CPU ms / 1000 rows |")
    print("|---|---|---|---|---|---|---|---|")
    rows = [("sysbench oltp_insert", "SB", 1, ""), ("sysbench, store_sales row", "SS", 1, ""),
            ("tpcds-bench", "T1", 1, "≥ 1.0x"), ("tpcds-bench", tb, batch, "≥ 4x")]
    col = lambda w, k: [runs[(r, w)][k] for r in rounds]
    for name, w, per_txn, target in rows:
        vs_sb = "1.00x" if w == "SB" else spread([ratio(w, "SB", r) for r in rounds], x)
        if w in ("SB", "SS"):
            vs_ss = "" if w == "SB" else "1.00x"
        else:
            vs_ss = spread([ratio(w, "SS", r) for r in rounds], x)
        rate = spread(col(w, "rate"), n)
        if w in ("SB", "SS"):
            p95 = [float(v) for v in col(w, "p95") if v]
            rate += f", p95 {spread(p95, lambda v: f'{v:.2f} ms')}" if p95 else ""
        print(f"| {name} | {per_txn} | {rate} | {vs_sb} | {target} | {vs_ss} "
              f"| {spread(col(w, 'server'), n)} | {spread(col(w, 'client'), n)} |")

    print()
    for w, label, goal in (("T1", "single-row", 1.0), (tb, f"{batch} rows/txn", 4.0)):
        rs = [ratio(w, "SB", r) for r in rounds]
        med = statistics.median(rs)
        hit = sum(v >= goal for v in rs)
        verdict = "met" if med >= goal else "missed"
        print(f"- {label}: median {med:.2f}x of oltp_insert against a target of ≥ {goal:g}x: "
              f"**{verdict}** (at or above it in {hit} of {len(rs)} rounds)")

    if all((r, "T1B") in runs for r in rounds):
        # BIN_B: the second build, single-row, beside the first in every round.
        ab = [ratio("T1B", "T1", r) for r in rounds]
        vs_ss = [ratio("T1B", "SS", r) for r in rounds]
        print(f"- BIN_B single-row: {spread(ab, x)} of this build's in the same round "
              f"(faster in {sum(v > 1 for v in ab)} of {len(ab)} rounds); "
              f"{spread(vs_ss, x)} of sysbench on the same row, against {spread([ratio('T1', 'SS', r) for r in rounds], x)} for this build")


if __name__ == "__main__":
    main()

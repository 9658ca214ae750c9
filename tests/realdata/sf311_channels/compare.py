#!/usr/bin/env python3
"""Compares cex's published tables for this folder's pipeline with expected.py (standard library
only).

    cp -r tests/realdata/sf311_channels /tmp/sf
    cex run /tmp/sf/pipeline.toml --as-of 2016-10-15          # out/2016-09 (2016/17 to date)
    cex kpi /tmp/sf/pipeline.toml --period 2016-03            # out/2016-03 (2015/16 to date)
    python3 tests/realdata/sf311_channels/compare.py /tmp/sf/out

For every one of the 10 months, in whichever publication holds it: each channel's transactions
and share in `channel_mix`, every (channel, service) volume in `volumes`, the month's total
against the publisher's own `summry_of_cases`, and the take-up counts and percentage for "All
services" and for the one service in `digital_takeup`. Then the reconciliation of the one wide
source that reads the file (a row per file row and channel column, all accepted, nothing
rejected, duplicated or excluded).
Prints one line per difference and "N cells, M differences"; exits 1 when any differs.
"""

import csv
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def by_month(out, table):
    """Every published row of `table`, by YYYY-MM, from whichever publication holds it."""
    found = {}
    for path in sorted(glob.glob(os.path.join(out, "*", f"{table}.csv"))):
        for r in rows(path):
            month = f"{int(r['year']):04d}-{int(r['month']):02d}"
            found.setdefault(month, []).append(r)
    return found


def main():
    out = sys.argv[1]
    exp = json.loads(
        subprocess.run(
            [sys.executable, os.path.join(HERE, "expected.py")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    failures = 0
    checked = 0

    def check(what, got, want):
        nonlocal failures, checked
        checked += 1
        if got != want:
            failures += 1
            print(f"DIFF {what}: cex {got!r} expected {want!r}")

    mix = by_month(out, "channel_mix")
    vols = by_month(out, "volumes")
    take = by_month(out, "digital_takeup")
    for month, e in exp["per_month"].items():
        published = {r["channel"]: r for r in mix.get(month, []) if int(r["transactions"]) > 0}
        check(f"{month} mix channels", sorted(published), sorted(e["channels"]))
        for channel, n in e["channels"].items():
            r = published.get(channel, {"transactions": "0", "share_pct": "nan"})
            check(f"{month} mix {channel} transactions", int(r["transactions"]), n)
            check(
                f"{month} mix {channel} share_pct",
                round(float(r["share_pct"]), 6),
                round(e["share_pct"][channel], 6),
            )
        total = sum(int(r["transactions"]) for r in published.values())
        check(f"{month} total against the publisher's summry_of_cases", total, e["publisher_total"])
        got = {}
        for r in vols.get(month, []):
            if int(r["contacts"]) > 0:
                got.setdefault(r["channel"], {})[r["service"]] = int(r["contacts"])
        check(f"{month} volumes by channel and service", got, e["volumes"])
        for service in ("All services", exp["service"]):
            t = [r for r in take.get(month, []) if r["service"] == service]
            if len(t) != 1:
                check(f"{month} take-up {service} published once", len(t), 1)
                continue
            for k in ("web", "telephone", "face_to_face", "digital", "assisted", "transactions"):
                check(f"{month} take-up {service} {k}", int(t[0][k]), e["takeup"][k])
            check(
                f"{month} take-up {service} digital_takeup_pct",
                round(float(t[0]["digital_takeup_pct"]), 6),
                round(e["takeup"]["digital_takeup_pct"], 6),
            )
    # The one wide source reads each file row once per channel column.
    values = exp["rows"] * len(exp["channel_columns"])
    dq = {r["source"]: r for r in rows(os.path.join(out, "2016-09", "data_quality.csv"))}
    check("sources reconciled", sorted(dq), ["sf311"])
    for source, r in sorted(dq.items()):
        check(f"{source} rows read (file rows x channel columns)", int(r["rows_read"]), values)
        check(f"{source} accepted", int(r["accepted"]), values)
        for k in ("rejected", "duplicates", "excluded"):
            check(f"{source} {k}", int(r[k]), 0)
    print(f"{checked} cells over {len(exp['per_month'])} months, {failures} differences")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compares cex's published contact-centre tables for this folder's pipeline with expected.py
(standard library only).

    cp -r tests/realdata/vancouver311_metrics /tmp/van
    cex run /tmp/van/pipeline.toml --as-of 2024-10-15            # out/2024-09 (2024/25 to date)
    cex kpi /tmp/van/pipeline.toml --fy 2021/22                   # out/fy2021-22, and so on
    python3 tests/realdata/vancouver311_metrics/compare.py /tmp/van/out

For every one of the 36 months, in whichever publication holds it: calls answered (the
publisher's CallsHandled), abandoned (CallsAbandoned), offered (cex: answered + abandoned; the
publisher's CallsOffered holds a remainder with no outcome, so it is not compared), the
abandonment rate (abandoned / offered x 100, cex's plain definition), the average speed of
answer (the daily averages weighted by calls handled, `interval_averages`), and that the
service level, which the file cannot give, is empty, never 0. Then the reconciliation. Prints one
line per difference and a summary; exits 1 when any differs.
"""

import csv
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


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
    published = {}
    for path in glob.glob(os.path.join(out, "*", "contact_centre.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r["service"] == "All services":
                    published[f"{int(r['year']):04d}-{int(r['month']):02d}"] = r
    failures = 0
    checked = 0

    def check(what, got, want):
        nonlocal failures, checked
        checked += 1
        if got != want:
            failures += 1
            print(f"DIFF {what}: cex {got!r} expected {want!r}")

    for month, e in exp["per_month"].items():
        r = published.get(month)
        if r is None:
            check(f"{month} published", False, True)
            continue
        handled, abandoned = e["calls_handled"], e["calls_abandoned"]
        check(f"{month} answered", int(r["answered"]), handled)
        check(f"{month} abandoned", int(r["abandoned"]), abandoned)
        check(f"{month} offered", int(r["offered"]), handled + abandoned)
        check(
            f"{month} abandonment_rate_pct",
            round(float(r["abandonment_rate_pct"]), 6),
            round(100.0 * abandoned / (handled + abandoned), 6),
        )
        # The day's average times the calls handled, summed, over the calls handled: cex
        # publishes seconds to one decimal.
        check(
            f"{month} asa_seconds",
            round(float(r["asa_seconds"]), 1) if r["asa_seconds"] else None,
            round(e["asa_seconds_weighted"], 1),
        )
        check(f"{month} service_level_pct empty", r["service_level_pct"], "")
    with open(os.path.join(out, "2024-09", "data_quality.csv"), newline="", encoding="utf-8") as f:
        dq = next(csv.DictReader(f))
    check("rows read", int(dq["rows_read"]), exp["rows"])
    check("accepted", int(dq["accepted"]), exp["rows"])
    check("rejected", int(dq["rejected"]), 0)
    print(f"{checked} checks over {len(exp['per_month'])} months, {failures} differences")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

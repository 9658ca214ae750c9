#!/usr/bin/env python3
"""Compares cex's published tables for this folder's pipeline with expected.py (stdlib only).

    cp -r tests/realdata/la311 /tmp/la311
    cex run /tmp/la311/pipeline.toml                       # publishes out/2020-01
    cex kpi /tmp/la311/pipeline.toml --period 2017-12      # publishes out/2017-12
    python3 tests/realdata/la311/compare.py /tmp/la311/out

Checks, for December 2017 and January 2020: the channel mix (transactions and share), digital
take-up for all services, every (channel, service) volume and right first time with the
address as the case reference (`repeat_contact.csv`, `contact_resolution.csv`,
`days_to_repeat.csv`), against `channel_mix_cex`, `digital_takeup_all_services_cex`,
`volumes_cex_month_channel_service`, `repeat_contact_cex`, `resolution_cex` and
`days_to_repeat_cex`; and the
reconciliation (rows = accepted + excluded, the crews' own reports excluded by the pipeline's
row filter; no rejects, no duplicates). Prints one line per check and exits
1 when any differs.
"""

import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def window_cells(folder, table, month, counts):
    """A right-first-time table's rows of `month` whose first count is not 0, as
    {"<service>|<channel>|<window_days>": [counts...]}."""
    y, m = month.split("-")
    return {
        f"{r['service']}|{r['channel']}|{r['window_days']}": [int(r[k]) for k in counts]
        for r in rows(os.path.join(folder, table))
        if r["year"] == y and int(r["month"]) == int(m) and int(r[counts[0]]) > 0
    }


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

    def check(what, got, want):
        nonlocal failures
        ok = got == want
        failures += not ok
        if ok and isinstance(want, dict):
            print(f"ok   {what}: {len(want)} groups equal")
        else:
            print(f"{'ok  ' if ok else 'DIFF'} {what}: cex {got} expected {want}")

    for month in sorted(exp["channel_mix_cex"]):
        y, m = month.split("-")
        folder = os.path.join(out, month)
        if not os.path.isdir(folder):
            check(f"{month} published", False, True)
            continue
        mix = {
            r["channel"]: r
            for r in rows(os.path.join(folder, "channel_mix.csv"))
            if r["year"] == y and int(r["month"]) == int(m) and int(r["transactions"]) > 0
        }
        for channel, e in exp["channel_mix_cex"][month].items():
            r = mix.get(channel, {"transactions": "0", "share_pct": "nan"})
            check(f"{month} mix {channel} transactions", int(r["transactions"]), e["transactions"])
            check(f"{month} mix {channel} share_pct", round(float(r["share_pct"]), 1), e["share_pct"])
        check(f"{month} mix channels", sorted(mix), sorted(exp["channel_mix_cex"][month]))
        take = [
            r
            for r in rows(os.path.join(folder, "digital_takeup.csv"))
            if r["year"] == y and int(r["month"]) == int(m) and r["service"] == "All services"
        ]
        e = exp["digital_takeup_all_services_cex"][month]
        for k in ("web", "telephone", "face_to_face", "digital", "assisted"):
            check(f"{month} take-up {k}", int(take[0][k]), e[k])
        check(
            f"{month} digital_takeup_pct",
            round(float(take[0]["digital_takeup_pct"]), 1),
            e["digital_takeup_pct"],
        )
        vols = {}
        for r in rows(os.path.join(folder, "volumes.csv")):
            if r["year"] == y and int(r["month"]) == int(m) and int(r["contacts"]) > 0:
                vols.setdefault(r["channel"], {})[r["service"]] = int(r["contacts"])
        check(f"{month} volumes by channel and service", vols, exp["volumes_cex_month_channel_service"][month])
        repeats = window_cells(folder, "repeat_contact.csv", month, ["contacts", "identified", "repeats"])
        check(f"{month} repeat requests (same address and type)", repeats, exp["repeat_contact_cex"][month])
        resolved = window_cells(
            folder, "contact_resolution.csv", month, ["identified", "observable", "followed_up"]
        )
        check(f"{month} resolution as observed", resolved, exp["resolution_cex"][month])
        days = {r["days"]: int(r["repeats"]) for r in rows(os.path.join(folder, "days_to_repeat.csv"))}
        check(f"{month} days to a repeat", days, exp["days_to_repeat_cex"][month])
        # The exports record no outcome (every request is `default_outcome`): no started or
        # abandoned form to divide by, so no form-completion table (it would read 100%).
        check(
            f"{month} no form completion without outcomes",
            os.path.exists(os.path.join(folder, "form_completion.csv")),
            False,
        )

    dq = rows(os.path.join(out, "2020-01", "data_quality.csv"))[0]
    check("rows read", int(dq["rows_read"]), exp["rows"])
    staff = exp["staff_generated_rows"]
    check("excluded (staff-generated)", int(dq["excluded"]), staff)
    check("excluded by rule", dq["excluded_by_rule"], f"staff-generated={staff}")
    check("accepted", int(dq["accepted"]), exp["rows"] - exp["unparsed_dates"] - staff)
    check("duplicates", int(dq["duplicates"]), exp["duplicate_keys"])
    print(f"{failures} differences")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

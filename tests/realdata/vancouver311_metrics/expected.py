#!/usr/bin/env python3
"""Independent figures for the City of Vancouver 3-1-1 contact centre metrics extract in this
folder (Python standard library only). Printed as JSON.

    python3 tests/realdata/vancouver311_metrics/expected.py [csvfile]

Without an argument the script reads `contact_centre_metrics_lines1-1097.csv` beside it. The
file is read with the `csv` module exactly as committed: UTF-8 with a byte-order mark (read as
`utf-8-sig`), semicolon delimiter, CRLF line ends, one row per calendar day (see SOURCE.md).

Choices, stated so that a difference with cex can be traced to one of them:

- The month is the calendar month of `Date` (ISO `YYYY-MM-DD`, a local calendar day, no time).
- The file holds telephone counts only (one channel: the 3-1-1 phone line). "Per channel per
  month" is therefore the single channel `telephone`; the three count columns are treated as
  measures of it: `CallsOffered` (demand), `CallsHandled`, `CallsAbandoned`.
- `CallsOffered` is NOT always `CallsHandled + CallsAbandoned` in the publisher's data; the
  remainder is reported as `other = offered - handled - abandoned` (it can be negative on a
  few days) so that the three outcomes add up to the demand. "Per category per month" is the
  outcome split handled / abandoned / other.
- `AverageSpeedofAnswer` (seconds) and `ServiceLevel` (fraction) are daily ratios; the monthly
  figures are re-weighted, not averaged: ASA weighted by CallsHandled, service level weighted by
  CallsOffered, both rounded to 4 decimals. The plain mean of the daily values is printed too.
- `days` counts the rows in each month; a month is `complete` when it has a row for every
  calendar day of the month.
"""

import calendar
import csv
import json
import os
import sys
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "contact_centre_metrics_lines1-1097.csv")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=";")
        rows = list(reader)
        header = reader.fieldnames

    months = {}
    dates = []
    for r in rows:
        date = r["Date"]
        dates.append(date)
        month = date[:7]
        m = months.setdefault(month, {
            "days": 0, "offered": 0, "handled": 0, "abandoned": 0,
            "asa_x_handled": 0.0, "sl_x_offered": 0.0, "asa_sum": 0.0, "sl_sum": 0.0,
        })
        offered = int(r["CallsOffered"])
        handled = int(r["CallsHandled"])
        abandoned = int(r["CallsAbandoned"])
        asa = float(r["AverageSpeedofAnswer"])
        sl = float(r["ServiceLevel"])
        m["days"] += 1
        m["offered"] += offered
        m["handled"] += handled
        m["abandoned"] += abandoned
        m["asa_x_handled"] += asa * handled
        m["sl_x_offered"] += sl * offered
        m["asa_sum"] += asa
        m["sl_sum"] += sl

    per_month = OrderedDict()
    per_channel_month = OrderedDict()
    per_category_month = OrderedDict()
    for month in sorted(months):
        m = months[month]
        y, mo = int(month[:4]), int(month[5:7])
        other = m["offered"] - m["handled"] - m["abandoned"]
        per_month[month] = OrderedDict([
            ("days", m["days"]),
            ("complete", m["days"] == calendar.monthrange(y, mo)[1]),
            ("calls_offered", m["offered"]),
            ("calls_handled", m["handled"]),
            ("calls_abandoned", m["abandoned"]),
            ("asa_seconds_weighted", round(m["asa_x_handled"] / m["handled"], 4) if m["handled"] else None),
            ("asa_seconds_daily_mean", round(m["asa_sum"] / m["days"], 4)),
            ("service_level_weighted", round(m["sl_x_offered"] / m["offered"], 4) if m["offered"] else None),
            ("service_level_daily_mean", round(m["sl_sum"] / m["days"], 4)),
            ("abandon_rate_pct", round(m["abandoned"] * 100.0 / m["offered"], 2) if m["offered"] else None),
        ])
        per_channel_month[month] = {"telephone": m["offered"]}
        per_category_month[month] = OrderedDict([
            ("handled", m["handled"]), ("abandoned", m["abandoned"]), ("other", other),
        ])

    result = OrderedDict()
    result["file"] = os.path.basename(path)
    result["columns"] = header
    result["rows"] = len(rows)
    result["first_date"] = min(dates)
    result["last_date"] = max(dates)
    result["duplicate_dates"] = len(dates) - len(set(dates))
    result["days_where_offered_ne_handled_plus_abandoned"] = sum(
        1 for r in rows
        if int(r["CallsOffered"]) != int(r["CallsHandled"]) + int(r["CallsAbandoned"])
    )
    result["totals"] = OrderedDict([
        ("calls_offered", sum(m["offered"] for m in months.values())),
        ("calls_handled", sum(m["handled"] for m in months.values())),
        ("calls_abandoned", sum(m["abandoned"] for m in months.values())),
    ])
    result["per_month"] = per_month
    result["per_channel_per_month"] = per_channel_month
    result["per_category_per_month"] = per_category_month
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

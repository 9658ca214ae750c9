#!/usr/bin/env python3
"""Independent figures for San Francisco's "311 Cases by Channel" extract in this folder (Python
standard library only): what cex should publish for it. Printed as JSON.

    python3 tests/realdata/sf311_channels/expected.py            # JSON on stdout

Input: the one `*.csv` beside this script (see SOURCE.md), read with the `csv` module as
committed, no cleaning. One row is one calendar month; its columns `mobile`, `web`, `phone` and
`twitter` are the service requests 311 created that month through each channel, and
`summry_of_cases` is the publisher's own total.

Choices, stated so that a difference with cex can be traced to one of them:

- The month is the `YYYY-MM` of the `month` column (`2016-09-01T00:00:00`, always the 1st at
  midnight); no time zone is applied, so no row changes month.
- Channels, as a council would report them: `phone` is telephone (assisted), `web` the web
  form, `mobile` the SF311 app and `twitter` social media (all three digital self-service, as
  cex's default `[channels]` say). One contact per service request counted.
- Every request is a transaction (a request created is a form submitted, a call offered); one
  service only, "311 service requests" (the file has no category column).
- Channel mix: each channel's requests / the month's requests x 100. Digital take-up:
  (web + app + social) / (web + app + social + telephone) x 100. Not rounded: compare at 1e-6.
- `publisher_total`: the month's `summry_of_cases`; `channels_sum_to_total` says whether the four
  channels add up to it (they do in every month of this extract), so the month total cex
  publishes can be checked against the publisher's own figure.
"""

import csv
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

CHANNELS = {"phone": "telephone", "web": "web", "mobile": "app", "twitter": "social"}
DIGITAL = {"web", "app", "social"}
ASSISTED = {"telephone", "face_to_face"}
SERVICE = "311 service requests"


def main():
    (path,) = glob.glob(os.path.join(HERE, "*.csv"))
    per_month = {}
    rows = 0
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows += 1
            month = r["month"][:7]
            counts = {CHANNELS[col]: int(r[col]) for col in CHANNELS}
            total = sum(counts.values())
            digital = sum(n for ch, n in counts.items() if ch in DIGITAL)
            assisted = sum(n for ch, n in counts.items() if ch in ASSISTED)
            per_month[month] = {
                "channels": counts,
                "total": total,
                "publisher_total": int(r["summry_of_cases"]),
                "channels_sum_to_total": total == int(r["summry_of_cases"]),
                "share_pct": {ch: 100.0 * n / total for ch, n in counts.items()},
                "takeup": {
                    "web": counts["web"],
                    "telephone": counts["telephone"],
                    "face_to_face": 0,
                    "digital": digital,
                    "assisted": assisted,
                    "transactions": digital + assisted,
                    "digital_takeup_pct": 100.0 * digital / (digital + assisted),
                },
                "volumes": {ch: {SERVICE: n} for ch, n in counts.items()},
            }
    json.dump(
        {
            "rows": rows,
            "channel_columns": sorted(CHANNELS),
            "service": SERVICE,
            "per_month": dict(sorted(per_month.items())),
        },
        sys.stdout,
        indent=1,
    )
    print()


if __name__ == "__main__":
    main()

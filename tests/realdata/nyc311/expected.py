#!/usr/bin/env python3
"""Independent figures for the NYC 311 extract, from the CSV alone (standard library only):
requests per month and channel, per month, channel and service, and the all-services digital
take-up (web over web and telephone). Prints them as JSON."""
import collections
import csv
import datetime
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
# The channel and service mapping of pipeline.toml, written again here.
CHANNEL = {"PHONE": "telephone", "ONLINE": "web", "OTHER": "other", "UNKNOWN": "other"}
SERVICE = {
    "DCA": "Consumer Affairs", "DFTA": "Aging", "DHS": "Homeless Services", "DOE": "Education",
    "DOF": "Finance", "DOHMH": "Health", "DOT": "Transportation", "DPR": "Parks",
    "DSNY": "Sanitation", "HPD": "Housing", "NYCEM": "Emergency Management", "NYPD": "Police",
    "TLC": "Taxi and Limousine",
}
FORMAT = "%m/%d/%Y %I:%M:%S %p"


def main():
    rows = []
    for path in sorted(glob.glob(os.path.join(HERE, "*.csv"))):
        with open(path, newline="", encoding="utf-8") as f:
            rows += list(csv.DictReader(f))
    by_channel = collections.Counter()
    by_service = collections.Counter()
    for r in rows:
        t = datetime.datetime.strptime(r["Created Date"], FORMAT)
        month = f"{t.year:04d}-{t.month:02d}"
        channel = CHANNEL[r["Open Data Channel Type"].strip().upper()]
        by_channel[(month, channel)] += 1
        by_service[f"{month}|{channel}|{SERVICE[r['Agency']]}"] += 1
    months = {}
    for (month, channel), n in by_channel.items():
        months.setdefault(month, {})[channel] = n
    out = {"rows": len(rows), "months": {}, "volumes": dict(by_service)}
    for month, channels in sorted(months.items()):
        total = sum(channels.values())
        web, tel = channels.get("web", 0), channels.get("telephone", 0)
        out["months"][month] = {
            "channels": channels,
            "share_pct": {c: 100 * n / total for c, n in channels.items()},
            "takeup_pct": 100 * web / (web + tel) if web + tel else None,
        }
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()

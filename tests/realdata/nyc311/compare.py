#!/usr/bin/env python3
"""Compares cex's publications under OUT (argument) with expected.py's independent figures:
channel mix, volumes and all-services take-up of every published month, every (month, channel,
service) with requests published somewhere, no form-completion table (no outcome recorded), and
the warning for the period chosen by itself (November 2011, two stray requests). Prints each
check and "N differences"; exits 1 on any."""
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

    publications = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(out, "*", "channel_mix.csv")))
    check("publications", [os.path.basename(p) for p in publications], ["2011-03", "2011-11"])
    published = set()
    for pub in publications:
        name = os.path.basename(pub)
        for r in rows(os.path.join(pub, "channel_mix.csv")):
            month = f"{int(r['year']):04d}-{int(r['month']):02d}"
            want = exp["months"].get(month, {"channels": {}, "share_pct": {}})
            n = int(r["transactions"])
            check(f"{name} {month} mix {r['channel']}", n, want["channels"].get(r["channel"], 0))
            if n:
                check(
                    f"{name} {month} share {r['channel']}",
                    round(float(r["share_pct"]), 9),
                    round(want["share_pct"][r["channel"]], 9),
                )
        for r in rows(os.path.join(pub, "volumes.csv")):
            month = f"{int(r['year']):04d}-{int(r['month']):02d}"
            key = f"{month}|{r['channel']}|{r['service']}"
            check(f"{name} volume {key}", int(r["contacts"]), exp["volumes"].get(key, 0))
            if int(r["contacts"]):
                published.add(key)
        for r in rows(os.path.join(pub, "digital_takeup.csv")):
            if r["service"] != "All services":
                continue
            month = f"{int(r['year']):04d}-{int(r['month']):02d}"
            want = exp["months"].get(month, {}).get("takeup_pct")
            got = float(r["digital_takeup_pct"]) if r["digital_takeup_pct"] else None
            check(
                f"{name} {month} take-up",
                None if got is None else round(got, 9),
                None if want is None else round(want, 9),
            )
        check(f"{name} no form completion", os.path.exists(os.path.join(pub, "form_completion.csv")), False)
    check("every volume published", sorted(set(exp["volumes"]) - published), [])
    with open(os.path.join(out, "last-run.json"), encoding="utf-8") as f:
        summary = json.load(f)
    thin = [w for w in summary.get("warnings", []) if w.get("kind") == "thin_default_period"]
    check(
        "stray-row period warned",
        [(w.get("period"), w.get("contacts"), w.get("busiest"), w.get("busiest_contacts")) for w in thin],
        [("2011-11", 2, "2011-03", sum(exp["months"]["2011-03"]["channels"].values()))],
    )
    print(f"{checked} checks, {failures} differences")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compares cex's published tables for this folder's pipeline with expected.py (standard library
only).

    cp -r tests/realdata/toronto_per_survey /tmp/tor
    cex run /tmp/tor/pipeline.toml --fy 2023                # publishes out/fy2023
    python3 tests/realdata/toronto_per_survey/compare.py /tmp/tor/out

The pipeline maps the 21 agreement statements as a wide survey (one answer per statement) and
names statement 3.1 as the overall question. Checks:
- no answer in the table by month (the survey is dated by the year 2023 alone);
- the reconciliation: rows read = respondents x 21 statements, excluded ("not answered") = the
  blank answers, accepted = the valid answers, nothing rejected;
- satisfaction by channel (the overall question, each respondent once): N, agree (positive),
  neutral, disagree (negative), % agree, % disagree;
- the equality table by age band: every group cex publishes (not suppressed) against the
  independent count of the same group (blank age -> "Not answered", "Prefer not to answer" ->
  "Prefer not to say"), and that groups under 10 respondents are not published.
Exits 1 when any differs.
"""

import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OVERALL = "3.1"
AGE_NAMES = {"(blank)": "Not answered", "Prefer not to answer": "Prefer not to say"}


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main():
    out = os.path.join(sys.argv[1], "fy2023")
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

    items = exp["items"]
    dq = rows(os.path.join(out, "data_quality.csv"))[0]
    check("rows read", int(dq["rows_read"]), exp["rows"] * len(items))
    check("excluded", int(dq["excluded"]), sum(i["overall"]["missing"] for i in items.values()))
    check("excluded by rule", dq["excluded_by_rule"],
          f"not answered={sum(i['overall']['missing'] for i in items.values())}")
    check("accepted", int(dq["accepted"]), sum(i["overall"]["valid"] for i in items.values()))
    check("rejected", int(dq["rejected"]), 0)

    def sentiments(summary):
        d = summary["distribution"]
        return d["4"] + d["5"], d["3"], d["1"] + d["2"]

    overall = items[OVERALL]["overall"]
    (ch,) = rows(os.path.join(out, "satisfaction_by_channel.csv"))
    pos, neu, neg = sentiments(overall)
    check("responses", int(ch["responses"]), overall["valid"])
    check("positive", int(ch["positive"]), pos)
    check("neutral", int(ch["neutral"]), neu)
    check("negative", int(ch["negative"]), neg)
    check("satisfied_pct", round(float(ch["satisfied_pct"]), 2), overall["agree_top2_pct"])
    check("dissatisfied_pct", round(float(ch["dissatisfied_pct"]), 2), overall["disagree_bottom2_pct"])

    # The survey is dated by the year 2023 alone: no month holds an answer.
    monthly = os.path.join(out, "satisfaction_monthly.csv")
    check("rows in the table by month", len(rows(monthly)) if os.path.exists(monthly) else 0, 0)

    by_age = {AGE_NAMES.get(k, k): v for k, v in items[OVERALL]["by_age"].items()}
    published = 0
    for r in rows(os.path.join(out, "equality", "equality_age_band.csv")):
        group = r["age_band"]
        if group == "All respondents":
            check("all respondents", int(r["responses"]), overall["valid"])
            continue
        e = by_age.get(group)
        if e is None:
            check(f"age {group} exists", False, True)
            continue
        if r["responses"] == "":
            continue
        published += 1
        pos, neu, neg = sentiments(e)
        check(f"age {group} responses", int(r["responses"]), e["valid"])
        check(f"age {group} at least 10", e["valid"] >= 10, True)
        for name, want in (("positive", pos), ("neutral", neu), ("negative", neg)):
            if r[name] != "":
                check(f"age {group} {name}", int(r[name]), want)
        if r["satisfied_pct"] != "":
            check(f"age {group} satisfied_pct", round(float(r["satisfied_pct"]), 2), e["agree_top2_pct"])
    check("some age groups published", published > 0, True)
    print(f"{checked} checks, {failures} differences")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

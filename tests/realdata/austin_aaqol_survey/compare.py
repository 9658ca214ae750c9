#!/usr/bin/env python3
"""Compares cex's published tables for this folder's pipeline with expected.py (standard library
only).

    cp -r tests/realdata/austin_aaqol_survey /tmp/aaqol
    cex run /tmp/aaqol/pipeline.toml --fy 2015               # publishes out/fy2015
    python3 tests/realdata/austin_aaqol_survey/compare.py /tmp/aaqol/out

Checks:
- the reconciliation of the one source (seven services on one scale, the overall question on
  another): rows read = respondents x questions, excluded ("not
  answered") = the blank answers, accepted = the rest ("Never used" answers included), nothing
  rejected or duplicated;
- `satisfaction_by_question`, every question: responses (rated), positive, neutral, negative,
  not_rated ("Never used"), the satisfied, dissatisfied and council-score percentages and the net
  satisfaction; only the overall question is flagged overall;
- `satisfaction_ratings` (the overall question) per level, and `satisfaction_by_channel`;
- the equality tables by ethnicity, age band and gender (the overall question): every group and
  "All respondents": responses, positive, neutral, negative, not_rated, satisfied_pct,
  dissatisfied_pct, net_satisfaction.

Disclosure: a blank published count is a suppressed cell, never a difference by itself. The
row's `suppression` column says why: "fewer than 10 responses" (primary: the expected count must
be 1-9) or "hidden so that another group cannot be worked out" (secondary: legitimate only when
the same table has a primary suppression). A blank count listed under neither reason is a
difference, and so is a count of 1-9 published unsuppressed; a blank percentage must be listed
in `suppressed`. Prints one line per difference and "N cells, M differences"; exits 1 when any
differs.
"""

import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
THRESHOLD = 10
COUNTS = ("responses", "positive", "neutral", "negative", "not_rated")
RATIOS = ("satisfied_pct", "dissatisfied_pct", "net_satisfaction")
PRIMARY = "fewer than 10 responses"
SECONDARY = "hidden so that another group cannot be worked out"


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def reasons(row):
    """{reason: set of cells} from a published row's `suppression` column."""
    out = {}
    for part in filter(None, row.get("suppression", "").split("; ")):
        reason, _, cells = part.partition(": ")
        out[reason] = {c.strip() for c in cells.split(",") if c.strip()}
    return out


def main():
    out = os.path.join(sys.argv[1], "fy2015")
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
    suppressed = {"primary": 0, "secondary": 0}

    def check(what, got, want):
        nonlocal failures, checked
        checked += 1
        if got != want:
            failures += 1
            print(f"DIFF {what}: cex {got!r} expected {want!r}")

    def num(value):
        return round(float(value), 6)

    questions = exp["questions"]
    overall_name = "Quality of City services"
    services = [q for q in questions if q != overall_name]

    # The reconciliation of the one source: eight questions per respondent, two scales.
    dq = {r["source"]: r for r in rows(os.path.join(out, "data_quality.csv"))}
    for source, names in (("survey", services + [overall_name]),):
        r = dq.get(source)
        if r is None:
            check(f"{source} reconciled", False, True)
            continue
        missing = sum(questions[q]["missing"] for q in names)
        check(f"{source} rows read", int(r["rows_read"]), exp["rows"] * len(names))
        check(f"{source} excluded", int(r["excluded"]), missing)
        check(f"{source} excluded by rule", r["excluded_by_rule"], f"not answered={missing}")
        check(f"{source} accepted", int(r["accepted"]),
              sum(questions[q]["valid"] + questions[q]["not_rated"] for q in names))
        check(f"{source} rejected", int(r["rejected"]), 0)
        check(f"{source} duplicates", int(r["duplicates"]), 0)

    def compare_row(what, r, e, table_primary):
        """One published row against its expected summary, blank cells as suppressions."""
        why = reasons(r)
        listed = {c.strip() for c in r.get("suppressed", "").split(",") if c.strip()}
        for cell in COUNTS:
            want = e["valid"] if cell == "responses" else e[cell]
            if r[cell] == "":
                if cell in why.get(PRIMARY, set()):
                    suppressed["primary"] += 1
                    check(f"{what} {cell} suppressed as under {THRESHOLD}",
                          1 <= want < THRESHOLD, True)
                elif cell in why.get(SECONDARY, set()):
                    suppressed["secondary"] += 1
                    check(f"{what} {cell} secondary suppression has a primary one in the table",
                          table_primary, True)
                else:
                    check(f"{what} {cell} blank without a reason", r["suppression"], "a reason")
                continue
            check(f"{what} {cell}", int(r[cell]), want)
            if 1 <= want < THRESHOLD:
                check(f"{what} {cell} under {THRESHOLD} published", "published", "suppressed")
        for cell in RATIOS:
            if r[cell] == "":
                check(f"{what} {cell} blank and listed as suppressed", cell in listed, True)
                continue
            check(f"{what} {cell}", num(r[cell]), num(e[cell]))

    # Satisfaction by question: every question, "Never used" in not_rated.
    by_q = {r["question"]: r for r in rows(os.path.join(out, "satisfaction_by_question.csv"))}
    check("questions published", sorted(by_q), sorted(questions))
    for q, e in questions.items():
        r = by_q.get(q)
        if r is None:
            continue
        compare_row(f"question {q}", r, e, False)
        check(f"question {q} council_score_pct", num(r["council_score_pct"]),
              num(e["council_score_pct"]))
        check(f"question {q} overall", r["overall"], "true" if q == overall_name else "false")

    # The overall question's rating distribution and its channel row.
    ratings = {(r["rated"], r["rating"]): r for r in rows(os.path.join(out, "satisfaction_ratings.csv"))}
    check("rating rows", sorted(ratings), sorted(("yes", level) for level in exp["ratings"]))
    for level, e in exp["ratings"].items():
        r = ratings.get(("yes", level))
        if r is None:
            continue
        check(f"rating {level} responses", int(r["responses"]), e["responses"])
        check(f"rating {level} share_pct", num(r["share_pct"]), num(e["share_pct"]))
    (ch,) = rows(os.path.join(out, "satisfaction_by_channel.csv"))
    check("channel", ch["channel"], "other")
    compare_row("channel other", ch, questions[overall_name], False)

    # The equality tables.
    for field, groups in exp["groups"].items():
        table = rows(os.path.join(out, "equality", f"equality_{field}.csv"))
        primary = any(PRIMARY in r.get("suppression", "") for r in table)
        published = {r[field]: r for r in table}
        want = sorted([g for g, e in groups.items() if e["valid"] > 0] + ["All respondents"])
        check(f"{field} groups", sorted(published), want)
        for g, r in published.items():
            e = questions[overall_name] if g == "All respondents" else groups.get(g)
            if e is None:
                continue
            compare_row(f"{field} {g}", r, e, primary)

    print(
        f"{checked} cells, {failures} differences "
        f"({suppressed['primary']} suppressed under {THRESHOLD}, "
        f"{suppressed['secondary']} secondary)"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

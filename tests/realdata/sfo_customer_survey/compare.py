#!/usr/bin/env python3
"""Compares cex's published tables for this folder's pipeline with expected.py (standard library
only).

    rm -rf /tmp/sfo && cp -r tests/realdata/sfo_customer_survey /tmp/sfo
    cd /tmp/sfo && cex run pipeline.toml --fy 2018            # publishes out/fy2018
    python3 tests/realdata/sfo_customer_survey/compare.py /tmp/sfo/out

Checks:
- the reconciliation of the one source (seven questions on the 1-5 scale, NETPRO on 0-10):
  rows read = passengers x questions, excluded ("not answered") = the codebook's blank codes
  (0 on the Q7 items, 11 on NETPRO, the text BLANK on Q7ALL: the scales' `not_answered`; there
  is no empty cell), accepted = rated answers + "6" answers (not rated), nothing rejected or
  duplicated; and that the lake holds no rejects file;
- `satisfaction_by_question`, every question: responses (rated), positive, neutral, negative,
  not_rated (the "6" answers), the satisfied, dissatisfied and council-score percentages and
  the net satisfaction (for NETPRO, the Net Promoter Score / 100); only the overall question is
  flagged overall;
- `satisfaction_ratings` (the overall question) per level, and `satisfaction_by_channel`;
- the equality tables by age band and gender (the overall question): every group and "All
  respondents": responses, positive, neutral, negative, not_rated, satisfied_pct,
  dissatisfied_pct, net_satisfaction.

Disclosure: a blank published count is a suppressed cell, never a difference by itself. The
row's `suppression` column says why: "fewer than 10 responses" (primary: the expected count must
be 1-9) or "hidden so that another group cannot be worked out" (secondary: legitimate only when
the publication has a primary suppression somewhere: cex protects the tables of a period as one
set of linked tables, so the overall question's neutral count in `satisfaction_by_question` is
hidden to protect the 6 "1 Unacceptable" answers of `satisfaction_ratings`). A blank count
listed under neither reason is a difference, and so is a count of 1-9 published unsuppressed; a
blank percentage must be listed in `suppressed`. Prints one line per difference and "N cells, M
differences"; exits 1 when any differs.
"""

import csv
import glob
import json
import os
import subprocess
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
PERIOD = "fy2018"
SOURCE = "survey"
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
    root = os.path.abspath(sys.argv[1])
    out = os.path.join(root, PERIOD)
    lake = os.path.join(os.path.dirname(root), "lake")
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
    overall_name = "SFO airport as a whole"
    check("nothing unrecognised in the demographic codes", exp["unrecognised"], {})

    # The reconciliation of the one source: eight questions per passenger, two scales, the
    # blank codes not answered.
    rec = exp["reconciliation"]
    dq = {r["source"]: r for r in rows(os.path.join(out, "data_quality.csv"))}
    r = dq.get(SOURCE)
    check(f"{SOURCE} reconciled", r is not None, True)
    if r is not None:
        check(f"{SOURCE} rows read", int(r["rows_read"]), rec["rows_read"])
        check(f"{SOURCE} excluded", int(r["excluded"]), rec["excluded"])
        check(f"{SOURCE} excluded by rule", r["excluded_by_rule"],
              f"not answered={rec['excluded']}" if rec["excluded"] else "")
        check(f"{SOURCE} accepted", int(r["accepted"]), rec["accepted"])
        check(f"{SOURCE} rejected", int(r["rejected"]), rec["rejected"])
        check(f"{SOURCE} duplicates", int(r["duplicates"]), rec["duplicates"])
        check(f"{SOURCE} rows = accepted + rejected + duplicates + excluded",
              int(r["rows_read"]),
              int(r["accepted"]) + int(r["rejected"]) + int(r["duplicates"]) + int(r["excluded"]))

    # Every reject, from the lake's rejects files: none expected (a blank code is not answered).
    rejects = []
    for path in sorted(glob.glob(os.path.join(lake, "rejects", SOURCE, "*.csv"))):
        rejects += rows(path)
    check("rejects in the lake", len(rejects), rec["rejected"])
    check("reject reasons", dict(Counter(x.get("cex_reason", x.get("reason")) for x in rejects)),
          {"rating_not_in_scale": rec["rejected"]} if rec["rejected"] else {})
    by_column = {}
    for x in rejects:
        column = x.get("cex_column", x.get("column", "")).strip()
        value = x.get("cex_value", x.get("value", "")).strip()
        by_column.setdefault(column, Counter())[value] += 1
    check("rejects by column and value", {c: dict(v) for c, v in sorted(by_column.items())},
          {c: v for c, v in sorted(rec["rejected_by_column"].items())})

    def compare_row(what, r, e):
        """One published row against its expected summary, blank cells as suppressions."""
        why = reasons(r)
        for cell in COUNTS:
            if cell not in r:
                check(f"{what} {cell} published", "missing column", "a column")
                continue
            want = e["valid"] if cell == "responses" else e[cell]
            compare_count(what, cell, r, why, want)
        for cell in RATIOS:
            blank_ratio(what, r, cell, e[cell])

    def compare_count(what, cell, r, why, want):
        if r[cell] == "":
            if cell in why.get(PRIMARY, set()):
                suppressed["primary"] += 1
                check(f"{what} {cell} suppressed as under {THRESHOLD}", 1 <= want < THRESHOLD, True)
            elif cell in why.get(SECONDARY, set()):
                suppressed["secondary"] += 1
                check(f"{what} {cell} secondary suppression has a primary one in the publication",
                      publication_primary, True)
            else:
                check(f"{what} {cell} blank without a reason", r.get("suppression", ""), "a reason")
            return
        check(f"{what} {cell}", int(r[cell]), want)
        if 1 <= want < THRESHOLD:
            check(f"{what} {cell} under {THRESHOLD} published", "published", "suppressed")

    def blank_ratio(what, r, cell, want):
        if r[cell] == "":
            check(f"{what} {cell} blank and listed as suppressed",
                  cell in {c.strip() for c in r.get("suppressed", "").split(",")}, True)
        else:
            check(f"{what} {cell}", num(r[cell]), num(want))

    # The published tables compared, read first: a secondary suppression in one protects a
    # primary one in any.
    tables = {
        name: rows(os.path.join(out, *name.split("/")))
        for name in ["satisfaction_by_question.csv", "satisfaction_ratings.csv",
                     "satisfaction_by_channel.csv"]
        + [f"equality/equality_{field}.csv" for field in exp["groups"]]
    }
    publication_primary = any(
        PRIMARY in r.get("suppression", "") for table in tables.values() for r in table
    )

    # Satisfaction by question: every question, the "6" answers in not_rated.
    by_q = {r["question"]: r for r in tables["satisfaction_by_question.csv"]}
    check("questions published", sorted(by_q), sorted(questions))
    for q, e in questions.items():
        r = by_q.get(q)
        if r is None:
            continue
        compare_row(f"question {q}", r, e)
        blank_ratio(f"question {q}", r, "council_score_pct", e["council_score_pct"])
        check(f"question {q} overall", r["overall"], "true" if q == overall_name else "false")

    # The overall question's rating distribution (every level rated; no "6" was answered to
    # Q7ALL, so no row for it is expected) and its channel row.
    ratings = {(r["rated"], r["rating"]): r for r in tables["satisfaction_ratings.csv"]}
    check("rating rows", sorted(ratings), sorted(("yes", level) for level in exp["ratings"]))
    for level, e in exp["ratings"].items():
        r = ratings.get(("yes", level))
        if r is None:
            continue
        compare_count(f"rating {level}", "responses", r, reasons(r), e["responses"])
        blank_ratio(f"rating {level}", r, "share_pct", e["share_pct"])
    (ch,) = tables["satisfaction_by_channel.csv"]
    check("channel", ch["channel"], "face_to_face")
    compare_row("channel face_to_face", ch, questions[overall_name])
    blank_ratio("channel face_to_face", ch, "council_score_pct",
                questions[overall_name]["council_score_pct"])

    # The equality tables.
    for field, groups in exp["groups"].items():
        published = {r[field]: r for r in tables[f"equality/equality_{field}.csv"]}
        want = sorted([g for g, e in groups.items() if e["valid"] > 0] + ["All respondents"])
        check(f"{field} groups", sorted(published), want)
        for g, r in published.items():
            e = questions[overall_name] if g == "All respondents" else groups.get(g)
            if e is None:
                continue
            compare_row(f"{field} {g}", r, e)

    print(
        f"{checked} cells, {failures} differences "
        f"({suppressed['primary']} suppressed under {THRESHOLD}, "
        f"{suppressed['secondary']} secondary)"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

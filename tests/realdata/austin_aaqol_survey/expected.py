#!/usr/bin/env python3
"""Independent figures for the City of Austin "Asian American Quality of Life" survey extract in
this folder (Python standard library only): what cex should publish for it. Printed as JSON.

    python3 tests/realdata/austin_aaqol_survey/expected.py [csvfile]

Without an argument the script reads the one `*.csv` beside it (see SOURCE.md): UTF-8, comma
delimiter, double-quote quoting, LF line ends, one row per respondent, read with the `csv`
module as committed.

Choices, stated so that a difference with cex can be traced to one of them:

- Questions: the seven City services (`Parks and Recs` ... `Social Services`), each answered
  "Very much satisfied", "Pretty much satisfied", "Not very much satisfied", "Not at all
  satisfied" or "Never used", and the overall rating `Quality of Service` (Excellent, Good, Fair,
  Poor), called "Quality of City services" as the pipeline labels it.
- An empty cell is "not answered" (`missing`): no response at all. "Never used" is a response
  that is not a rating (`not_rated`): counted, in no percentage's denominator. Any other text
  would be listed under `other` (there is none).
- Rated answers: the two satisfied levels (Excellent, Good) are positive, the two others
  negative; there is no neutral level. `valid` = rated answers; `satisfied_pct` = positive /
  valid x 100; `dissatisfied_pct` = negative / valid x 100; `council_score_pct` = (positive -
  negative) / valid x 100; `net_satisfaction` = the mean score with the weights the pipeline
  gives the levels (1, 0.5, -0.5, -1 from best to worst). Not rounded: compare at 1e-6.
- `ratings`: for the overall question (the one cex's rating distribution uses), the responses
  per level and their share of valid answers.
- Groups (for the overall question only, each respondent once): `Ethnicity` as written;
  `Gender` as written; the age in years banded 18-24, 25-34, ..., 75-84, 85+. An empty cell is
  the group "Not answered"; a value no band or category takes would be listed under
  `unrecognised` (there is none). Every respondent row counts in its group, whatever it
  answered.
"""

import csv
import glob
import json
import os
import sys
from collections import Counter, OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))

SERVICES = ["Parks and Recs", "Libraries", "Public Safety", "Airport", "Austin Energy", "Court",
            "Social Services"]
OVERALL_COLUMN = "Quality of Service"
OVERALL = "Quality of City services"
SATISFACTION = {
    "Very much satisfied": ("positive", 1.0),
    "Pretty much satisfied": ("positive", 0.5),
    "Not very much satisfied": ("negative", -0.5),
    "Not at all satisfied": ("negative", -1.0),
}
EXCELLENT_POOR = {
    "Excellent": ("positive", 1.0),
    "Good": ("positive", 0.5),
    "Fair": ("negative", -0.5),
    "Poor": ("negative", -1.0),
}
NOT_RATED = {"Never used"}
ETHNICITIES = ["Asian Indian", "Chinese", "Filipino", "Korean", "Vietnamese", "Other"]
GENDERS = ["Female", "Male"]
BANDS = [(18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 84), (85, 200)]


def band(age):
    for lo, hi in BANDS:
        if lo <= age <= hi:
            return "85+" if lo == 85 else f"{lo}-{hi}"
    return None


def summarise(cells, scale):
    levels = Counter()
    counts = Counter()
    other = Counter()
    score = 0.0
    for cell in cells:
        text = cell.strip()
        if text == "":
            counts["missing"] += 1
        elif text in scale:
            sentiment, weight = scale[text]
            levels[text] += 1
            counts[sentiment] += 1
            score += weight
        elif text in NOT_RATED:
            counts["not_rated"] += 1
        else:
            other[text] += 1
    valid = counts["positive"] + counts["negative"]
    out = OrderedDict()
    out["valid"] = valid
    out["positive"] = counts["positive"]
    out["neutral"] = 0
    out["negative"] = counts["negative"]
    out["not_rated"] = counts["not_rated"]
    out["missing"] = counts["missing"]
    out["levels"] = {level: levels[level] for level in scale}
    if valid:
        out["satisfied_pct"] = 100.0 * counts["positive"] / valid
        out["dissatisfied_pct"] = 100.0 * counts["negative"] / valid
        out["council_score_pct"] = 100.0 * (counts["positive"] - counts["negative"]) / valid
        out["net_satisfaction"] = score / valid
    if other:
        out["other"] = dict(other)
    return out


def main():
    if len(sys.argv) > 1:
        path = sys.argv[1]
    else:
        (path,) = glob.glob(os.path.join(HERE, "*.csv"))
    with open(path, newline="", encoding="utf-8") as f:
        data = list(csv.DictReader(f))

    result = OrderedDict()
    result["file"] = os.path.basename(path)
    result["rows"] = len(data)
    ids = Counter(r["Survey ID"] for r in data)
    result["survey_ids_shared"] = sorted(k for k, v in ids.items() if v > 1)

    questions = OrderedDict()
    for column in SERVICES:
        questions[column] = summarise([r[column] for r in data], SATISFACTION)
    questions[OVERALL] = summarise([r[OVERALL_COLUMN] for r in data], EXCELLENT_POOR)
    result["questions"] = questions

    overall = questions[OVERALL]
    result["ratings"] = {
        level: {"responses": n, "share_pct": 100.0 * n / overall["valid"]}
        for level, n in overall["levels"].items()
    }

    unrecognised = Counter()

    def group(row, field):
        text = row[field].strip()
        if text == "":
            return "Not answered"
        if field == "Age":
            b = band(int(text)) if text.isdigit() else None
            if b is None:
                unrecognised[f"Age={text}"] += 1
            return b or text
        if text not in (ETHNICITIES if field == "Ethnicity" else GENDERS):
            unrecognised[f"{field}={text}"] += 1
        return text

    groups = OrderedDict()
    for name, field in (("ethnicity", "Ethnicity"), ("age_band", "Age"), ("gender", "Gender")):
        cells = {}
        for r in data:
            cells.setdefault(group(r, field), []).append(r[OVERALL_COLUMN])
        groups[name] = {g: summarise(c, EXCELLENT_POOR) for g, c in sorted(cells.items())}
    result["groups"] = groups
    result["unrecognised"] = dict(unrecognised)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

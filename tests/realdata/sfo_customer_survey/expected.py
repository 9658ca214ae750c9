#!/usr/bin/env python3
"""Independent figures for the San Francisco International Airport (SFO) Customer Survey 2018
extract in this folder (Python standard library only): what cex should publish for it. Printed
as JSON.

    python3 tests/realdata/sfo_customer_survey/expected.py [csvfile]

Without an argument the script reads the one `*.csv` beside it (see SOURCE.md): UTF-8 (ASCII
only), comma delimiter, no quoting needed, LF line ends, one row per passenger, read with the
`csv` module as committed. Column names are compared with surrounding spaces removed (the
export writes `NETPRO  `); values are compared as written, after removing surrounding spaces.

Choices, stated so that a difference with cex can be traced to one of them (the codes are the
codebook's, `sfo_2018_Data_Dictionary_DataSF.xlsx`, sheet "Code List"):

- Questions: six Q7 services (`Q7ART`, `Q7FOOD`, `Q7SIGN`, `Q7WIFI`, `Q7INFODOWN`, `Q7RENTAL`)
  and `Q7ALL` ("SFO airport as a whole", the overall question), each coded 5 (Outstanding),
  4, 3, 2, 1 (Unacceptable), 6 ("Have never used or visited / Not applicable") or 0 ("Blank");
  and `NETPRO`, the likelihood to recommend SFO, 0 (Not at all likely) to 10 (Extremely likely),
  11 = "Blank". Each is called as the pipeline labels it.
- Sentiments. Q7: 5 and 4 positive, 3 neutral, 2 and 1 negative, with the weights 1, 0.5, 0,
  -0.5, -1 the pipeline gives them. NETPRO, grouped as the Net Promoter Score groups it: 9-10
  positive (promoters), 7-8 neutral (passives), 0-6 negative (detractors), weights 1, 0, -1.
- 6 on a Q7 item is a response that is not a rating (`not_rated`): counted, in no percentage's
  denominator.
- Blank codes: 0 on a Q7 item, 11 on NETPRO, and the text `BLANK` that Q7ALL holds instead of 0
  (`blank_code`), are not answers: the question was left blank. The pipeline lists them as its
  scales' `not_answered` codes, so cex is expected to treat them as empty cells: excluded as
  "not answered", in no figure, counted as excluded in the reconciliation. An empty cell
  (`missing`, excluded too) and any other text (`other`, which cex would reject) are counted
  apart; there are none in this extract.
- `valid` = rated answers (positive + neutral + negative); `satisfied_pct` = positive / valid
  x 100; `dissatisfied_pct` = negative / valid x 100; `council_score_pct` = (positive + neutral
  - negative) / valid x 100; `net_satisfaction` = the mean weight. Unweighted (the survey's
  WEIGHT column is not in the extract). Not rounded: compare at 1e-6.
- `reconciliation`: every (passenger, question) cell is one row read; excluded = empty cells +
  blank codes; rejected = other; accepted = valid + not_rated; no duplicates (RESPNUM is
  unique). `rejected_by_column` gives the rejects per column and value (none expected), and
  `blank_codes_by_column` the blank codes per column and value.
- `ratings`: for the overall question (the one cex's rating distribution uses), the responses
  per level and their share of valid answers.
- Groups (for the overall question only, each passenger once): `Q20Age` 1 Under 18, 2 18-24,
  3 25-34, 4 35-44, 5 45-54, 6 55-64, 7 65 and over; `Q21Gender` 1 Male, 2 Female, 3
  Non-Binary; 0 ("Blank/Multiple responses") and an empty cell are the group "Not answered"; a
  code not in the codebook would be listed under `unrecognised` (there is none). Every passenger
  counts in a group whatever they answered to Q7ALL.
"""

import csv
import glob
import json
import os
import sys
from collections import Counter, OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))

OVERALL = "SFO airport as a whole"
# column -> (label, scale name), in the pipeline's order
QUESTIONS = OrderedDict([
    ("Q7ALL", (OVERALL, "q7")),
    ("Q7ART", ("Artwork and exhibitions", "q7")),
    ("Q7FOOD", ("Restaurants", "q7")),
    ("Q7SIGN", ("Signs and directions inside SFO", "q7")),
    ("Q7WIFI", ("Free wi-fi", "q7")),
    ("Q7INFODOWN", ("Information booths (lower level)", "q7")),
    ("Q7RENTAL", ("Airport rental car center", "q7")),
    ("NETPRO", ("Would recommend SFO (0-10)", "netpro")),
])
# code -> (level label as the pipeline names it, sentiment, weight)
SCALES = {
    "q7": OrderedDict([
        ("5", ("5 Outstanding", "positive", 1.0)),
        ("4", ("4", "positive", 0.5)),
        ("3", ("3", "neutral", 0.0)),
        ("2", ("2", "negative", -0.5)),
        ("1", ("1 Unacceptable", "negative", -1.0)),
    ]),
    "netpro": OrderedDict(
        [("10", ("10 Extremely likely", "positive", 1.0)), ("9", ("9", "positive", 1.0)),
         ("8", ("8", "neutral", 0.0)), ("7", ("7", "neutral", 0.0))]
        + [(str(v), (str(v), "negative", -1.0)) for v in range(6, 0, -1)]
        + [("0", ("0 Not at all likely", "negative", -1.0))]
    ),
}
NOT_RATED = {"q7": {"6"}, "netpro": set()}
BLANK_CODES = {"q7": {"0", "BLANK"}, "netpro": {"11"}}
AGE = {"1": "Under 18", "2": "18-24", "3": "25-34", "4": "35-44", "5": "45-54", "6": "55-64",
       "7": "65 and over"}
GENDER = {"1": "Male", "2": "Female", "3": "Non-Binary"}
NOT_ANSWERED = {"0", ""}


def summarise(cells, scale):
    levels = Counter()
    counts = Counter()
    blank_codes = Counter()
    other = Counter()
    score = 0.0
    for cell in cells:
        text = cell.strip()
        if text == "":
            counts["missing"] += 1
        elif text in SCALES[scale]:
            label, sentiment, weight = SCALES[scale][text]
            levels[label] += 1
            counts[sentiment] += 1
            score += weight
        elif text in NOT_RATED[scale]:
            counts["not_rated"] += 1
        elif text in BLANK_CODES[scale]:
            blank_codes[text] += 1
        else:
            other[text] += 1
    valid = counts["positive"] + counts["neutral"] + counts["negative"]
    out = OrderedDict()
    out["valid"] = valid
    out["positive"] = counts["positive"]
    out["neutral"] = counts["neutral"]
    out["negative"] = counts["negative"]
    out["not_rated"] = counts["not_rated"]
    out["missing"] = counts["missing"]
    out["blank_code"] = sum(blank_codes.values())
    out["blank_codes"] = dict(sorted(blank_codes.items()))
    out["levels"] = {label: levels[label] for label, _, _ in SCALES[scale].values()}
    if valid:
        out["satisfied_pct"] = 100.0 * counts["positive"] / valid
        out["dissatisfied_pct"] = 100.0 * counts["negative"] / valid
        out["council_score_pct"] = (
            100.0 * (counts["positive"] + counts["neutral"] - counts["negative"]) / valid
        )
        out["net_satisfaction"] = score / valid
    out["other"] = dict(other)
    return out


def main():
    if len(sys.argv) > 1:
        path = sys.argv[1]
    else:
        (path,) = glob.glob(os.path.join(HERE, "*.csv"))
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        data = [dict(zip(header, row)) for row in reader]
        assert all(len(r) == len(header) for r in data)

    result = OrderedDict()
    result["file"] = os.path.basename(path)
    result["rows"] = len(data)
    ids = Counter(r["RESPNUM"] for r in data)
    result["respnum_shared"] = sorted(k for k, v in ids.items() if v > 1)

    questions = OrderedDict()
    for column, (label, scale) in QUESTIONS.items():
        questions[label] = summarise([r[column] for r in data], scale)
    result["questions"] = questions

    rec = OrderedDict()
    rec["rows_read"] = len(data) * len(QUESTIONS)
    rec["excluded"] = sum(q["missing"] + q["blank_code"] for q in questions.values())
    rec["accepted"] = sum(q["valid"] + q["not_rated"] for q in questions.values())
    rec["rejected"] = sum(sum(q["other"].values()) for q in questions.values())
    rec["duplicates"] = len(data) - len(ids)
    rec["rejected_by_column"] = {
        column: dict(questions[label]["other"])
        for column, (label, _) in QUESTIONS.items()
        if questions[label]["other"]
    }
    rec["blank_codes_by_column"] = {
        column: dict(questions[label]["blank_codes"])
        for column, (label, _) in QUESTIONS.items()
        if questions[label]["blank_code"]
    }
    assert rec["rows_read"] == rec["excluded"] + rec["accepted"] + rec["rejected"]
    result["reconciliation"] = rec

    overall = questions[OVERALL]
    result["ratings"] = {
        level: {"responses": n, "share_pct": 100.0 * n / overall["valid"]}
        for level, n in overall["levels"].items()
    }

    unrecognised = Counter()

    def group(row, column, codes):
        text = row[column].strip()
        if text in NOT_ANSWERED:
            return "Not answered"
        if text not in codes:
            unrecognised[f"{column}={text}"] += 1
            return text
        return codes[text]

    groups = OrderedDict()
    for name, column, codes in (("age_band", "Q20Age", AGE), ("gender", "Q21Gender", GENDER)):
        cells = {}
        for r in data:
            cells.setdefault(group(r, column, codes), []).append(r["Q7ALL"])
        groups[name] = {g: summarise(c, "q7") for g, c in sorted(cells.items())}
    result["groups"] = groups
    result["unrecognised"] = dict(unrecognised)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

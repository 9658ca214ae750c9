#!/usr/bin/env python3
"""Independent figures for the City of Toronto Public Engagement Review survey extract in this
folder (Python standard library only). Printed as JSON.

    python3 tests/realdata/toronto_per_survey/expected.py [csvfile]

Without an argument the script reads `PER_public_survey_lines1-600.csv` beside it. The file is
read with the `csv` module exactly as committed: Windows-1252 (cp1252) text, comma delimiter,
double-quote quoting, LF line ends, one row per respondent (see SOURCE.md).

Choices, stated so that a difference with cex can be traced to one of them:

- Rating items: the 21 five-point agreement items 3.1-3.11 and 7.1-7.10. Their labels are text.
  Block 3 writes them in sentence case ("Strongly agree"), block 7 in title case ("Strongly
  Agree"); both are read case-insensitively and scored
  Strongly disagree=1, Disagree=2, Neither agree nor disagree=3, Agree=4, Strongly agree=5.
- An empty cell is "not answered" (`missing`). The items have no "don't know" option; any cell
  that is neither empty nor one of the five labels would be counted under `dont_know_or_other`
  with its text listed (there are none in this extract, so `dont_know_or_other` is 0 throughout).
- `valid` = cells scored 1-5; `mean` = mean score of the valid cells; `agree_top2_pct` =
  (Agree + Strongly agree) / valid x 100; `disagree_bottom2_pct` = (Disagree + Strongly
  disagree) / valid x 100. Percentages and means are rounded to 2 decimals with round().
  Items 3.4, 3.6, 3.11 and 7.1, 7.2 are worded negatively; no reversal is applied.
- The "3.12. Other" / "7.11. Other" pairs are left out: in the export the rating sits in the
  column headed "..., please specify" and the free text in the column headed "Other" (swapped).
- Breakdown by "10. What is your age?": the group label is the cell as written ("30-64",
  "Prefer not to answer", ...); an empty cell is the group "(blank)". Group sizes count every
  respondent row. Group sizes are also printed for gender (17), disability (16, which has a
  "Don't know" answer) and Indigenous identity (13).
"""

import csv
import json
import os
import sys
from collections import Counter, OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "PER_public_survey_lines1-600.csv")

SCALE = {
    "strongly disagree": 1,
    "disagree": 2,
    "neither agree nor disagree": 3,
    "agree": 4,
    "strongly agree": 5,
}
ITEMS = ["3.%d" % i for i in range(1, 12)] + ["7.%d" % i for i in range(1, 11)]
DEMOGRAPHICS = {
    "age": "10. ",
    "indigenous": "13. ",
    "disability": "16. ",
    "gender": "17. ",
}


def column(header, prefix):
    """Index of the single column whose name starts with `prefix` (e.g. "3.1. ", "10. ")."""
    hits = [i for i, name in enumerate(header) if name.startswith(prefix)]
    # "11." and "12." etc. have a second "... - other" column; the coded one comes first.
    if not hits:
        raise SystemExit("no column starting with %r" % prefix)
    return hits[0]


def summarise(cells):
    counts = Counter()
    other = Counter()
    for cell in cells:
        text = cell.strip()
        if text == "":
            counts["missing"] += 1
        elif text.lower() in SCALE:
            counts[SCALE[text.lower()]] += 1
        else:
            counts["dont_know_or_other"] += 1
            other[text] += 1
    valid = sum(counts[k] for k in range(1, 6))
    total = sum(counts[k] for k in range(1, 6)) * 1.0
    out = OrderedDict()
    out["n_rows"] = len(cells)
    out["valid"] = valid
    out["missing"] = counts["missing"]
    out["dont_know_or_other"] = counts["dont_know_or_other"]
    out["distribution"] = OrderedDict((str(k), counts[k]) for k in range(1, 6))
    if valid:
        out["mean"] = round(sum(k * counts[k] for k in range(1, 6)) / total, 2)
        out["agree_top2_pct"] = round((counts[4] + counts[5]) * 100.0 / valid, 2)
        out["disagree_bottom2_pct"] = round((counts[1] + counts[2]) * 100.0 / valid, 2)
    else:
        out["mean"] = None
        out["agree_top2_pct"] = None
        out["disagree_bottom2_pct"] = None
    if other:
        out["other_values"] = dict(other)
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    with open(path, encoding="cp1252", newline="") as fh:
        rows = list(csv.reader(fh))
    header, data = rows[0], rows[1:]
    widths = Counter(len(r) for r in data)

    idx = {item: column(header, item + ". ") for item in ITEMS}
    demo_idx = {k: column(header, p) for k, p in DEMOGRAPHICS.items()}

    def group_of(row, key):
        value = row[demo_idx[key]].strip()
        return value if value else "(blank)"

    result = OrderedDict()
    result["file"] = os.path.basename(path)
    result["rows"] = len(data)
    result["columns"] = len(header)
    result["row_widths"] = {str(k): v for k, v in widths.items()}
    result["respondent_ids"] = {
        "first": data[0][0],
        "last": data[-1][0],
        "duplicates": sum(1 for v in Counter(r[0] for r in data).values() if v > 1),
    }
    result["group_sizes"] = OrderedDict(
        (k, dict(sorted(Counter(group_of(r, k) for r in data).items())))
        for k in DEMOGRAPHICS
    )

    items = OrderedDict()
    for item in ITEMS:
        i = idx[item]
        entry = OrderedDict()
        entry["column"] = header[i]
        entry["overall"] = summarise([r[i] for r in data])
        by_age = OrderedDict()
        for group in sorted(set(group_of(r, "age") for r in data)):
            cells = [r[i] for r in data if group_of(r, "age") == group]
            by_age[group] = summarise(cells)
        entry["by_age"] = by_age
        items[item] = entry
    result["items"] = items
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

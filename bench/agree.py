#!/usr/bin/env python3
"""Checks that bench/polars_ref.py and cex agree, cell by cell.

    bench/agree.py CEX_PUBLICATION POLARS_OUT [EXPECTED_COUNTS_JSON]

CEX_PUBLICATION is cex's `out/fy2023-24` folder from `cex run ... --source
telephony,webforms,satisfaction --fy 2023/24` (and, if there, the unsuppressed analyst's tables of
`cex equality ... --fy 2023/24 --unsuppressed` with `--by channel`, `--by age_band` and `--by
age_band,channel`, in out/restricted/equality/fy2023-24-by-*-NOT-FOR-PUBLICATION, which have no
blank cells); POLARS_OUT the folder `bench/polars_ref.py DATA LAKE
POLARS_OUT` wrote. Compares, on the same key columns, every figure of:
  volumes.csv                              <- volumes (year, month, channel, service, outcome)
  contact_centre.csv                       <- contact_centre (year, month, service, queue)
  satisfaction_by_channel.csv              <- satisfaction_by_channel (channel)
  equality/equality_age_band_by_channel.csv <- age_band_by_channel (age band, channel)
  equality/equality_age_band.csv           <- age_band (age band)
Counts must be equal; other numbers equal to a relative 1e-9. A cell cex publishes blank (disclosure
control, or no answered calls) is not compared and is counted as such. Rows only one side has are
listed: cex's volumes show a month with no contacts on a channel as a 0 row, which the reference
(a group-by) does not produce, and cex's equality tables have an "All respondents" row; both are
counted apart, not as differences. With EXPECTED_COUNTS_JSON (the generator's ground truth), the
reference's rows, rejects by reason and duplicates per source are checked against it too.
Exit code 1 when anything differs.
"""
import json
import math
import os
import sys
from collections import Counter, defaultdict

import polars as pl

cex_dir, ref_dir = sys.argv[1], sys.argv[2]
expected = sys.argv[3] if len(sys.argv) > 3 else None

TABLES = [
    ("volumes.csv", "volumes", ["year", "month", "channel", "service", "outcome"], ["contacts"]),
    ("contact_centre.csv", "contact_centre", ["year", "month", "service", "queue"],
     ["offered", "answered", "abandoned", "callbacks", "short_abandons", "answered_within",
      "resolved_first", "resolution_known", "abandonment_rate_pct", "asa_seconds",
      "service_level_pct", "aht_seconds", "first_contact_resolution_pct"]),
    ("satisfaction_by_channel.csv", "satisfaction_by_channel", ["channel"],
     ["responses", "positive", "neutral", "negative", "council_score_pct", "net_satisfaction",
      "satisfied_pct", "dissatisfied_pct"]),
    ("equality/equality_age_band_by_channel.csv", "age_band_by_channel", ["age_band", "channel"],
     ["responses", "positive", "neutral", "negative", "net_satisfaction", "satisfied_pct",
      "dissatisfied_pct"]),
    ("equality/equality_age_band.csv", "age_band", ["age_band"],
     ["responses", "positive", "neutral", "negative", "net_satisfaction", "satisfied_pct",
      "dissatisfied_pct"]),
]

# The same figures unsuppressed, when the analyst's folders are there (`cex equality ... --by
# age_band,channel --unsuppressed`, and `--by age_band`, `--by channel`): every cell compared.
SATISFACTION = ["responses", "positive", "neutral", "negative", "net_satisfaction", "satisfied_pct",
                "dissatisfied_pct"]
restricted = os.path.join(os.path.dirname(os.path.abspath(cex_dir)), "restricted", "equality",
                          os.path.basename(os.path.abspath(cex_dir)))
for by, table, ref_name, keys in [
    ("channel", "equality_channel", "satisfaction_by_channel", ["channel"]),
    ("age_band-channel", "equality_age_band_by_channel", "age_band_by_channel", ["age_band", "channel"]),
    ("age_band", "equality_age_band", "age_band", ["age_band"]),
]:
    TABLES.append((f"{restricted}-by-{by}-NOT-FOR-PUBLICATION/{table}.csv", ref_name, keys, SATISFACTION))


def rows(path, keys, values):
    df = pl.read_csv(path, infer_schema=False)
    return {tuple(r[k] for k in keys): {v: r[v] for v in values} for r in df.iter_rows(named=True)}


def same(a, b):
    x, y = float(a), float(b)
    return x == y or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


problems = []
total = Counter()
for cex_file, ref_name, keys, values in TABLES:
    path = cex_file if cex_file.startswith("/") else f"{cex_dir}/{cex_file}"
    if not os.path.exists(path):
        continue
    cex = rows(path, keys, values)
    ref = rows(f"{ref_dir}/{ref_name}.csv", keys, values)
    n = Counter({"cells compared": 0, "differences": 0})
    for key, cells in cex.items():
        if key not in ref:
            if cex_file == "volumes.csv" and cells["contacts"] == "0":
                n["zero rows only in cex"] += 1
            elif "All respondents" in key:
                n["'All respondents' rows only in cex"] += 1
            else:
                problems.append(f"{cex_file}: row {key} only in cex")
            continue
        for v in values:
            c, r = cells[v], ref[key][v]
            if c in (None, ""):
                n["blank in cex (not compared)"] += 1
                continue
            n["cells compared"] += 1
            if r in (None, "") or not same(c, r):
                n["differences"] += 1
                problems.append(f"{cex_file} {key} {v}: cex {c}, reference {r}")
    for key in ref.keys() - cex.keys():
        problems.append(f"{cex_file}: row {key} only in the reference")
        n["rows only in the reference"] += 1
    n["rows"] = len(cex)
    label = cex_file if not cex_file.startswith("/") else "unsuppressed " + os.path.basename(cex_file)
    print(f"{label:46} " + ", ".join(f"{k} {v}" for k, v in n.items()))
    total.update(n)
print(f"{'all tables':46} " + ", ".join(f"{k} {v}" for k, v in total.items()))

if expected:
    counts = json.load(open(f"{ref_dir}/ingest.json"))
    want = defaultdict(Counter)
    for f in json.load(open(expected))["files"]:
        if f["resent_of"] is None:
            want[f["source"]]["rows"] += f["rows"]
            want[f["source"]]["duplicates"] += f["duplicates"]
            want[f["source"]].update({f"rejected {r}": n for r, n in f["rejects"].items()})
    for source, got in counts.items():
        g = Counter({"rows": got["rows"], "duplicates": got["duplicates"]})
        g.update({f"rejected {r}": n for r, n in got["rejects"].items()})
        status = "as expected" if g == want[source] else f"expected {dict(want[source])}"
        if g != want[source]:
            problems.append(f"ingest {source}: got {dict(g)}, {status}")
        print(f"ingest {source:37} rows {got['rows']}, accepted {got['accepted']}, rejected "
              f"{sum(got['rejects'].values())}, duplicates {got['duplicates']}: {status}")

for p in problems[:50]:
    print("DIFFERENCE", p)
if len(problems) > 50:
    print(f"... {len(problems) - 50} more")
sys.exit(1 if problems else 0)

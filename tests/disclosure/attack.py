#!/usr/bin/env python3
"""An independent attacker on a published cex folder (issue 14): can a suppressed cell be worked out?

It reads only what is published: a period's folder `out/<period>/` (the KPI tables as CSV, with
`tables.json`) and its `equality/` folder (or an equality-only folder). Nothing of cex is used.

Every survey-derived count is a cell of one hidden contingency cube (scope, demographic fields,
channel, service, month, rating, sentiment). A published row is a *cohort* of that cube, keyed by
the (dimension, value) pairs of its group columns: an "All respondents" row drops its field, a
month is YYYY-MM (and implies its financial year), and a table without organisation or financial
year columns (the equality tables) gets the single ones of the KPI survey tables beside it. Each
count cell of each table is a variable: a printed count is a constant, a blank one (listed in the
row's `suppressed` column) an unknown integer >= 0. The attacker knows only the published rule
(primary cells are 1..threshold-1, secondary ones any count), so it assumes nothing more.

Relations (the `kind`s of the verdict):
- parts:       in a row, the cohort is the sum of its parts (positive + neutral + negative =
               responses; in `channel_use_*` the channel counts = responses). A `not_rated`
               count (answers that are not a rating: "don't know") is no part of `responses`: it
               is its own cohort (`rated` = no), which sums over the groups like any other;
               the ratings table's rows with `rated` = no (one per such answer) sum to it.
- totals:      a table's groups sum to its own total row ("All respondents").
- cross_table: a table's groups sum to a cohort of another table (a field-by-channel table summed
               over the channel is the one-way table, summed over the field the channel's cohort;
               months sum to the year; services and ratings sum to the channel). A table lists
               every non-empty group, so a group it does not list is 0. A cohort no table prints is
               a shared unknown.
- same_cohort: one cohort printed in two tables is one number (one-way table, channel use,
               representation, KPI tables); a rating is taken for a sentiment (Good = positive)
               where every cohort printing both agrees, for one sentiment only.
- share:       share x total = count: share_pct (of all respondents, or of the channel's ratings),
               survey_share_pct (of all channels), <channel>_pct and digital_share_pct (of the
               row), respondent_share_pct or representation_ratio x population_share_pct.
- pct:         satisfied_pct x N = 100 positive, dissatisfied_pct x N = 100 negative,
               council_score_pct x N = 100 (pos + neu - neg), net_satisfaction and net_score x N =
               pos - neg.
- rate:        response_rate_pct x contacts = 100 responses (contacts are published volumes).
- difference:  dissatisfied_difference_pp: the rest's (or the reference group's) rate is the
               group's rate minus the difference: 100 x (others' negatives) = rate x (others' N).
- dominant:    dominant_service_count <= negative.
- weighted:    satisfaction weighted to the contact mix (`satisfaction_weighted`) with the weights
               behind it (`satisfaction_weights`, one row per weighted row and cell; weights are
               printed, so each figure is linear in the cells' counts): Σ w (pos + neu - neg) x
               100 = weighted_council_score_pct x Σ w n, Σ w pos x 100 = weighted_satisfied_pct x
               Σ w n, Σ w n = sum_weights, Σ w² n = sum_weights² / n_eff, Σ n =
               weighted_responses, Σ n of capped cells = capped_responses, and an uncapped cell
               weighted on its own counts has n = contacts / weight.
With `--earlier` (several publications of one financial year, each a *release*), between releases:
- same_month:  a count cell (same table, cohort key and column) of a cohort of one month (its key
               has a month: `satisfaction_monthly`) is the same number in every release printing
               it. An assumption: no answer of a month arrives after its first publication
               (where two releases print another count, that family is dropped, see below).
               Not between two releases ending with the same month (a month published again,
               because its data changed: late answers): there it is a release_difference.
- release_difference: any other cell counts the financial year to date, so a later release's
               count is the earlier one's plus an unknown d >= 0 (whole, as both counts are).
               Each release is linked to the next one holding the cell; the MIP chains the rest.
               Between releases a family is (kind, table, earlier folder, later folder).
A printed ratio p = scale x num / den is the interval constraint (p - t) den <= scale num <=
(p + t) den, t half a unit of the last printed decimal (1e-9 relative in a column printed at full
precision). Each family of relations (kind, table, column) is first checked on the rows where all
its terms are printed; a family that fails there is dropped and reported (a wrong guess about a
layout must not invent recoveries; `--truth` checks the rest). Wilson intervals and p-values
(non-linear) are not used.

For each suppressed cell the tightest integer bounds come from mixed-integer programming (scipy's
HiGHS; the best bound it proved if time runs out). A cell is recoverable when upper - lower <
threshold (0: pinned exactly); its `kinds` are those of the relations it appears in. Survey counts from 1 to threshold - 1 printed as
they are are listed as `published_small`. Exit code 0 when nothing is recoverable nor printed
small, 1 when something is (or when the relations contradict each other: "inconclusive"), 2 on a
usage error.

Several releases (`--earlier DIR`, repeatable: the publications before this one in its financial
year). Each folder is read, modelled and checked as above on its own, with one scope for all (the
folders' organisation and financial year, which must agree) and the strictest threshold any of
them states; its variables and failed families name their `folder`; same_month and
release_difference join them. Releases are ordered by the last month they cover: the folder's
name (`2025-03`; a whole year's `fy2024-25` or `fy2024` after every month), else the latest month
of its `satisfaction_monthly`; if a folder says neither, as given (the `--earlier` ones in their
order, then the publication). Every blank cell of every release is bounded (an earlier release's
blank can be given away by a later one). For each pair of releases (not only neighbours) and each
count cell both print a row for, later - earlier is a count of respondents. Printed in both, it is
known: from 1 to threshold - 1 it is listed in `published_small_differences` (both folders, table,
row, column, both values, the difference), and fails the verdict like a small count printed.
Blank in either, it is bounded (by the blank's bounds, or by the MIP on later - earlier when both
are blank): narrower than the threshold and meeting 1..threshold-1, it is listed in `recoverable`
with `earlier` (the earlier folder; `folder` is the later one) and `kinds` ["release_difference"].
The verdict adds `releases` (in order, with the last month each covers),
`published_small_differences(_count)`, `suppressed_by_folder` and `recoverable_by_folder`;
`tables` is per folder; a failed family between releases has `folder` "releases"; `--truth` is the
unsuppressed run of the publication (the positional folder) and checks its cells only. Not
linked between releases: a dominant service's count (of whichever service dominates), a cohort
no table prints, and a cohort one release prints only in another table than the other (it is
linked only through each release's own same_cohort). Two releases covering the same months are
still only taken as d >= 0 apart.

    python3 tests/disclosure/attack.py out/2025-03 [--earlier out/2025-02 ...] [--truth DIR]
        [--threshold 10] [--out verdict.json] [--only parts,totals,...]
"""
import argparse
import csv
import json
import math
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix, vstack

SENTIMENTS = ("positive", "neutral", "negative")
# Answers that are not a rating, printed beside `responses` (the rated ones) and outside it.
NOT_RATED = "not_rated"
# `satisfaction_ratings` with such answers: a `rated` column, yes for the rating rows (the rated
# responses every other count is of: no dimension) and no for an answer that is not a rating
# (its row is part of the `rated` = no cohort, which sums over the answers).
RATED_YES = ("rated", "yes")
DIGITAL = ("web", "webchat", "email", "social")
ALL = "All respondents"
NON_RESPONSE = ("Not answered", "Prefer not to say")
SCOPE = ("organisation", "financial_year")
# A wide survey's question: a dimension whose values overlap (one respondent, many questions).
QUESTION = "question"
KINDS = ("parts", "totals", "cross_table", "same_cohort", "share", "pct", "rate", "difference",
         "dominant", "weighted", "same_month", "release_difference")
# A total row of the weighted satisfaction tables (it drops `service`, like "All respondents").
ALL_SERVICES = "All services"
TOTALS = (ALL, ALL_SERVICES)
WEIGHTED = "satisfaction_weighted"
WEIGHTS = "satisfaction_weights"
DSC = "dominant_service_count"
# Text columns before the counts that are not group columns (representation; months).
NOT_GROUPS = {"field", "group", "year", "month", "scope", "weighting"}


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def decimals(text):
    text = text.strip().lower()
    if "e" in text:
        return 17
    return len(text.split(".", 1)[1]) if "." in text else 0


class Table:
    """One published CSV: its rows, group columns, and how precisely each column is printed."""

    def __init__(self, name, path):
        self.name = name
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            self.header = list(reader.fieldnames or [])
            self.rows = list(reader)
        # polars prints floats as the shortest text that reads back exactly: a column holding a
        # long decimal is at full precision, and its short values ("50.0") are exact too.
        self.full = {c for c in self.header
                     if any(decimals(r[c]) >= 8 for r in self.rows if number(r[c]) is not None)}
        # Group columns come first: the text columns before the counts.
        first = min([self.header.index(c) for c in ("responses", "respondents")
                     if c in self.header] or [len(self.header)])
        self.dims = [c for c in self.header[:first] if c not in NOT_GROUPS
                     and any(number(r[c]) is None and r[c] != "" for r in self.rows)]
        # channel_use_*: a count and a <channel>_pct column per channel.
        self.channels = [c for c in self.header[first + 1:] if f"{c}_pct" in self.header]

    def value(self, row, column):
        return number(row[column]) if column in self.header else None

    def tol(self, row, column):
        if column in self.full:
            return 1e-9 * max(1.0, abs(number(row[column])))
        return 0.5 * 10.0 ** -decimals(row[column]) + 1e-12


def freeze(key):
    return tuple(sorted(key.items()))


def without(key, dim):
    return {k: v for k, v in key.items() if k != dim}


class Model:
    """Variables (a count cell of a table, or a cohort no table prints) and linear relations
    lo <= sum(coef x var) <= hi between them."""

    def __init__(self):
        self.vars = []  # dicts: table, key, column, row, value (None: unknown)
        self.at = {}  # (table, frozen key) -> var
        self.by_key = defaultdict(list)  # frozen key -> vars, in reading order
        self.relations = []  # (kind, family, {var: coef}, lo, hi)

    def var(self, table, key, column, label, value):
        v = len(self.vars)
        self.vars.append({"table": table, "key": freeze(key), "column": column, "row": label,
                          "value": value})
        self.at[(table, freeze(key))] = v
        self.by_key[freeze(key)].append(v)
        return v

    def cohort(self, key, table):
        """The variable of a cohort: the table's own (True) or another table's (False); None
        when no table prints it."""
        k = freeze(key)
        if (table, k) in self.at:
            return self.at[(table, k)], True
        return (self.by_key[k][0], False) if self.by_key.get(k) else (None, False)

    def rel(self, kind, family, coefs, lo, hi):
        coefs = {v: c for v, c in coefs.items() if c != 0}
        if coefs:
            self.relations.append((kind, (kind,) + tuple(family), coefs, lo, hi))

    def ratio(self, kind, family, num, den, value, tol, scale=100.0, den_const=0.0):
        """value +- tol = scale x num / (den + den_const), num and den {var: coef}."""
        if not num or None in num or None in den:
            return
        if not den:
            self.rel(kind, family, {v: scale * c for v, c in num.items()},
                     (value - tol) * den_const, (value + tol) * den_const)
            return
        for bound, sign in ((value + tol, 1.0), (value - tol, -1.0)):
            coefs = defaultdict(float)
            for v, c in num.items():
                coefs[v] += sign * scale * c
            for v, c in den.items():
                coefs[v] -= sign * bound * c
            self.rel(kind, family, coefs, -math.inf, sign * bound * den_const)
        self.rel(kind, family, dict(den), 1 - den_const, math.inf)  # printed: den > 0


def read_tables(folder):
    """The survey-derived tables of a folder and of its equality/ folder, and the index texts."""
    tables, texts = [], []
    for sub in (Path(folder), Path(folder) / "equality"):
        names = None
        if (sub / "tables.json").is_file():
            entries = json.loads((sub / "tables.json").read_text(encoding="utf-8"))
            names = [e["name"] for e in entries]
            texts += [f"{e.get('title', '')} {e.get('description', '')}" for e in entries]
        paths = [sub / f"{n}.csv" for n in names] if names else sorted(sub.glob("*.csv"))
        for path in paths:
            if path.is_file():
                t = Table(path.stem, path)
                if {"responses", "respondents"} & set(t.header):
                    tables.append(t)
    return tables, texts


def threshold_in(texts):
    """The threshold the publication states ("Counts from 1 to 9 ... are suppressed")."""
    found = [int(n) + 1 for t in texts for n in re.findall(r"\b1 to (\d+)\b", t)]
    return max(found) if found else None


def scope_of(tables):
    """The organisation and financial year of the KPI survey tables, where they hold one only;
    and, for a wide survey, the question every table without a `question` column counts (the
    row of `satisfaction_by_question` marked `overall`)."""
    scope = {}
    for dim in SCOPE:
        values = {r[dim] for t in tables if dim in t.header for r in t.rows}
        if len(values) == 1:
            scope[dim] = values.pop()
    overall = {r[QUESTION] for t in tables if {QUESTION, "overall"} <= set(t.header)
               for r in t.rows if r["overall"].strip().lower() == "true"}
    if len(overall) == 1:
        scope[QUESTION] = overall.pop()
    return scope


def row_key(t, row, scope):
    key = {d: row[d] for d in t.dims if row[d] not in TOTALS and (d, row[d]) != RATED_YES}
    if "year" in t.header and "month" in t.header:
        year, month = int(float(row["year"])), int(float(row["month"]))
        key["month"] = f"{year}-{month:02d}"
        start = year if month >= 4 else year - 1
        key.setdefault("financial_year", f"{start}/{(start + 1) % 100:02d}")
    for dim, value in scope.items():
        if dim not in t.header:
            key.setdefault(dim, value)
    return key


def build(tables, scope, only=None):
    """The model of a publication: its variables, then every relation between them."""
    m = Model()
    layouts = [(t, read_cells(m, t, scope)) for t in tables]
    unprinted = defaultdict(list)
    for t, rows in layouts:
        if "group" in t.header:
            representation(m, t, rows)
            continue
        for row, key, n, parts in rows:
            row_ratios(m, t, row, n, parts)
            if parts.get(DSC) is not None and parts.get("negative") is not None:
                m.rel("dominant", (t.name,), {parts[DSC]: 1, parts["negative"]: -1}, -math.inf, 0)
        if t.name == WEIGHTS:
            continue  # a cell is listed once per row it weights: its rows add up to nothing
        sums(m, t, rows, unprinted)
        shares(m, t, rows)
        differences(m, t, rows)
    # A cohort no table prints, that two sums reach: a shared unknown linking them.
    for parent, groups in unprinted.items():
        if len(groups) > 1:
            p = m.var("(not printed)", dict(parent), "responses", "", None)
            for family, children in groups:
                m.rel("cross_table", family, {p: 1, **{c: -1 for c in children}}, 0, 0)
    for key, vs in list(m.by_key.items()):
        for v in vs[1:]:
            m.rel("same_cohort", tuple(sorted({m.vars[vs[0]]["table"], m.vars[v]["table"]})),
                  {vs[0]: 1, v: -1}, 0, 0)
    ratings_as_sentiments(m)
    weighted(m, tables, scope)
    if only:
        m.relations = [r for r in m.relations if r[0] in only]
    return m


def read_cells(m, t, scope):
    """A variable per count cell: (row, key, N var, {part name: var}) per row."""
    rows = []
    for i, row in enumerate(t.rows):
        key = row_key(t, row, scope)
        label = " / ".join([row[d] for d in t.dims] + [key.get("month", "")][: "month" in key])
        label = label or str(i)
        listed = {s.strip() for s in row.get("suppressed", "").split(",")}

        def cell(extra, column):
            text = row[column].strip()
            if text == "" and column == DSC and column not in listed:
                return None  # no negative answer: no dominant service, nothing suppressed
            value = None if text == "" else int(round(float(text)))
            return m.var(t.name, {**key, **extra}, column, label, value)

        if "group" in t.header:  # representation: field, group, respondents
            key = {**without(key, "field"), row["field"]: row["group"]}
            n = m.var(t.name, key, "respondents", f"{row['field']} {row['group']}",
                      None if row["respondents"] == "" else int(float(row["respondents"])))
            rows.append((row, key, n, {}))
            continue
        n = cell({}, "responses")
        parts = {s: cell({"sentiment": s}, s) for s in SENTIMENTS if s in t.header}
        if NOT_RATED in t.header:
            parts[NOT_RATED] = cell({"rated": "no"}, NOT_RATED)
        parts.update({ch: cell({"channel": ch}, ch) for ch in t.channels})
        if DSC in t.header:
            parts[DSC] = cell({"_": DSC}, DSC)
        rows.append((row, key, n, parts))
    return rows


def sums(m, t, rows, unprinted):
    """Children sum to their parent cohort, for each dimension the table enumerates (parents no
    table prints are collected in `unprinted`)."""
    cells = [(key, n) for _, key, n, _ in rows]
    for _, key, _, parts in rows:
        cells += [(dict(m.vars[v]["key"]), v) for p, v in parts.items()
                  if p != DSC and v is not None]
    dims = [d for d in t.dims if d not in SCOPE] + ["sentiment", "channel"]
    dims += ["month"] if "month" in t.header else []
    for over in dict.fromkeys(dims):
        if over == QUESTION:
            continue  # a respondent answers several questions: they add up to nothing
        groups = defaultdict(list)
        for key, v in cells:
            if over in key:
                groups[freeze(without(key, over))].append(v)
        part = over == "sentiment" or (over == "channel" and bool(t.channels))
        for parent, children in groups.items():
            p, own = m.cohort(dict(parent), t.name)
            kind = "parts" if part else "totals" if own else "cross_table"
            if p is None:
                unprinted[parent].append(((t.name, over), children))
            else:
                m.rel(kind, (t.name, over), {p: 1, **{c: -1 for c in children}}, 0, 0)


def row_ratios(m, t, row, n, parts):
    """The ratios printed in one row: percentages of N, scores, channel shares, response rate."""
    def ratio(kind, column, num, den, scale=100.0, den_const=0.0):
        value = t.value(row, column)
        if value is not None:
            m.ratio(kind, (t.name, column), num, den, value, t.tol(row, column), scale, den_const)

    if "positive" in parts:
        pos, neu, neg = (parts[s] for s in SENTIMENTS)
        ratio("pct", "satisfied_pct", {pos: 1}, {n: 1})
        ratio("pct", "dissatisfied_pct", {neg: 1}, {n: 1})
        ratio("pct", "council_score_pct", {pos: 1, neu: 1, neg: -1}, {n: 1})
        ratio("pct", "net_satisfaction", {pos: 1, neg: -1}, {n: 1}, 1.0)
        ratio("pct", "net_score", {pos: 1, neg: -1}, {n: 1}, 1.0)
    for ch in t.channels:
        ratio("share", f"{ch}_pct", {parts[ch]: 1}, {n: 1})
    digital = {parts[ch]: 1 for ch in t.channels if ch in DIGITAL}
    if digital:
        ratio("share", "digital_share_pct", digital, {n: 1})
    contacts = t.value(row, "contacts")
    if contacts:
        ratio("rate", "response_rate_pct", {n: 1}, {}, den_const=contacts)


def shares(m, t, rows):
    """share_pct is of the table's last group column (groups of all respondents, ratings of the
    channel), survey_share_pct of all channels: 100 x count = share x total."""
    last = [d for d in t.dims if d not in SCOPE][-1:]
    for column, over in (("share_pct", last[0] if last else None), ("survey_share_pct", "channel")):
        for row, key, n, _ in rows:
            if over in key and t.value(row, column) is not None:
                total, _ = m.cohort(without(key, over), t.name)
                if total is None:
                    total = m.var("(not printed)", without(key, over), "responses", "", None)
                m.ratio("share", (t.name, column), {n: 1}, {total: 1}, t.value(row, column),
                        t.tol(row, column))


def representation(m, t, rows):
    """Each group's share of the respondents who answered (or representation ratio x population
    share, the same figure)."""
    by_field = defaultdict(list)
    for r in rows:
        by_field[r[0]["field"]].append(r)
    for group in by_field.values():
        total = {n: 1 for _, _, n, _ in group}
        for row, _, n, _ in group:
            share, ratio = t.value(row, "respondent_share_pct"), t.value(row, "representation_ratio")
            population = t.value(row, "population_share_pct")
            if share is not None:
                m.ratio("share", (t.name, "respondent_share_pct"), {n: 1}, total, share,
                        t.tol(row, "respondent_share_pct"))
            elif ratio is not None and population is not None:
                tol = t.tol(row, "representation_ratio") * population + \
                    t.tol(row, "population_share_pct") * ratio
                m.ratio("share", (t.name, "representation_ratio"), {n: 1}, total,
                        ratio * population, tol)


def differences(m, t, rows):
    """dissatisfied_difference_pp = the group's rate - the rest's (or the reference group's)."""
    if "dissatisfied_difference_pp" not in t.header or len(t.dims) != 1:
        return
    field = t.dims[0]
    answered = {row[field]: (n, parts.get("negative")) for row, _, n, parts in rows
                if row[field] not in NON_RESPONSE and row[field] != ALL}
    for row, _, _, _ in rows:
        pct, diff = t.value(row, "dissatisfied_pct"), t.value(row, "dissatisfied_difference_pp")
        if row[field] not in answered or pct is None or diff is None:
            continue
        against = row.get("compared_with", "")
        if against.endswith("(reference group)"):
            others = [against[: -len("(reference group)")].strip()]
        else:
            others = [g for g in answered if g != row[field]]
        others = [answered[g] for g in others if g in answered]
        tol = t.tol(row, "dissatisfied_pct") + t.tol(row, "dissatisfied_difference_pp")
        m.ratio("difference", (t.name,), {neg: 1 for _, neg in others},
                {n: 1 for n, _ in others}, pct - diff, tol)


def weighted(m, tables, scope):
    """The weighted satisfaction of each row of `satisfaction_weighted`, as linear relations in the
    counts of the cells `satisfaction_weights` lists for it (where every weight is printed)."""
    by_name = {t.name: t for t in tables}
    if WEIGHTED not in by_name or WEIGHTS not in by_name:
        return
    rows, weights = by_name[WEIGHTED], by_name[WEIGHTS]
    cells = defaultdict(list)
    for row in weights.rows:
        cells[(row.get("organisation"), row.get("financial_year"), row["scope"])].append(row)
    for row in rows.rows:
        listed = cells[(row.get("organisation"), row.get("financial_year"), row["service"])]
        terms = []
        for c in listed:
            weight = number(c["weight"])
            if weight is None:
                if "weight" in {x.strip() for x in c.get("suppressed", "").split(",")}:
                    break  # a weight blanked: the figures are not linear in what is printed
                continue  # a cell without contacts or responses: no weight, no term
            key = row_key(weights, c, scope)
            n, _ = m.cohort(key, None)
            parts = [m.cohort({**key, "sentiment": s}, None)[0] for s in SENTIMENTS]
            if n is None or None in parts:
                break
            terms.append((weight, n, parts, c))
        else:
            family = lambda column: (WEIGHTED, column)  # noqa: E731
            den = {n: w for w, n, _, _ in terms}

            def ratio(column, num):
                value = rows.value(row, column)
                if value is not None and den:
                    m.ratio("weighted", family(column), num, den, value, rows.tol(row, column))

            score = defaultdict(float)
            for w, _, (pos, neu, neg), _ in terms:
                score[pos] += w
                score[neu] += w
                score[neg] -= w
            ratio("weighted_council_score_pct", dict(score))
            ratio("weighted_satisfied_pct", {pos: w for w, _, (pos, _, _), _ in terms})

            def equal(column, coefs, value, tol):
                if value is not None and coefs:
                    m.rel("weighted", family(column), coefs, value - tol, value + tol)

            total, neff = rows.value(row, "sum_weights"), rows.value(row, "n_eff")
            if total is not None:
                equal("sum_weights", den, total, rows.tol(row, "sum_weights"))
                if neff:
                    ts, te = rows.tol(row, "sum_weights"), rows.tol(row, "n_eff")
                    low = (total - ts) ** 2 / (neff + te)
                    high = (total + ts) ** 2 / max(neff - te, 1e-12)
                    mid, half = (low + high) / 2, (high - low) / 2 + 1e-9 * high
                    equal("n_eff", {n: w * w for w, n, _, _ in terms}, mid, half)
            equal("weighted_responses", {n: 1 for _, n, _, _ in terms},
                  rows.value(row, "weighted_responses"), 0.5)
            equal("capped_responses",
                  {n: 1 for _, n, _, c in terms if c["capped"].strip().lower() == "true"},
                  rows.value(row, "capped_responses"), 0.5)
            own = row["service"] == ALL_SERVICES or row.get("weighting") != "channel"
            for w, n, _, c in terms:
                contacts = number(c["contacts"])
                if own and contacts and c["capped"].strip().lower() == "false":
                    # n = contacts / weight, the weight printed to full precision.
                    equal("weight", {n: w}, contacts, 1e-9 * contacts)


def ratings_as_sentiments(m):
    """A rating that is one sentiment (Good = positive on a three-point scale): a guess, kept
    only where every cohort printing both confirms it, at least once, for one sentiment only."""
    for v, x in enumerate(list(m.vars)):
        key = dict(x["key"])
        if "rating" not in key or x["table"] == "(not printed)":
            continue
        rating = key.pop("rating")
        for s in SENTIMENTS:
            other, _ = m.cohort({**key, "sentiment": s}, None)
            if other is not None:
                m.rel("same_cohort", ("rating", rating, s), {v: 1, other: -1}, 0, 0)


def checked(m):
    """Relations whose families hold wherever all their terms are printed; the failing families.
    A guessed family (rating = sentiment) must also be confirmed, and for one sentiment only."""
    failed, confirmed = {}, defaultdict(int)
    for kind, family, coefs, lo, hi in m.relations:
        values = [m.vars[v]["value"] for v in coefs]
        if None not in values:
            total = sum(c * x for c, x in zip(coefs.values(), values))
            slack = 1e-6 * (1 + sum(abs(c * x) for c, x in zip(coefs.values(), values)))
            if not lo - slack <= total <= hi + slack and family not in failed:
                failed[family] = [cell(m.vars[v]) | {"value": m.vars[v]["value"]}
                                  for v in coefs]
            confirmed[family] += 1
    guesses = defaultdict(list)
    for family in {r[1] for r in m.relations if r[1][1] == "rating"}:
        if family not in failed and confirmed[family]:
            guesses[family[2]].append(family)
    kept = {f for fs in guesses.values() if len(fs) == 1 for f in fs}
    relations = [r for r in m.relations if r[1] not in failed
                 and (r[1][1] != "rating" or r[1] in kept)]
    return relations, {f: v for f, v in failed.items() if f[1] != "rating"}


def solve(m, relations, time_limit=10.0):
    """Tightest integer bounds of every unknown count cell: {var: (lower, upper or inf)}, the
    cells whose relations admit no solution at all (a wrong relation: reported, not judged), and
    the `System` of the relations (to bound other sums of the unknowns with it)."""
    system = System(m, relations)
    bounds, infeasible = {}, []
    for root, members in system.components.items():
        cells = [j for j in members if m.vars[system.unknown[j]]["table"] != "(not printed)"]
        if not system.rows[root]:
            bounds.update({system.unknown[j]: (0, math.inf) for j in cells})
            continue
        problem = system.problem(root)
        for j in cells:
            low = problem.extreme({j: 1.0}, 1.0, time_limit)
            if low is None:
                infeasible += [system.unknown[j] for j in cells]
                system.infeasible.add(root)
                break
            bounds[system.unknown[j]] = (low, problem.extreme({j: 1.0}, -1.0, time_limit))
    return bounds, infeasible, system


class System:
    """The relations between the unknowns, split into connected sets (each a `Problem`)."""

    def __init__(self, m, relations):
        self.m = m
        self.unknown = [v for v, x in enumerate(m.vars) if x["value"] is None]
        self.col = {v: j for j, v in enumerate(self.unknown)}
        rows = []
        for _, _, coefs, lo, hi in relations:
            const = sum(c * m.vars[v]["value"] for v, c in coefs.items() if v not in self.col)
            terms = {self.col[v]: c for v, c in coefs.items() if v in self.col}
            if terms:
                rows.append((terms, lo - const, hi - const))
        self.parent = list(range(len(self.unknown)))
        for terms, _, _ in rows:
            first = next(iter(terms))
            for j in terms:
                self.parent[self.find(j)] = self.find(first)
        self.components, self.rows = defaultdict(list), defaultdict(list)
        for j in range(len(self.unknown)):
            self.components[self.find(j)].append(j)
        for row in rows:
            self.rows[self.find(next(iter(row[0])))].append(row)
        self.problems, self.infeasible = {}, set()

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def problem(self, root):
        if root not in self.problems:
            self.problems[root] = Problem(self.rows[root], self.components[root])
        return self.problems[root]

    def span(self, terms, time_limit):
        """Integer bounds (lower, upper) of Σ coef x var (printed or unknown vars) over what the
        relations allow, each connected set on its own; None when one has no solution."""
        low = high = 0.0
        parts = defaultdict(lambda: defaultdict(float))
        for v, c in terms.items():
            value = self.m.vars[v]["value"]
            if value is not None:
                low, high = low + c * value, high + c * value
            else:
                parts[self.find(self.col[v])][self.col[v]] += c
        for root, part in parts.items():
            if root in self.infeasible:
                return None
            if not self.rows[root]:  # unknowns >= 0 and nothing else
                low += -math.inf if any(c < 0 for c in part.values()) else 0
                high += math.inf if any(c > 0 for c in part.values()) else 0
                continue
            problem = self.problem(root)
            lo, hi = problem.extreme(part, 1.0, time_limit), problem.extreme(part, -1.0, time_limit)
            if lo is None or hi is None:
                return None
            low, high = low + lo, high + hi
        return low, high


class Problem:
    """One connected set of unknowns and the relations between them: lb <= A x <= ub, x >= 0."""

    def __init__(self, rows, members):
        self.local = {j: i for i, j in enumerate(members)}
        data = [(i, self.local[j], c) for i, (t, _, _) in enumerate(rows) for j, c in t.items()]
        self.a = csr_matrix(([d[2] for d in data], ([d[0] for d in data], [d[1] for d in data])),
                            shape=(len(rows), len(members)))
        self.lb, self.ub = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
        up, lo = np.isfinite(self.ub), np.isfinite(self.lb)
        self.a_ub = vstack([self.a[up], -self.a[lo]]).tocsr()
        self.b_ub = np.concatenate([self.ub[up], -self.lb[lo]])

    def extreme(self, terms, sign, time_limit):
        """min (sign 1) or max (sign -1) of Σ coef x unknown ({j: coef}, whole coefs): the integer
        optimum (the best proven bound if time runs out), rounded inwards; -inf or inf when
        unbounded, None when there is no solution."""
        c = np.zeros(self.a.shape[1])
        for j, coef in terms.items():
            c[self.local[j]] = sign * coef
        lp = linprog(c, A_ub=self.a_ub, b_ub=self.b_ub, bounds=(0, None), method="highs")
        if lp.status == 3:
            return -sign * math.inf
        if lp.status != 0:
            return None
        mip = milp(c, constraints=LinearConstraint(self.a, self.lb, self.ub),
                   integrality=np.ones(len(c)), bounds=Bounds(0, np.inf),
                   options={"time_limit": time_limit})
        if mip.status == 2:
            return None  # no integer solution
        best = mip.fun if mip.status == 0 else getattr(mip, "mip_dual_bound", None)
        best = lp.fun if best is None or not np.isfinite(best) else max(best, lp.fun)
        value = sign * best
        return math.ceil(value - 1e-6) if sign > 0 else math.floor(value + 1e-6)


def truth_values(folder, scope):
    """(table, key, column) -> count, from an unsuppressed run's folder."""
    t_tables, _ = read_tables(folder)
    tm = build(t_tables, scope)
    return {(x["table"], x["key"], x["column"]): x["value"] for x in tm.vars}


def attack(folder, threshold=None, truth=None, only=None, time_limit=10.0, earlier=()):
    """The verdict on a published folder (a dict, ready for JSON); with `earlier` folders (the
    publications before it in its financial year), on all of them together (`attack_releases`)."""
    if earlier:
        return attack_releases(folder, earlier, threshold, truth, only, time_limit)
    tables, texts = read_tables(folder)
    if not tables:
        raise SystemExit(f"{folder}: no published table derived from survey responses")
    stated = threshold_in(texts)
    threshold = threshold or stated or 10
    scope = scope_of(tables)
    m = build(tables, scope, only)
    relations, failed = checked(m)
    bounds, infeasible, _ = solve(m, relations, time_limit)
    kinds_of = defaultdict(set)
    for kind, _, coefs, _, _ in relations:
        for v in coefs:
            kinds_of[v].add(kind)
    small = [cell(x) | {"value": x["value"]} for x in m.vars
             if x["value"] is not None and 0 < x["value"] < threshold]
    found = {v: b for v, b in sorted(bounds.items()) if b[1] - b[0] < threshold}
    recoverable = [cell(m.vars[v]) | {"lower": lo, "upper": hi, "width": hi - lo,
                                      "pinned": lo == hi, "kinds": sorted(kinds_of[v])}
                   for v, (lo, hi) in found.items()]
    widths = [hi - lo for lo, hi in bounds.values() if hi < math.inf]
    verdict = {
        "publication": str(folder),
        "threshold": threshold,
        "threshold_stated": stated,
        "scope": scope,
        "tables": [t.name for t in tables],
        "suppressed_cells": len(bounds) + len(infeasible),
        "recoverable_count": len(recoverable),
        "pinned_count": sum(r["pinned"] for r in recoverable),
        # A pinned 1..threshold-1 is a small count disclosed; a pinned 0 or larger count is a
        # protecting cell undone (it may uncover others).
        "pinned_by_value": count_by("0" if r["lower"] == 0 else f"1-{threshold - 1}"
                                    if r["lower"] < threshold else f"{threshold}+"
                                    for r in recoverable if r["pinned"]),
        "narrowed_count": sum(not r["pinned"] for r in recoverable),
        "tightest_width": min(widths) if widths else None,
        "published_small_count": len(small),
        "relations": count_by(r[0] for r in relations),
        "recoverable_by_kind": count_by(k for r in recoverable for k in r["kinds"]),
        "recoverable_by_table": count_by(r["table"] for r in recoverable),
        "failed_families": [{"family": list(f), "values": v} for f, v in failed.items()],
        "infeasible_cells": [cell(m.vars[v]) for v in infeasible],
        "recoverable": recoverable,
        "published_small": small,
    }
    if truth:
        verdict["truth"] = compare(m, bounds, found, recoverable, truth_values(truth, scope))
    verdict["verdict"] = "fail" if recoverable or small else \
        "inconclusive" if infeasible else "pass"
    return verdict


# The last month a whole year's folder covers: after every month.
WHOLE_YEAR = (math.inf, 0)


def covers(folder, tables):
    """The last month (year, month) a publication counts, to order releases: its folder's name
    (`2025-03`); a whole year's folder (`fy2024-25`, `fy2024`) after every month; else the latest
    month of its `satisfaction_monthly`; None when neither says."""
    name = Path(folder).resolve().name
    if re.fullmatch(r"\d{4}-\d{2}", name):
        return int(name[:4]), int(name[5:])
    if re.fullmatch(r"fy\d{4}(-\d{2})?", name):
        return WHOLE_YEAR
    months = [(int(number(r["year"])), int(number(r["month"])))
              for t in tables if t.name == "satisfaction_monthly"
              and {"year", "month"} <= set(t.header) for r in t.rows
              if number(r["year"]) is not None and number(r["month"]) is not None]
    return max(months) if months else None


def releases_of(folder, earlier):
    """The publications attacked together, in the order a reader sees their counts grow: by the
    months they cover (`covers`) when every one says, else as given (earlier ones first); each
    {folder, tables, texts, month}."""
    given = [str(f) for f in earlier] + [str(folder)]
    if len({str(Path(f).resolve()) for f in given}) < len(given):
        raise SystemExit("a publication is given twice")
    releases = []
    for f in given:
        tables, texts = read_tables(f)
        if not tables:
            raise SystemExit(f"{f}: no published table derived from survey responses")
        releases.append({"folder": f, "tables": tables, "texts": texts,
                         "month": covers(f, tables)})
    if all(r["month"] is not None for r in releases):
        releases.sort(key=lambda r: r["month"])  # stable: ties stay as given
    return releases


def common_scope(releases):
    """One scope for every release (so that their cohorts' keys compare): each one's, which must
    agree (one organisation, one financial year), united."""
    scope = {}
    for r in releases:
        for dim, value in scope_of(r["tables"]).items():
            if scope.setdefault(dim, value) != value:
                raise SystemExit(f"{r['folder']}: {dim} {value!r}, not {scope[dim]!r} as in the "
                                 "other publications: give publications of one financial year")
    return scope


def linked(releases, scope, only):
    """One model of several releases: each release's variables and checked relations, as
    `build` and `checked` give them for it alone (its variables carry its `folder`), then the
    relations between releases. Returns the model, the relations, the failed families
    ({(folder or "releases",) + family: values}) and, per release, its count cells by (table,
    key, column)."""
    m, relations, failed, cells = Model(), [], {}, []
    for r in releases:
        own = build(r["tables"], scope, only)
        offset = len(m.vars)
        m.vars += [{"folder": r["folder"], **x} for x in own.vars]
        kept, fails = checked(own)
        relations += [(kind, family, {v + offset: c for v, c in coefs.items()}, lo, hi)
                      for kind, family, coefs, lo, hi in kept]
        failed.update({(r["folder"],) + f: [{"folder": r["folder"], **x} for x in values]
                       for f, values in fails.items()})
        index = {}
        for v, x in enumerate(own.vars):
            # A dominant service's count is of whichever service dominates: no fixed cohort.
            if x["table"] != "(not printed)" and x["column"] != DSC:
                index.setdefault((x["table"], x["key"], x["column"]), v + offset)
        cells.append(index)
    across = Model()
    across.vars = m.vars
    held = defaultdict(list)
    for i, index in enumerate(cells):
        for cid, v in index.items():
            held[cid].append((i, v))
    for (table, key, _), chain in held.items():
        # Each release to the next holding the cell: the MIP chains them to the later ones.
        for (i, a), (j, b) in zip(chain, chain[1:]):
            family = (table, releases[i]["folder"], releases[j]["folder"])
            # A month published again (two releases ending with the same month) was published
            # again because its data changed: its months' counts may have grown (late answers).
            again = releases[i]["month"] is not None and releases[i]["month"] == releases[j]["month"]
            if "month" in dict(key) and not again:
                across.rel("same_month", family, {b: 1, a: -1}, 0, 0)
            else:
                across.rel("release_difference", family, {b: 1, a: -1}, 0, math.inf)
    if only:
        across.relations = [r for r in across.relations if r[0] in only]
    kept, fails = checked(across)
    failed.update({("releases",) + f: values for f, values in fails.items()})
    return m, relations + kept, failed, cells


def differences_between(m, releases, cells, bounds, system, threshold, time_limit):
    """For each pair of releases (earlier, later) and each count cell both print a row for: the
    difference later - earlier, a count of respondents. Printed in both, it is known: listed when
    1..threshold-1. Blank in one (or both), it is bounded (the blank's bounds, or the MIP on
    later - earlier); listed as recoverable when narrower than the threshold and it may be
    1..threshold-1. Returns (small printed differences, recoverable differences)."""
    small, found = [], []

    def between(lo, hi):
        return lo <= threshold - 1 and hi >= 1

    def limits(v):
        value = m.vars[v]["value"]
        return (value, value) if value is not None else bounds.get(v)

    for i, j in ((i, j) for j in range(len(releases)) for i in range(j)):
        for cid in sorted(cells[i].keys() & cells[j].keys(), key=lambda c: cells[j][c]):
            a, b = cells[i][cid], cells[j][cid]
            x, y = m.vars[a], m.vars[b]
            where = {"earlier": releases[i]["folder"], "later": releases[j]["folder"],
                     "table": y["table"], "row": y["row"], "column": y["column"]}
            if x["value"] is not None and y["value"] is not None:
                if 0 < y["value"] - x["value"] < threshold:
                    small.append(where | {"earlier_value": x["value"], "later_value": y["value"],
                                          "difference": y["value"] - x["value"]})
                continue
            if limits(a) is None or limits(b) is None:
                continue  # a blank with no solution: among the infeasible cells
            (la, ha), (lb, hb) = limits(a), limits(b)
            lo, hi = lb - ha, hb - la  # exact when one of them is printed
            if not between(lo, hi):
                continue
            if x["value"] is None and y["value"] is None:
                span = system.span({b: 1, a: -1}, time_limit)
                if span is None:
                    continue
                lo, hi = span
            if hi - lo < threshold and between(lo, hi):
                found.append({"folder": releases[j]["folder"], **where,
                              "earlier_value": x["value"], "later_value": y["value"],
                              "lower": lo, "upper": hi, "width": hi - lo, "pinned": lo == hi,
                              "kinds": ["release_difference"]})
    return small, found


def attack_releases(folder, earlier, threshold=None, truth=None, only=None, time_limit=10.0):
    """The verdict on a publication and the earlier ones of its financial year, together: every
    blank cell of every release bounded, and the differences between releases."""
    releases = releases_of(folder, earlier)
    stated = threshold_in([t for r in releases for t in r["texts"]])
    threshold = threshold or stated or 10
    scope = common_scope(releases)
    m, relations, failed, cells = linked(releases, scope, only)
    bounds, infeasible, system = solve(m, relations, time_limit)
    kinds_of = defaultdict(set)
    for kind, _, coefs, _, _ in relations:
        for v in coefs:
            kinds_of[v].add(kind)
    small = [cell(x) | {"value": x["value"]} for x in m.vars
             if x["value"] is not None and 0 < x["value"] < threshold]
    small_differences, differences = differences_between(m, releases, cells, bounds, system,
                                                         threshold, time_limit)
    found = {v: b for v, b in sorted(bounds.items()) if b[1] - b[0] < threshold}
    cells_found = [cell(m.vars[v]) | {"lower": lo, "upper": hi, "width": hi - lo,
                                      "pinned": lo == hi, "kinds": sorted(kinds_of[v])}
                   for v, (lo, hi) in found.items()]
    recoverable = cells_found + differences
    widths = [hi - lo for lo, hi in bounds.values() if hi < math.inf]
    verdict = {
        "publication": str(folder),
        "releases": [{"folder": r["folder"], "last_month": None if r["month"] is None
                      else "whole year" if r["month"] == WHOLE_YEAR
                      else f"{r['month'][0]}-{r['month'][1]:02d}"} for r in releases],
        "threshold": threshold,
        "threshold_stated": stated,
        "scope": scope,
        "tables": {r["folder"]: [t.name for t in r["tables"]] for r in releases},
        "suppressed_cells": len(bounds) + len(infeasible),
        "suppressed_by_folder": count_by(m.vars[v]["folder"] for v in list(bounds) + infeasible),
        "recoverable_count": len(recoverable),
        "pinned_count": sum(r["pinned"] for r in recoverable),
        "pinned_by_value": count_by("0" if r["lower"] == 0 else f"1-{threshold - 1}"
                                    if r["lower"] < threshold else f"{threshold}+"
                                    for r in recoverable if r["pinned"]),
        "narrowed_count": sum(not r["pinned"] for r in recoverable),
        "tightest_width": min(widths) if widths else None,
        "published_small_count": len(small),
        "published_small_differences_count": len(small_differences),
        "relations": count_by(r[0] for r in relations),
        "recoverable_by_kind": count_by(k for r in recoverable for k in r["kinds"]),
        "recoverable_by_table": count_by(r["table"] for r in recoverable),
        "recoverable_by_folder": count_by(r["folder"] for r in recoverable),
        "failed_families": [{"folder": f[0], "family": list(f[1:]), "values": v}
                            for f, v in failed.items()],
        "infeasible_cells": [cell(m.vars[v]) for v in infeasible],
        "recoverable": recoverable,
        "published_small": small,
        "published_small_differences": small_differences,
    }
    if truth:
        verdict["truth"] = compare(m, bounds, found, cells_found, truth_values(truth, scope),
                                   str(folder))
    verdict["verdict"] = "fail" if recoverable or small or small_differences else \
        "inconclusive" if infeasible else "pass"
    return verdict


def cell(x):
    where = {"folder": x["folder"]} if "folder" in x else {}
    return where | {"table": x["table"], "row": x["row"], "column": x["column"]}


def count_by(items):
    return dict(sorted(Counter(items).items()))


def compare(m, bounds, found, recoverable, truth, folder=None):
    """Every suppressed cell's bounds must hold its true value; a pinned one must be it (with
    several releases, the cells of `folder`, the one the truth is of)."""
    def true(v):
        x = m.vars[v]
        if x.get("folder", folder) != folder:
            return None
        return truth.get((x["table"], x["key"], x["column"]))

    for v, r in zip(found, recoverable):
        r["true"] = true(v)
    with_truth = [v for v in bounds if true(v) is not None]
    pinned = [r for r in recoverable if r["pinned"] and r["true"] is not None]
    return {
        "cells_with_truth": len(with_truth),
        "pinned_confirmed": sum(r["lower"] == r["true"] for r in pinned),
        "pinned_wrong": [r for r in pinned if r["lower"] != r["true"]],
        "bounds_violated": [cell(m.vars[v]) | {"lower": bounds[v][0], "true": true(v),
                                               "upper": None if bounds[v][1] == math.inf
                                               else bounds[v][1]}
                            for v in with_truth if not bounds[v][0] <= true(v) <= bounds[v][1]],
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("publication", help="a period's published folder (out/<period>/)")
    p.add_argument("--threshold", type=int, help="default: as the publication states it, else 10")
    p.add_argument("--truth", help="the folder of `cex equality --unsuppressed` for the period")
    p.add_argument("--out", help="write the verdict here (default: standard output)")
    p.add_argument("--only", help=f"use only these kinds of relation: {','.join(KINDS)}")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds per optimisation")
    p.add_argument("--earlier", action="append", default=[], metavar="DIR",
                   help="an earlier publication of the same financial year (repeatable): "
                        "attacked together with the publication")
    args = p.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    if only and not only <= set(KINDS):
        p.error(f"--only: kinds are {', '.join(KINDS)}")
    for folder in [args.publication] + args.earlier:
        if not read_tables(folder)[0]:
            p.error(f"{folder}: no published table derived from survey responses")
    try:
        verdict = attack(args.publication, args.threshold, args.truth, only, args.time_limit,
                         args.earlier)
    except SystemExit as e:  # publications that cannot be attacked together
        if isinstance(e.code, str):
            p.error(e.code)
        raise
    text = json.dumps(verdict, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    differences = (f", {verdict['published_small_differences_count']} small differences "
                   f"between releases printed" if args.earlier else "")
    print(f"{verdict['verdict']}: {verdict['suppressed_cells']} suppressed cells, "
          f"{verdict['recoverable_count']} recoverable ({verdict['pinned_count']} exactly), "
          f"{verdict['published_small_count']} small counts printed{differences}; "
          f"tightest width {verdict['tightest_width']}", file=sys.stderr)
    return 0 if verdict["verdict"] == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks a cex lake with a Delta reader that cex did not write: the Python `deltalake` package.

cex promises that no row is lost and none is counted twice, whatever happens to a run (killed,
racing another run, re-run). Its own tests read the lake back with cex's own code; this script
is the independent reader. It reads the lake the way any Delta client would:

1. the manifest table `<lake>/manifest` (latest version, or `--version N`): one row per ingested
   export file;
2. each data table (`<lake>/contacts`, `<lake>/responses`) AT the version the manifest pins for
   it, `max(table_version)` over the manifest rows naming that table. Commits newer than that
   were left by a run that died before recording them in the manifest ("pending": the next
   writer records them); a table no manifest row names is read as empty.

and checks:

- every sha256 (and every file_id) appears once in the manifest;
- rows_read == accepted + rejected + duplicates on every manifest row, and table_version is set
  exactly when the file added rows;
- for every manifest row, the pinned data table holds exactly `accepted` rows with that
  source_file_id and source: no row lost, none doubled;
- no data row comes from a file the manifest does not list;
- (organisation, source, year, month, record_key) is unique within each data table;
- no pending commits, unless `--allow-pending`;
- the monthly aggregates (`<lake>/monthly`, latest version): each file of aggregates of a pinned
  contacts file (the same relative path, `.parquet` replaced by `.sums2-<tag>.parquet`: the sums'
  format, and a tag of the thresholds they were counted at; cex reads no other) adds up, per channel, service and outcome, to the `contacts` column
  of that file's rows; a file without aggregates is counted (cex counts it from its rows), not
  a problem;
- the answers' monthly sums (`<lake>/answer_months`, latest version) the same way: the sums of a
  pinned responses file count, per channel, service, rating and sentiment, that file's rows.

Usage: check_lake.py LAKE [--version N] [--allow-pending] [--json]
Prints one summary line (or a JSON document with `--json`, including monthly row totals per
table); exits 0 when no problem is found, 1 otherwise, 2 when the lake cannot be opened.
"""

import argparse
import json
import os
import re
import sys
from collections import Counter
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable

DATA_TABLES = ("contacts", "responses")
KEY = ["organisation", "source", "year", "month", "record_key"]
DATA_COLUMNS = KEY + ["source_file_id"]
MANIFEST_COLUMNS = ["file_id", "sha256", "path", "source", "table", "rows_read", "accepted",
                    "rejected", "duplicates", "table_version"]


def open_table(path, version=None):
    """The Delta table at `path` (at `version`), or None when there is no table there."""
    if not DeltaTable.is_deltatable(path):
        return None
    return DeltaTable(path, version=version)


def file_rows(dt, root):
    """{data file: rows} for the files of one table version (from the log's stats, or the file)."""
    actions = pa.table(dt.get_add_actions(flatten=True))
    paths = actions["path"].to_pylist()
    counts = (actions["num_records"].to_pylist() if "num_records" in actions.column_names
              else [None] * len(paths))
    rows = {}
    for path, n in zip(paths, counts):
        if n is None:  # no stats in the log: the Parquet footer knows
            n = pq.ParquetFile(os.path.join(root, unquote(path))).metadata.num_rows
        rows[path] = n
    return rows


def group_counts(table, keys):
    """{tuple of key values: rows} for the rows of a pyarrow table."""
    if table.num_rows == 0:
        return {}
    grouped = table.group_by(keys).aggregate([([], "count_all")]).to_pylist()
    return {tuple(g[k] for k in keys): g["count_all"] for g in grouped}


def check_manifest(rows, problems):
    for column in ("sha256", "file_id"):
        for value, n in Counter(r[column] for r in rows).items():
            if n > 1:
                problems.append(f"manifest: {column} {value} appears {n} times")
    for r in rows:
        name = f"manifest: {r['path']} ({r['file_id']})"
        if r["rows_read"] != r["accepted"] + r["rejected"] + r["duplicates"]:
            problems.append(f"{name}: rows_read {r['rows_read']} != accepted {r['accepted']} + "
                            f"rejected {r['rejected']} + duplicates {r['duplicates']}")
        if r["table"] not in DATA_TABLES:
            problems.append(f"{name}: unknown table {r['table']!r}")
        if (r["table_version"] is None) != (r["accepted"] == 0):
            problems.append(f"{name}: table_version {r['table_version']} with "
                            f"{r['accepted']} accepted rows")


def check_table(lake, name, manifest_rows, allow_pending, problems):
    """Checks one data table at its pinned version; returns its part of the report."""
    root = os.path.join(lake, name)
    listed = [r for r in manifest_rows if r["table"] == name]
    versions = [r["table_version"] for r in listed if r["table_version"] is not None]
    pinned = max(versions) if versions else None
    report = {"exists": False, "pinned_version": pinned, "latest_version": None, "rows": 0,
              "pending_rows": 0, "monthly_totals": []}
    latest = open_table(root)
    if latest is None:
        if pinned is not None:
            problems.append(f"{name}: the manifest pins version {pinned} but there is no table")
        return report
    report.update(exists=True, latest_version=latest.version())
    data = pa.table({c: [] for c in DATA_COLUMNS})
    pinned_files = {}
    if pinned is not None:
        try:
            at_pin = DeltaTable(root, version=pinned)
        except Exception as e:  # e.g. the manifest names a version the table never reached
            problems.append(f"{name}: cannot open version {pinned}: {e}")
            return report
        data = at_pin.to_pyarrow_table(columns=DATA_COLUMNS)
        pinned_files = file_rows(at_pin, root)
    report["rows"] = data.num_rows

    # Pending: commits after the pinned version, and the rows in the files they added. A table
    # the manifest does not name yet may exist empty (created, then its writer died).
    if pinned is None or latest.version() > pinned:
        report["pending_rows"] = sum(n for f, n in file_rows(latest, root).items()
                                     if f not in pinned_files)
        if not allow_pending and (pinned is not None or report["pending_rows"] > 0):
            first = 0 if pinned is None else pinned + 1
            problems.append(f"{name}: versions v{first}..v{latest.version()} are not recorded in "
                            f"the manifest ({report['pending_rows']} pending rows)")

    by_file = group_counts(data, ["source_file_id", "source"])
    for r in listed:
        found = by_file.pop((r["file_id"], r["source"]), 0)
        if found != r["accepted"]:
            problems.append(f"{name}: {r['path']} ({r['file_id']}): {found} rows in the table, "
                            f"{r['accepted']} accepted in the manifest")
    for (file_id, source), n in sorted(by_file.items(), key=str):
        problems.append(f"{name}: {n} rows from file {file_id} ({source}), not in the manifest")

    for key, n in group_counts(data, KEY).items():
        if n > 1:
            problems.append(f"{name}: key {key} appears {n} times")

    monthly = group_counts(data, ["source", "year", "month"])
    report["monthly_totals"] = [{"source": s, "year": y, "month": m, "rows": n}
                                for (s, y, m), n in sorted(monthly.items())]
    report["pinned_files"] = sorted(pinned_files)
    return report


def summed(path, keys, column):
    """{key values: sum of `column`} of one Parquet file."""
    table = pq.read_table(path, columns=keys + [column])
    table = table.set_column(len(keys), column, table[column].cast(pa.int64()))
    grouped = table.group_by(keys).aggregate([(column, "sum")]).to_pylist()
    return {tuple(g[k] for k in keys): g[f"{column}_sum"] for g in grouped}


def contact_sums(path):
    """{(channel, service, outcome): sum of `contacts`} of one Parquet file."""
    return summed(path, ["channel", "service", "outcome"], "contacts")


ANSWER_KEYS = ["channel", "service", "rating", "sentiment"]


def answer_rows(path):
    """{(channel, service, rating, sentiment): rows} of one responses file."""
    return group_counts(pq.read_table(path, columns=ANSWER_KEYS), ANSWER_KEYS)


def answer_sums(path):
    """{(channel, service, rating, sentiment): sum of `answers`} of one answer_months file."""
    return summed(path, ANSWER_KEYS, "answers")


def check_sums(lake, files, data, sums_table, of_rows, of_sums, stored_key, problems,
               summed=lambda path: path):
    """Compares each pinned file of the `data` table with each of its files in `sums_table`
    (those `summed(sums path)` names it, None for other files), both read independently; a
    file without one is counted, not a problem."""
    report = {"files": len(files), stored_key: 0, "mismatched": 0}
    table = open_table(os.path.join(lake, sums_table))
    stored = {}
    for sums_path in (file_rows(table, os.path.join(lake, sums_table)) if table else {}):
        path = summed(sums_path)
        if path is not None:
            stored.setdefault(path, []).append(sums_path)
    for path in files:
        if path not in stored:
            continue
        report[stored_key] += 1
        rows = of_rows(os.path.join(lake, data, unquote(path)))
        for sums_path in stored[path]:
            if rows != of_sums(os.path.join(lake, sums_table, unquote(sums_path))):
                report["mismatched"] += 1
                problems.append(f"{sums_table}: the sums of {path} ({sums_path}) do not add up "
                                "to its rows")
    return report


def contact_sums_of(sums_path):
    """The contacts file whose aggregates `sums_path` holds (None for another format)."""
    match = re.fullmatch(r"(.*)\.sums2-[0-9a-f]{8}\.parquet", sums_path)
    return match.group(1) + ".parquet" if match else None


def version_label(version):
    return "-" if version is None else f"v{version}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("lake")
    parser.add_argument("--version", type=int, help="manifest version to check (default latest)")
    parser.add_argument("--allow-pending", action="store_true",
                        help="data commits newer than the manifest records are not a problem")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    args = parser.parse_args()

    try:
        manifest = open_table(os.path.join(args.lake, "manifest"), args.version)
        if manifest is None:
            raise FileNotFoundError(f"no Delta table at {os.path.join(args.lake, 'manifest')}")
        rows = manifest.to_pyarrow_table().to_pylist()
    except Exception as e:
        print(f"cannot open the lake {args.lake}: {e}", file=sys.stderr)
        return 2

    problems = []
    missing = [c for c in MANIFEST_COLUMNS if rows and c not in rows[0]]
    if missing:
        problems.append(f"manifest: columns missing: {', '.join(missing)}")
        rows = []
    check_manifest(rows, problems)
    tables = {t: check_table(args.lake, t, rows, args.allow_pending, problems)
              for t in DATA_TABLES}

    monthly = check_sums(args.lake, tables["contacts"].pop("pinned_files", []), "contacts",
                         "monthly", contact_sums, contact_sums, "with_aggregates", problems,
                         summed=contact_sums_of)
    answer_months = check_sums(args.lake, tables["responses"].pop("pinned_files", []),
                               "responses", "answer_months", answer_rows, answer_sums,
                               "with_sums", problems)
    report = {"lake": args.lake, "ok": not problems, "monthly": monthly,
              "answer_months": answer_months, "manifest_version": manifest.version(),
              "files": len(rows), "tables": tables, "problems": problems}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        parts = [f"{t} {r['rows']} rows at {version_label(r['pinned_version'])} (latest "
                 f"{version_label(r['latest_version'])}, {r['pending_rows']} pending)"
                 for t, r in tables.items()]
        verdict = "OK" if not problems else f"{len(problems)} PROBLEMS"
        parts.append(f"monthly aggregates for {monthly['with_aggregates']} of "
                     f"{monthly['files']} contacts files")
        parts.append(f"monthly sums for {answer_months['with_sums']} of "
                     f"{answer_months['files']} responses files")
        print(f"lake {verdict}: manifest v{manifest.version()}, {len(rows)} files; "
              + "; ".join(parts))
        for p in problems:
            print(f"  - {p}")
    return 0 if not problems else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: deltalake's runtime threads can abort the interpreter's own shutdown
    # ("terminate called without an active exception"), which would turn a verdict into a crash.
    os._exit(code)

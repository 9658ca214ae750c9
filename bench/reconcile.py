#!/usr/bin/env python3
"""Checks a lake against the generator's ground truth (expected_counts.json), the way the
integration test checks the shipped sample: for every export, rows read, rejects by reason and
duplicates as expected and rows = accepted + rejected + duplicates; re-sent files skipped; the lake
holding exactly the accepted rows, each (organisation, source, record_key) once.
The lake is read as Delta tables (Python `deltalake`): the manifest's latest version, and each
data table at the version the manifest records for it.
Usage: bench/reconcile.py LAKE EXPECTED_COUNTS_JSON. Needs the duckdb and deltalake Python
packages (tests/delta/requirements.txt)."""
import json
import os
import sys

import duckdb
from deltalake import DeltaTable

lake, expected_path = sys.argv[1], sys.argv[2]
expected = json.load(open(expected_path))["files"]
con = duckdb.connect()
manifest_table = DeltaTable(f"{lake}/manifest").to_pyarrow_table()
manifest = con.execute(
    "SELECT path, rows_read, accepted, rejected, duplicates, rejects_by_reason, \"table\", "
    "table_version FROM manifest_table"
).fetchall()

problems = []
checked = 0
for e in expected:
    rows = [m for m in manifest if m[0].endswith(e["path"])]
    if e["resent_of"] is not None:
        if rows:
            problems.append(f"{e['path']}: re-sent file was ingested")
        continue
    if len(rows) != 1:
        problems.append(f"{e['path']}: {len(rows)} manifest rows")
        continue
    _, read, accepted, rejected, duplicates, reasons, _, _ = rows[0]
    want_reasons = "; ".join(f"{r}={n}" for r, n in sorted(e["rejects"].items()))
    want = (e["rows"], sum(e["rejects"].values()), e["duplicates"], want_reasons)
    got = (read, rejected, duplicates, reasons)
    if want != got:
        problems.append(f"{e['path']}: expected {want}, got {got}")
    if read != accepted + rejected + duplicates:
        problems.append(f"{e['path']}: {read} != {accepted} + {rejected} + {duplicates}")
    checked += 1

accepted_total = sum(m[2] for m in manifest)
stored = 0
for table in ["contacts", "responses"]:
    versions = [m[7] for m in manifest if m[6] == table and m[7] is not None]
    if not versions:
        continue
    files = DeltaTable(f"{lake}/{table}", version=max(versions)).file_uris()
    n, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT (organisation, source, record_key)) "
        f"FROM read_parquet({files!r})"
    ).fetchone()
    stored += n
    if n != distinct:
        problems.append(f"{table}: {n - distinct} keys stored twice")
if stored != accepted_total:
    problems.append(f"lake holds {stored} rows, manifest accepted {accepted_total}")

rows_total = sum(m[1] for m in manifest)
print(f"reconcile: {checked} files checked, {rows_total} rows read, {accepted_total} accepted "
      f"and in the lake, {len(problems)} problems")
for p in problems[:50]:
    print("  " + p)
sys.stdout.flush()
# os._exit: deltalake's runtime threads can abort the interpreter's own shutdown.
os._exit(1 if problems else 0)

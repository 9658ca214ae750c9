#!/usr/bin/env python3
"""Moves one month's rows out of the yearly web-form and survey exports (and the month's call
export aside) so a lake can be built without that month and the month added afterwards, as a
monthly job would. Usage: bench/split_month.py SAMPLE_DATA YYYY-MM NEW_MONTH_DIR
Rows of the month go to NEW_MONTH_DIR/<source>/<name>_<YYYY-MM>.csv (same header and encoding);
the yearly files keep the rest. The month's telephony file is moved as it is."""
import csv
import os
import shutil
import sys

data, month, out = sys.argv[1], sys.argv[2], sys.argv[3]
year, mm = month.split("-")


def split(path, encoding, in_month, new_name):
    tmp = path + ".rest"
    new_path = os.path.join(out, os.path.basename(os.path.dirname(path)), new_name)
    os.makedirs(os.path.dirname(new_path), exist_ok=True)
    with open(path, newline="", encoding=encoding) as f, \
            open(tmp, "w", newline="", encoding=encoding) as rest, \
            open(new_path, "w", newline="", encoding=encoding) as new:
        reader = csv.reader(f)
        header = next(reader)
        w_rest, w_new = csv.writer(rest, lineterminator="\n"), csv.writer(new, lineterminator="\n")
        w_rest.writerow(header)
        w_new.writerow(header)
        for row in reader:
            (w_new if row and in_month(row) else w_rest).writerow(row)
    os.replace(tmp, path)


fy = int(year) if int(mm) >= 4 else int(year) - 1
fy_label = f"{fy}-{(fy + 1) % 100:02d}"
# Web forms: Windows-1252, "Submitted" (3rd column) as dd/mm/yyyy.
split(os.path.join(data, "webforms", f"forms_{fy_label}.csv"), "cp1252",
      lambda r: len(r) > 2 and r[2][3:10] == f"{mm}/{year}", f"forms_{month}.csv")
# Survey: UTF-8, "Response Date" (2nd column) as yyyy-mm-dd.
split(os.path.join(data, "satisfaction", f"responses_{fy_label}.csv"), "utf-8",
      lambda r: len(r) > 1 and r[1][:7] == month, f"responses_{month}.csv")
calls = os.path.join(data, "telephony", f"calls_{month}.csv")
os.makedirs(os.path.join(out, "telephony"), exist_ok=True)
shutil.move(calls, os.path.join(out, "telephony", os.path.basename(calls)))

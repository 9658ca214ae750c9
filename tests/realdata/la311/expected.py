#!/usr/bin/env python3
"""Independent figures for the MyLA311 extracts in this folder (Python standard library only).

What cex would publish if these exports were mapped: requests per month and channel, with and
without the rows staff created themselves, the channel mix and digital take-up. Printed as JSON.

    python3 tests/realdata/la311/expected.py            # JSON on stdout

Inputs: every `*.csv` beside this script (two layouts of the same City of Los Angeles export,
see SOURCE.md), read with the `csv` module exactly as committed, no cleaning.

Choices, stated so that a difference with cex can be traced to one of them:

- One row is one service request. The key is `SRNumber` (2017 layout) / `srnumber` (2020
  layout); the script reports duplicates of it (there are none in these extracts).
- The month is the calendar month of `CreatedDate` / `createddate`, read as the wall-clock time
  it is written in (Los Angeles local time, no offset in the file): `%m/%d/%Y %I:%M:%S %p` (2017)
  and `%m/%d/%y %H:%M` (2020, a re-saved file with Excel-style short dates). No conversion to
  another time zone, so no row changes month. A row whose date does not parse is counted under
  `unparsed_dates` (there are none).
- The financial year is printed two ways: the UK year cex uses today (April to March, so
  December 2017 is 2017/18 and January 2020 is 2019/20) and the City of Los Angeles' own fiscal
  year (July to June: FY 2017-18 and FY 2019-20), which a pipeline cannot choose today.
- Channels. `RequestSource` / `requestsource` values, as exported, are mapped two ways:
  * `channel_ideal`: the channel as a council would report it. Call and Voicemail are telephone,
    Self Service is the web form, Mobile App is an app channel of its own, Email is e-mail,
    Walk-in is face to face, Letter is post, "Council's Office" is a referral (other).
    "Driver Self Report" (requests raised by the city's own crews, e.g. graffiti and
    sanitation drivers) is `staff`: not customer demand, and left out of `customer_only`.
  * `channel_cex`: the closest mapping the pipeline file in this folder can express today
    (see MAPPING.md): Call/Voicemail telephone, Self Service web, Email email, Walk-in
    face_to_face, Mobile App app; Driver Self Report excluded by the pipeline's row filter
    (`excluded`, left out of every cex figure); Letter post; Council's Office `other`.
  An unlisted source value is reported under `unmapped_sources` (none in these extracts).
- cex's channel mix counts a web row only when its outcome is `submitted`; the pipeline sets
  `default_outcome = "submitted"` for every request, so every row counts. Digital take-up is
  cex's definition with its default `[channels]`: digital (web, webchat, email, app, social) /
  (digital + assisted (telephone, face_to_face)) x 100, rounded to 1 decimal; shares
  are x / month total x 100. Both are rounded to 1 decimal with Python's round() (half to even
  on an exact binary tie); compare with cex at 0.05 tolerance, or on the counts.
- Services: the request type (`RequestType` / `requesttype`) as exported, one service each.
- Repeat requests (`repeat_contact_cex`), cex's right-first-time definition with the request's
  address as the case reference: the address (`Address` / `address`) with every space removed and
  in upper case (blank: not identified). Requests with one address and one request type are put
  in time order (`CreatedDate`, then as they stand in the file); a request is a repeat within
  `n` days when the one before it came at most `n` calendar days earlier (the same day is 0
  days). Counted per month, service and channel (cex's channel), and for the month in all: the
  requests, those identified and the repeats, for n = 1 and 7 (the pipeline's `repeat_days`).
  Rows the pipeline excludes (the crews' reports) are neither counted nor linked.
- Contact resolution as observed (`resolution_cex`): an identified request is observable for
  `n` days when the lake holds identified requests at least `n` days after its date (the last
  such date of the extract is the lake's coverage: one source); it was followed up when the next
  request of the same address and type came at most `n` days later. Per month, service and
  channel and for the month in all: identified, observable, followed up.
- Days to a repeat (`days_to_repeat_cex`): the repeats within the longest window (7 days), by
  days since the request before, per month (each extract is the only month of its year).
"""

import csv
import glob
import json
import os
from collections import Counter, defaultdict
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))

FORMATS = ["%m/%d/%Y %I:%M:%S %p", "%m/%d/%y %H:%M"]

CHANNEL_IDEAL = {
    "Call": "telephone",
    "Voicemail": "telephone",
    "Self Service": "web",
    "Mobile App": "app",
    "Email": "email",
    "Walk-in": "face_to_face",
    "Letter": "post",
    "Council's Office": "other",
    "Driver Self Report": "staff",
}

CHANNEL_CEX = {
    "Call": "telephone",
    "Voicemail": "telephone",
    "Self Service": "web",
    "Email": "email",
    "Walk-in": "face_to_face",
    "Mobile App": "app",
    # Out of scope: the pipeline's `[[sources.exclude]]` rule "staff-generated".
    "Driver Self Report": "excluded",
    "Council's Office": "other",
    "Letter": "post",
}


def field(row, *names):
    """The first of `names` present in the row (the two layouts differ only in case)."""
    lowered = {k.strip().lower(): v for k, v in row.items() if k is not None}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    raise KeyError(names)


def parse(text):
    for fmt in FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def uk_fy(d):
    start = d.year if d.month >= 4 else d.year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def la_fy(d):
    end = d.year + 1 if d.month >= 7 else d.year
    return f"FY {end - 1}-{end % 100:02d}"


def pct(x, total):
    return None if total == 0 else round(100.0 * x / total, 1)


def nested(counter):
    out = defaultdict(dict)
    for (a, b), n in sorted(counter.items()):
        out[a][b] = n
    return dict(out)


REPEAT_DAYS = (1, 7)


def linked(requests):
    """Each request with the days since the one before (`previous_days`) and to the one after
    (`next_days`) of the same address and type, where there is one."""
    groups = defaultdict(list)
    for r in requests:
        if r["reference"]:
            groups[(r["reference"], r["service"])].append(r)
    for group in groups.values():
        group.sort(key=lambda r: (r["created"], r["order"]))
        for before, after in zip(group, group[1:]):
            gap = (after["created"].date() - before["created"].date()).days
            after["previous_days"] = gap
            before["next_days"] = gap
    return requests


def tables(requests):
    """(repeat contact, resolution, days to repeat), each {month: {...}}: repeat contact as
    {"<service>|<channel>|<n>": [requests, identified, repeats]}, resolution as {same key:
    [identified, observable, followed up]}, both with the month's total under "All services|All
    channels|<n>"; days to repeat as {days: repeats}."""
    last_seen = {}
    for r in requests:
        if r["reference"]:
            last_seen[r["month"]] = max(last_seen.get(r["month"], r["created"].date()), r["created"].date())
    table = defaultdict(dict)
    resolution = defaultdict(dict)
    days = defaultdict(Counter)
    for r in requests:
        gap = r.get("previous_days")
        if gap is not None and gap <= max(REPEAT_DAYS):
            days[r["month"]][str(gap)] += 1
        identified = bool(r["reference"])
        for n in REPEAT_DAYS:
            repeat = gap is not None and gap <= n
            observable = identified and (last_seen[r["month"]] - r["created"].date()).days >= n
            followed = observable and r.get("next_days") is not None and r["next_days"] <= n
            for key in (f"{r['service']}|{r['channel']}|{n}", f"All services|All channels|{n}"):
                for t, counts in ((table, (1, identified, repeat)), (resolution, (identified, observable, followed))):
                    cell = t[r["month"]].setdefault(key, [0, 0, 0])
                    for i, c in enumerate(counts):
                        cell[i] += c

    def by_month(t):
        return {m: dict(sorted(cells.items())) for m, cells in sorted(t.items())}

    return by_month(table), by_month(resolution), by_month(days)


def main():
    files = sorted(glob.glob(os.path.join(HERE, "*.csv")))
    per_file = {}
    by_month_source = Counter()
    by_month_ideal = Counter()
    by_month_ideal_customer = Counter()
    by_month_cex = Counter()
    by_month_service = Counter()
    by_month_service_cex = Counter()
    months_fy = {}
    keys = Counter()
    unparsed = 0
    unmapped = Counter()
    total = 0
    requests = []
    for path in files:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        per_file[os.path.basename(path)] = len(rows)
        for row in rows:
            total += 1
            keys[field(row, "SRNumber")] += 1
            created = parse(field(row, "CreatedDate"))
            if created is None:
                unparsed += 1
                continue
            month = created.strftime("%Y-%m")
            months_fy[month] = {"uk_financial_year": uk_fy(created), "la_fiscal_year": la_fy(created)}
            source = field(row, "RequestSource").strip()
            service = field(row, "RequestType").strip()
            if source not in CHANNEL_IDEAL:
                unmapped[source] += 1
            ideal = CHANNEL_IDEAL.get(source, "unmapped")
            cex = CHANNEL_CEX.get(source, "unmapped")
            by_month_source[(month, source)] += 1
            by_month_ideal[(month, ideal)] += 1
            if ideal != "staff":
                by_month_ideal_customer[(month, ideal)] += 1
            by_month_service[(month, service)] += 1
            if cex == "excluded":
                continue
            by_month_cex[(month, cex)] += 1
            requests.append(
                {
                    "month": month,
                    "service": service,
                    "channel": cex,
                    "reference": "".join(field(row, "Address").split()).upper(),
                    "created": created,
                    "order": len(requests),
                }
            )
            by_month_service_cex[(month, cex, service)] += 1

    def mix(counter):
        out = {}
        months = sorted({m for m, _ in counter})
        for m in months:
            month_total = sum(n for (mm, _), n in counter.items() if mm == m)
            out[m] = {
                ch: {"transactions": n, "share_pct": pct(n, month_total)}
                for (mm, ch), n in sorted(counter.items())
                if mm == m
            }
        return out

    def takeup(counter):
        # cex's default [channels]: digital = web, webchat, email, app, social; assisted =
        # telephone, face_to_face.
        digital_channels = ("web", "webchat", "email", "app", "social")
        assisted_channels = ("telephone", "face_to_face")
        out = {}
        for m in sorted({m for m, _ in counter}):
            web = counter.get((m, "web"), 0)
            tel = counter.get((m, "telephone"), 0)
            f2f = counter.get((m, "face_to_face"), 0)
            digital = sum(counter.get((m, ch), 0) for ch in digital_channels)
            assisted = sum(counter.get((m, ch), 0) for ch in assisted_channels)
            out[m] = {
                "web": web,
                "telephone": tel,
                "face_to_face": f2f,
                "digital": digital,
                "assisted": assisted,
                "digital_takeup_pct": pct(digital, digital + assisted),
            }
        return out

    staff = sum(n for (m, ch), n in by_month_ideal.items() if ch == "staff")
    volumes_cex = defaultdict(dict)
    for (m, ch, svc), n in sorted(by_month_service_cex.items()):
        volumes_cex[m].setdefault(ch, {})[svc] = n

    result = {
        "files": per_file,
        "rows": total,
        "unparsed_dates": unparsed,
        "duplicate_keys": sum(n - 1 for n in keys.values() if n > 1),
        "unmapped_sources": dict(unmapped),
        "staff_generated_rows": staff,
        "staff_generated_share_pct": pct(staff, total),
        "months": dict(sorted(months_fy.items())),
        "by_month_source": nested(by_month_source),
        "by_month_channel_ideal": nested(by_month_ideal),
        "by_month_channel_ideal_customer_only": nested(by_month_ideal_customer),
        "by_month_channel_cex": nested(by_month_cex),
        "channel_mix_cex": mix(by_month_cex),
        "channel_mix_ideal_customer_only": mix(by_month_ideal_customer),
        "digital_takeup_all_services_cex": takeup(by_month_cex),
        "digital_takeup_all_services_customer_only": takeup(by_month_ideal_customer),
        "by_month_service": nested(by_month_service),
        "volumes_cex_month_channel_service": dict(volumes_cex),
    }
    (
        result["repeat_contact_cex"],
        result["resolution_cex"],
        result["days_to_repeat_cex"],
    ) = tables(linked(requests))
    print(json.dumps(result, indent=2, sort_keys=False))


if __name__ == "__main__":
    main()

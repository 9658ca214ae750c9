#!/usr/bin/env python3
"""A Python polars reference for cex's monthly job, written from the documented rules
(docs/model.md, docs/pipeline.md, pipelines/sample.toml), not from cex's code, and never calling it.

    bench/polars_ref.py DATA LAKE [OUT]

DATA is a `cex generate` folder (telephony, webforms and satisfaction CSV exports; the visits
workbooks are left out, as in bench/compare.sh's DuckDB script). It does what that DuckDB script
does, step by step, plus the mapping and checks cex applies to these three sources:

1. ingest: every export read as text (web forms decoded from Windows-1252 when not UTF-8; headers
   matched ignoring case and spacing), a file whose SHA-256 was already read skipped whole; each
   row mapped (queue/form/survey service through pipelines/lookups, outcomes, survey channels,
   rating scale, demographics) and checked, rejected for its first problem (missing_value,
   bad_date, bad_number, negative_duration, unmapped_service, unknown_outcome, unknown_channel,
   rating_not_in_scale, unknown_value); each record kept once per source (first in path order);
   written as zstd Parquet partitioned by source, year and month (LAKE/contacts, LAKE/responses);
2. the tables for 2023/24, read back from the lake: monthly volumes (year, month, channel,
   service, outcome), contact-centre figures (month x queue and the month's total), satisfaction
   by channel, and by age band and channel (and by age band).

With OUT, the tables are written there as CSV (for bench/agree.py) and the per-reason rejects as
rejects.json. Prints the number of table rows, as the DuckDB script does. Timestamps of local-time
exports are Europe/London wall-clock times: in the October repeated hour the earlier instant, a
time in the March gap rejected as bad_date.
"""
import csv
import glob
import hashlib
import io
import json
import os
import sys

import polars as pl

ZONE = "Europe/London"
FY_START, FY_END = "2023-04-01", "2024-04-01"  # financial year 2023/24
SERVICE_LEVEL_SECONDS = 20
SHORT_ABANDON_SECONDS = 5
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOOKUPS = os.path.join(REPO, "pipelines", "lookups")


def norm(s):
    """Case and spacing ignored: lower case, runs of white space as one space, trimmed."""
    return " ".join(str(s).split()).lower()


def lookup(path):
    with open(os.path.join(LOOKUPS, path), encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    return {norm(k): v for k, v in rows}


def vocab(groups):
    """{"answered": ["Answered"], ...} -> {"answered": "answered", ...} by normalised raw value."""
    return {norm(v): k for k, vs in groups.items() for v in vs}


def mapped(df, col, table, dtype=pl.String):
    """The column looked up in a {normalised raw: value} table (null when unknown). Each distinct
    raw value is normalised once, in Python; the rows are then looked up by their raw text."""
    raw = {v: table.get(norm(v)) for v in df.get_column(col).unique().drop_nulls().to_list()}
    return pl.col(col).replace_strict({k: v for k, v in raw.items() if v is not None},
                                      default=None, return_dtype=dtype)


def blank(col):
    return pl.col(col).is_null() | (pl.col(col).str.strip_chars() == "")


# The mapping of pipelines/sample.toml for the three CSV sources.
SOURCES = {
    "telephony": dict(
        glob="telephony/*.csv", kind="calls", channel="telephone",
        columns={"record_key": "Contact ID", "ts": "Initiation Timestamp", "category": "Queue",
                 "outcome": "Disposition", "wait": "Queue Wait (s)", "talk": "Talk Time (s)",
                 "acw": "After Call Work (s)", "rfc": "Resolved First Contact", "location": "Site"},
        ts_format="%Y-%m-%dT%H:%M:%S%z", offset=True, durations=["wait", "talk", "acw"],
        service=lookup("queues.csv"),
        outcomes=vocab({"answered": ["Answered"], "abandoned": ["Abandoned"], "callback": ["Callback"]}),
        rfc=vocab({"yes": ["Y", "Yes"], "no": ["N", "No"]}),
    ),
    "webforms": dict(
        glob="webforms/*.csv", kind="webforms", channel="web",
        columns={"record_key": "Reference", "ts": "Submitted", "category": "Form Name",
                 "outcome": "Status", "device": "Device"},
        ts_format="%d/%m/%Y %H:%M:%S", offset=False, durations=[],
        service=lookup("forms.csv"),
        outcomes=vocab({"submitted": ["Submitted"], "abandoned": ["Abandoned"], "draft": ["Draft"]}),
    ),
    "satisfaction": dict(
        glob="satisfaction/*.csv", kind="satisfaction",
        columns={"record_key": "Response ID", "ts": "Response Date", "channel_raw": "Channel",
                 "category": "Service", "rating_raw": "Rating", "comment": "Comment",
                 "postcode": "Postcode", "age_band": "Age Band", "sex": "Sex",
                 "ethnicity": "Ethnic Group", "disability": "Disability"},
        ts_format="%Y-%m-%d %H:%M:%S", offset=False, durations=[],
        service=lookup("survey_services.csv"), service_when_blank="Unspecified",
        channels=vocab({"telephone": ["Phone", "Telephone"], "face_to_face": ["Face to Face", "Face-to-face"],
                        "web": ["Web", "Website", "Online form"], "webchat": ["Webchat", "Web chat"]}),
    ),
}
# [scales.good_average_poor]: label, score, sentiment by normalised answer.
SCALE = {"good": ("Good", 1.0, "positive"), "average": ("Average", 0.0, "neutral"),
         "ok": ("Average", 0.0, "neutral"), "poor": ("Poor", -1.0, "negative")}
DEMOGRAPHICS = {
    "age_band": ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+"],
    "sex": ["Female", "Male", "Another term"],
    "ethnicity": ["Asian or Asian British", "Black or Black British", "Mixed or multiple", "White",
                  "Other ethnic group"],
    "disability": ["Yes", "No"],
}
SYNONYMS = {"age_band": {"85+": ["85 +", "85 and over"]}}


def read_text(path, encoding):
    """The file's text as UTF-8 bytes: UTF-8 (with or without BOM) when valid, else Windows-1252."""
    raw = open(path, "rb").read()
    sha = hashlib.sha256(raw).hexdigest()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if encoding == "auto":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raw = raw.decode("cp1252", errors="replace").encode("utf-8")
    return raw, sha


def read_source(data, name, spec):
    """Every export of a source, as text, with canonical column names, file order and row."""
    frames, seen, skipped = [], set(), 0
    for i, path in enumerate(sorted(glob.glob(os.path.join(data, spec["glob"])))):
        raw, sha = read_text(path, "auto" if name == "webforms" else "utf-8")
        if sha in seen:  # the same content sent again: skipped whole
            skipped += 1
            continue
        seen.add(sha)
        df = pl.read_csv(io.BytesIO(raw), infer_schema=False, truncate_ragged_lines=True)
        # A blank line is not a row (polars reads it as a row of nulls).
        df = df.filter(~pl.all_horizontal(pl.all().is_null()))
        by_norm = {norm(c): c for c in df.columns}
        df = df.select(
            pl.col(by_norm[norm(raw_name)]).alias(canon) for canon, raw_name in spec["columns"].items()
        ).with_columns(
            pl.lit(i, pl.Int32).alias("file_no"),
            pl.lit(sha[:16]).alias("source_file_id"),
            (pl.int_range(pl.len(), dtype=pl.UInt32) + 2).alias("source_row"),
        )
        frames.append(df)
    return pl.concat(frames), skipped


def timestamp(spec):
    ts = pl.col("ts").str.strip_chars()
    if spec["offset"]:  # an exact instant, shown in local time
        return ts.str.strptime(pl.Datetime("ms", "UTC"), spec["ts_format"], strict=False).dt.convert_time_zone(ZONE)
    # a local wall-clock time: the repeated October hour's earlier instant, the March gap null
    return ts.str.strptime(pl.Datetime("ms"), spec["ts_format"], strict=False).dt.replace_time_zone(
        ZONE, ambiguous="earliest", non_existent="null")


def number(col):
    return pl.col(col).str.strip_chars().str.replace_all(",", "").cast(pl.Float64, strict=False)


def demographic(df, field):
    table = {norm(c): c for c in DEMOGRAPHICS[field]}
    for c, syns in SYNONYMS.get(field, {}).items():
        table.update({norm(s): c for s in syns})
    table["prefer not to say"] = "Prefer not to say"
    return (pl.when(blank(field)).then(pl.lit("Not answered"))
            .otherwise(mapped(df, field, table)))


def ingest(data, name, spec):
    """Mapped, checked, each record once: (accepted frame, rejects by reason, duplicates, skipped)."""
    df, skipped = read_source(data, name, spec)
    df = df.with_columns(
        pl.col("record_key").str.strip_chars(),
        pl.col("category").str.strip_chars(),
        timestamp(spec).alias("timestamp"),
        *[number(d).alias(d + "_n") for d in spec["durations"]],
    )
    service = mapped(df, "category", spec["service"])
    if "service_when_blank" in spec:
        service = pl.when(blank("category")).then(pl.lit(spec["service_when_blank"])).otherwise(service)
    df = df.with_columns(service.alias("service"))
    # The checks, in order; a row is rejected for the first that fails.
    checks = [("missing_value", blank("record_key") | blank("ts")),
              ("bad_date", pl.col("timestamp").is_null())]
    checks += [("bad_number", pl.any_horizontal([~blank(d) & pl.col(d + "_n").is_null() for d in spec["durations"]]))] if spec["durations"] else []
    checks += [("negative_duration", pl.any_horizontal([pl.col(d + "_n") < 0 for d in spec["durations"]]))] if spec["durations"] else []
    if spec["kind"] == "satisfaction":
        df = df.with_columns(
            mapped(df, "channel_raw", spec["channels"]).alias("channel"),
            mapped(df, "rating_raw", {k: v[0] for k, v in SCALE.items()}).alias("rating"),
            mapped(df, "rating_raw", {k: v[1] for k, v in SCALE.items()}, pl.Float64).alias("score"),
            mapped(df, "rating_raw", {k: v[2] for k, v in SCALE.items()}).alias("sentiment"),
            *[demographic(df, f).alias(f) for f in DEMOGRAPHICS],
        )
        checks += [("unknown_channel", pl.col("channel").is_null()),
                   ("unmapped_service", pl.col("service").is_null()),
                   ("rating_not_in_scale", pl.col("rating").is_null()),
                   ("unknown_value", pl.any_horizontal([pl.col(f).is_null() for f in DEMOGRAPHICS]))]
    else:
        df = df.with_columns(mapped(df, "outcome", spec["outcomes"]).alias("outcome_c"))
        checks += [("unmapped_service", pl.col("service").is_null()),
                   ("unknown_outcome", pl.col("outcome_c").is_null())]
        if "rfc" in spec:
            df = df.with_columns(mapped(df, "rfc", spec["rfc"]).alias("rfc_c"))
            checks += [("unknown_value", ~blank("rfc") & pl.col("rfc_c").is_null())]
    reason = pl.lit(None, pl.String)
    for r, bad in reversed(checks):
        reason = pl.when(bad).then(pl.lit(r)).otherwise(reason)
    df = df.with_columns(reason.alias("reason"))
    rows = df.height
    rejects = dict(df.filter(pl.col("reason").is_not_null())["reason"].value_counts().iter_rows())
    df = df.filter(pl.col("reason").is_null())  # (each frame dropped as soon as the next is made)
    kept = df.unique(subset=["record_key"], keep="first", maintain_order=True)
    duplicates = df.height - kept.height
    del df
    # Local calendar fields from the wall-clock time (converted from the instant once).
    kept = kept.with_columns(pl.col("timestamp").dt.replace_time_zone(None).alias("local"))
    kept = kept.with_columns(pl.col("local").dt.year().alias("year"),
                             pl.col("local").dt.month().cast(pl.Int8).alias("month"))
    fy_start = pl.col("year") - (pl.col("month") < 4).cast(pl.Int32)  # April to March
    years = range(kept["year"].min() - 1, kept["year"].max() + 1)
    common = [
        pl.lit("Example City Council").alias("organisation"), pl.lit(name).alias("source"),
        pl.col("local").dt.date().alias("date"), "year", "month",
        fy_start.replace_strict({y: f"{y}/{(y + 1) % 100:02d}" for y in years},
                                return_dtype=pl.String).alias("financial_year"),
    ]
    if spec["kind"] == "satisfaction":
        out = kept.select(
            *common[:2], "channel", "service", "category", "timestamp", *common[2:],
            pl.col("rating_raw").str.strip_chars(), "rating", "score", "sentiment", *DEMOGRAPHICS,
            pl.col("postcode").str.strip_chars().str.to_uppercase().str.extract(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)\b").alias("postcode_district"),
            pl.col("comment")
            .str.replace_all(r"[\w.+-]+@[\w-]+\.[\w.-]+", "[email]")
            .str.replace_all(r"(?i)\b[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2}\b", "[postcode]")
            .str.replace_all(r"\+?\d[\d ]{8,}\d", "[number]").alias("comment"),
            "record_key", "source_file_id", "source_row",
        )
    else:
        handle = (pl.col("talk_n") + pl.col("acw_n")) if spec["durations"] else pl.lit(None, pl.Float64)
        out = kept.select(
            *common[:2], pl.lit(spec["channel"]).alias("channel"), "service", "category", "timestamp",
            *common[2:], pl.col("outcome_c").alias("outcome"), pl.lit(1, pl.UInt32).alias("contacts"),
            (pl.col("wait_n") if spec["durations"] else pl.lit(None, pl.Float64)).alias("wait_seconds"),
            handle.alias("handle_seconds"),
            (pl.col("rfc_c").replace_strict({"yes": True, "no": False}, default=None, return_dtype=pl.Boolean)
             if "rfc" in spec else pl.lit(None, pl.Boolean)).alias("resolved_first_contact"),
            (pl.col("location") if "location" in spec["columns"] else pl.lit(None, pl.String)).alias("location"),
            (pl.col("device") if "device" in spec["columns"] else pl.lit(None, pl.String)).alias("device"),
            "record_key", "source_file_id", "source_row",
        )
    return out, {"rows": rows, "accepted": out.height, "rejects": rejects,
                 "duplicates": duplicates, "files_skipped": skipped}


def tables(lake):
    contacts = pl.scan_parquet(f"{lake}/contacts/**/*.parquet", hive_partitioning=True)
    responses = pl.scan_parquet(f"{lake}/responses/**/*.parquet", hive_partitioning=True)
    fy = pl.col("financial_year") == "2023/24"
    out = {}
    # Monthly volumes by channel, service and outcome.
    out["volumes"] = (contacts.filter(fy).group_by("year", "month", "channel", "service", "outcome")
                      .agg(pl.col("contacts").sum()).sort(pl.all()))
    # Contact-centre figures by month and queue, and the month's total.
    answered, abandoned = pl.col("outcome") == "answered", pl.col("outcome") == "abandoned"
    wait = pl.col("wait_seconds")
    figures = [
        pl.col("contacts").sum().alias("offered"),
        answered.sum().alias("answered"), abandoned.sum().alias("abandoned"),
        (pl.col("outcome") == "callback").sum().alias("callbacks"),
        (abandoned & (wait < SHORT_ABANDON_SECONDS)).sum().alias("short_abandons"),
        (answered & (wait <= SERVICE_LEVEL_SECONDS)).sum().alias("answered_within"),
        (answered & pl.col("resolved_first_contact")).sum().alias("resolved_first"),
        (answered & pl.col("resolved_first_contact").is_not_null()).sum().alias("resolution_known"),
        wait.filter(answered).mean().alias("asa_seconds"),
        pl.col("handle_seconds").filter(answered).mean().alias("aht_seconds"),
    ]
    rates = [
        (pl.col("abandoned") / pl.col("offered") * 100).alias("abandonment_rate_pct"),
        (pl.col("answered_within") / pl.col("offered") * 100).alias("service_level_pct"),
        (pl.col("resolved_first") / pl.col("resolution_known") * 100).alias("first_contact_resolution_pct"),
    ]
    calls = contacts.filter(fy & (pl.col("channel") == "telephone"))
    by_queue = calls.group_by("year", "month", "service", pl.col("category").alias("queue")).agg(figures)
    total = calls.group_by("year", "month").agg(figures).with_columns(
        pl.lit("All services").alias("service"), pl.lit("All queues").alias("queue"))
    out["contact_centre"] = (pl.concat([by_queue, total], how="diagonal").with_columns(rates)
                             .sort("year", "month", "service", "queue"))
    # Satisfaction by channel, by age band and channel, and by age band, for the year.
    satisfaction = [
        pl.len().alias("responses"),
        (pl.col("sentiment") == "positive").sum().alias("positive"),
        (pl.col("sentiment") == "neutral").sum().alias("neutral"),
        (pl.col("sentiment") == "negative").sum().alias("negative"),
        pl.col("score").mean().alias("net_satisfaction"),
    ]
    shares = [
        ((pl.col("positive") + pl.col("neutral") - pl.col("negative")) / pl.col("responses") * 100).alias("council_score_pct"),
        (pl.col("positive") / pl.col("responses") * 100).alias("satisfied_pct"),
        (pl.col("negative") / pl.col("responses") * 100).alias("dissatisfied_pct"),
    ]
    year = responses.filter(fy)
    out["satisfaction_by_channel"] = year.group_by("channel").agg(satisfaction).with_columns(shares).sort("channel")
    out["age_band_by_channel"] = (year.group_by("age_band", "channel").agg(satisfaction)
                                  .with_columns(shares).sort("age_band", "channel"))
    out["age_band"] = year.group_by("age_band").agg(satisfaction).with_columns(shares).sort("age_band")
    return dict(zip(out, pl.collect_all(list(out.values()))))


def main():
    data, lake = sys.argv[1], sys.argv[2]
    out_dir = sys.argv[3] if len(sys.argv) > 3 else None
    os.makedirs(lake, exist_ok=True)
    counts = {}
    for name, spec in SOURCES.items():  # each source written as soon as it is ready
        frame, counts[name] = ingest(data, name, spec)
        table = "responses" if spec["kind"] == "satisfaction" else "contacts"
        frame.write_parquet(f"{lake}/{table}", compression="zstd", partition_by=["source", "year", "month"])
        del frame
    result = tables(lake)
    print(sum(t.height for t in result.values()))
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        for name, t in result.items():
            t.write_csv(f"{out_dir}/{name}.csv")
        json.dump(counts, open(f"{out_dir}/ingest.json", "w"), indent=1)


if __name__ == "__main__":
    main()

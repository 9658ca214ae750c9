"""The attacker against tiny hand-built publications: one for each leak issue 14 lists (share x
total, cross-table subtraction, difference against the rest, a zero chosen as secondary, N + one
sentiment), a printed small count, and a safely suppressed folder where nothing may be recovered.
Then several publications of one financial year attacked together (`--earlier`): a small
difference between two printed year-to-date counts, a blank pinned between the months around it,
a month's row blank in one release and printed in another, and a safe pair.

    python3 -m pytest tests/disclosure/test_attack.py     (or: python3 tests/disclosure/test_attack.py)
"""
import atexit
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import attack  # noqa: E402

RULE = "Counts from 1 to 9 and what is derived from them are suppressed (blank, listed in 'suppressed')."
SENT = "responses, positive, neutral, negative"


def publish(tables, root=None):
    """A publication folder: {"equality/name": csv text}; each folder gets its tables.json."""
    root = Path(root or tempfile.mkdtemp(prefix="cex-attack-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    index = {}
    for name, text in tables.items():
        path = root / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.strip() + "\n", encoding="utf-8")
        index.setdefault(path.parent, []).append(
            {"name": path.stem, "title": path.stem, "description": RULE,
             "rows": text.strip().count("\n")})
    for folder, entries in index.items():
        (folder / "tables.json").write_text(json.dumps(entries), encoding="utf-8")
    return root


def recovered(verdict, table, row, column):
    """The bounds the attacker found for one cell, if they are narrower than the threshold."""
    for r in verdict["recoverable"]:
        if (r["table"], r["row"], r["column"]) == (table, row, column):
            return r["lower"], r["upper"]
    return None


# Groups A..D of 60, 5, 50 and 45 respondents: B is below the threshold, D hidden with it so that
# neither is the total minus the rest. Every published count is 0 or at least 10.
SAFE = f"""
age_band,responses,positive,neutral,negative,satisfied_pct,share_pct,suppressed
A,60,30,15,15,50.0,37.5,
B,,,,,,,"{SENT}, satisfied_pct, share_pct"
C,50,20,15,15,40.0,31.25,
D,,,,,,,"{SENT}, satisfied_pct, share_pct"
All respondents,160,72,44,44,45.0,100.0,
"""


def test_safe_publication_gives_nothing_away():
    verdict = attack.attack(publish({"equality/equality_age_band": SAFE}))
    assert verdict["threshold"] == 10 and verdict["threshold_stated"] == 10
    assert verdict["suppressed_cells"] == 8
    assert verdict["recoverable"] == [] and verdict["published_small"] == []
    assert verdict["failed_families"] == []
    assert verdict["tightest_width"] >= 10  # B's neutral: 0..14
    assert verdict["verdict"] == "pass"
    folder = publish({"equality/equality_age_band": SAFE})
    assert attack.main([str(folder), "--out", str(folder / "verdict.json")]) == 0
    assert json.loads((folder / "verdict.json").read_text())["verdict"] == "pass"


def test_share_times_total_recovers_a_hidden_group():
    # B's share is printed: 3.125% of 160 respondents is 5, and D is 50 - 5.
    leaky = SAFE.replace(f'B,,,,,,,"{SENT}, satisfied_pct, share_pct"',
                         f'B,,,,,,3.125,"{SENT}, satisfied_pct"')
    verdict = attack.attack(publish({"equality/equality_age_band": leaky}))
    assert recovered(verdict, "equality_age_band", "B", "responses") == (5, 5)
    assert recovered(verdict, "equality_age_band", "D", "responses") == (45, 45)
    assert "share" in next(r for r in verdict["recoverable"] if r["row"] == "B")["kinds"]
    assert verdict["verdict"] == "fail"
    # Without the share relation the same folder is safe.
    only = set(attack.KINDS) - {"share"}
    assert attack.attack(publish({"equality/equality_age_band": leaky}), only=only)[
        "recoverable"] == []


def test_truth_confirms_what_was_recovered():
    leaky = SAFE.replace(f'B,,,,,,,"{SENT}, satisfied_pct, share_pct"',
                         f'B,,,,,,3.125,"{SENT}, satisfied_pct"')
    truth = publish({"equality_age_band": """
age_band,responses,positive,neutral,negative,satisfied_pct,share_pct,suppressed
A,60,30,15,15,50.0,37.5,
B,5,2,2,1,40.0,3.125,
C,50,20,15,15,40.0,31.25,
D,45,20,12,13,44.44444444444444,28.125,
All respondents,160,72,44,44,45.0,100.0,
"""})
    verdict = attack.attack(publish({"equality/equality_age_band": leaky}), truth=truth)
    assert verdict["truth"]["cells_with_truth"] == 8
    assert verdict["truth"]["pinned_confirmed"] == 2
    assert verdict["truth"]["pinned_wrong"] == [] and verdict["truth"]["bounds_violated"] == []


def test_one_way_minus_by_channel_recovers_the_hidden_channel():
    # 16-24: 188 in all, 14 + 33 + 136 by face to face, telephone and web: webchat is 5.
    one_way = """
age_band,responses,positive,neutral,negative,suppressed
16-24,188,100,50,38,
25-34,60,30,15,15,
All respondents,248,130,65,53,
"""
    by_channel = f"""
age_band,channel,responses,positive,neutral,negative,suppressed
16-24,face_to_face,14,14,0,0,
16-24,telephone,33,13,10,10,
16-24,web,136,73,40,23,
16-24,webchat,,,,,"{SENT}"
25-34,telephone,60,30,15,15,
"""
    tables = {"equality/equality_age_band": one_way,
              "equality/equality_age_band_by_channel": by_channel}
    verdict = attack.attack(publish(tables))
    table = "equality_age_band_by_channel"
    assert recovered(verdict, table, "16-24 / webchat", "responses") == (5, 5)
    assert recovered(verdict, table, "16-24 / webchat", "negative") == (5, 5)
    assert recovered(verdict, table, "16-24 / webchat", "positive") == (0, 0)
    assert "cross_table" in verdict["recoverable_by_kind"]
    # Each table on its own gives nothing away.
    only = set(attack.KINDS) - {"cross_table"}
    assert attack.attack(publish(tables), only=only)["recoverable"] == []


def test_difference_against_the_rest_recovers_a_hidden_group():
    # No total row: B (5 respondents, 1 dissatisfied) is hidden alone. A's and C's differences
    # against the rest give the rest's rates 16/55 and 16/65: two equations for B's N and negative.
    rest_a, rest_c = 16 / 55 * 100, 16 / 65 * 100
    table = f"""
age_band,responses,positive,neutral,negative,dissatisfied_pct,compared_with,dissatisfied_difference_pp,suppressed
A,60,30,15,15,25.0,the rest of those who answered,{25.0 - rest_a!r},
B,,,,,,,,"{SENT}, dissatisfied_pct"
C,50,20,15,15,30.0,the rest of those who answered,{30.0 - rest_c!r},
"""
    verdict = attack.attack(publish({"equality/equality_age_band": table}))
    assert recovered(verdict, "equality_age_band", "B", "responses") == (5, 5)
    assert recovered(verdict, "equality_age_band", "B", "negative") == (1, 1)
    only = set(attack.KINDS) - {"difference"}
    assert attack.attack(publish({"equality/equality_age_band": table}), only=only)[
        "recoverable"] == []


def test_zero_chosen_as_secondary_leaves_the_primary_narrowed():
    # 75-84: negative 5 is hidden and the smallest other part, a true 0, with it: together they
    # are 40 - 35 = 5, so each is 0..5. Hiding 12 instead (a sum of 17) would protect it.
    leaky = """
age_band,responses,positive,neutral,negative,suppressed
65-74,50,20,15,15,
75-84,40,35,,,"neutral, negative"
"""
    verdict = attack.attack(publish({"equality/equality_age_band": leaky}))
    assert recovered(verdict, "equality_age_band", "75-84", "negative") == (0, 5)
    assert recovered(verdict, "equality_age_band", "75-84", "neutral") == (0, 5)
    assert verdict["tightest_width"] == 5 and verdict["pinned_count"] == 0
    safe = leaky.replace("75-84,40,35", "75-84,52,35")
    assert attack.attack(publish({"equality/equality_age_band": safe}))["verdict"] == "pass"


def test_n_and_sentiments_shown_reveal_the_complement():
    # N, Good and Average published, Poor hidden alone (no secondary): Poor = 40 - 25 - 10.
    table = """
organisation,financial_year,channel,responses,positive,neutral,negative,satisfied_pct
Example,2023/24,web,40,25,10,,62.5
Example,2023/24,telephone,120,80,25,15,66.66666666666667
"""
    verdict = attack.attack(publish({"satisfaction_by_channel": table}))
    assert recovered(verdict, "satisfaction_by_channel", "Example / 2023/24 / web",
                     "negative") == (5, 5)
    assert verdict["recoverable_by_kind"].get("parts") == 1


def test_small_count_printed_in_a_kpi_table_fails():
    table = """
organisation,financial_year,channel,responses,positive,neutral,negative
Example,2023/24,webchat,3,2,0,1
Example,2023/24,telephone,120,80,25,15
"""
    folder = publish({"satisfaction_by_channel": table})
    verdict = attack.attack(folder)
    assert {(s["column"], s["value"]) for s in verdict["published_small"]} == {
        ("responses", 3), ("positive", 2), ("negative", 1)}
    assert verdict["verdict"] == "fail"
    assert attack.main([str(folder), "--out", str(folder / "v.json")]) == 1


def test_representation_hiding_another_secondary_undoes_both():
    # The one-way table hides B (5) and D (45); the representation table hides B and C (50).
    # D printed there and C printed here: B = 160 - 60 - 50 - 45.
    representation = """
field,group,respondents,respondent_share_pct,population,population_share_pct,representation_ratio
age_band,A,60,37.5,1000,25.0,1.5
age_band,B,,,1000,25.0,
age_band,C,,,1000,25.0,
age_band,D,45,28.125,1000,25.0,1.125
"""
    verdict = attack.attack(publish({"equality/equality_age_band": SAFE,
                                     "equality/representation_age_band": representation}))
    assert recovered(verdict, "equality_age_band", "B", "responses") == (5, 5)
    assert recovered(verdict, "representation_age_band", "age_band B", "respondents") == (5, 5)
    assert "same_cohort" in verdict["recoverable_by_kind"]


def test_kpi_months_and_ratings_recover_a_hidden_month():
    # May's webchat row is hidden, but the year's webchat row is printed: May = year - April.
    # The ratings table hides webchat's Good and Average (their sum is 26), but Good is the
    # positive count wherever both are printed (web: 12 = 12), so Good = 20.
    monthly = """
organisation,financial_year,year,month,channel,responses,positive,neutral,negative
Example,2024/25,2024,4,webchat,20,15,5,0
Example,2024/25,2024,5,webchat,,,,
Example,2024/25,2024,5,web,30,12,10,8
"""
    by_channel = """
organisation,financial_year,channel,responses,positive,neutral,negative
Example,2024/25,web,30,12,10,8
Example,2024/25,webchat,26,20,6,0
"""
    ratings = """
organisation,financial_year,channel,rating,responses,share_pct
Example,2024/25,web,Good,12,40.0
Example,2024/25,web,Average,10,33.3
Example,2024/25,web,Poor,8,26.7
Example,2024/25,webchat,Good,,
Example,2024/25,webchat,Average,,
"""
    tables = {"satisfaction_monthly": monthly, "satisfaction_by_channel": by_channel,
              "satisfaction_ratings": ratings}
    verdict = attack.attack(publish(tables))
    row = "Example / 2024/25 / webchat"
    assert recovered(verdict, "satisfaction_monthly", row + " / 2024-05", "responses") == (6, 6)
    assert recovered(verdict, "satisfaction_monthly", row + " / 2024-05", "negative") == (0, 0)
    assert recovered(verdict, "satisfaction_ratings", row + " / Good", "responses") == (20, 20)
    assert verdict["pinned_by_value"] == {"0": 1, "1-9": 4, "10+": 1}
    # Without the rating = sentiment guess, Good is anything from 0 to 26.
    only = set(attack.KINDS) - {"same_cohort"}
    assert recovered(attack.attack(publish(tables), only=only), "satisfaction_ratings",
                     row + " / Good", "responses") is None


def test_a_relation_the_publication_contradicts_is_dropped():
    # The KPI table and the equality table disagree about all respondents (different scopes): the
    # same_cohort family is dropped, so the hidden cell is not "recovered" from it.
    kpi = """
organisation,financial_year,channel,responses,positive,neutral,negative
Example,2023/24,web,100,50,25,25
Example,2023/24,telephone,100,50,25,25
"""
    equality = f"""
channel,responses,positive,neutral,negative,suppressed
telephone,,,,,"{SENT}"
web,80,40,20,20,
All respondents,150,75,35,40,
"""
    verdict = attack.attack(publish({"satisfaction_by_channel": kpi,
                                     "equality/equality_channel": equality}))
    assert any(f["family"][0] == "same_cohort" for f in verdict["failed_families"])
    # Within the equality table alone, telephone = 150 - 80 = 70 is recovered (its own total).
    assert recovered(verdict, "equality_channel", "telephone", "responses") == (70, 70)


def test_a_weighted_score_beside_a_hidden_channel_gives_it_back():
    # Face to face (4 / 1 / 1, 600 contacts) is hidden, telephone with it; but the weighted
    # satisfaction and its weights are printed: face to face's weight 100 = 600 contacts / N
    # gives N = 6, and the weighted score then its score.
    by_channel = f"""
organisation,financial_year,channel,responses,positive,neutral,negative,suppressed
C,2024/25,face_to_face,,,,,"{SENT}"
C,2024/25,telephone,,,,,"{SENT}"
C,2024/25,web,300,150,60,90,
"""
    weighted = """
organisation,financial_year,service,responses,positive,neutral,negative,weighting,weighted_council_score_pct,sum_weights,n_eff,suppressed
C,2024/25,All services,406,224,81,101,channel,66.66666666666667,9600.0,204.8,
"""
    weights = """
organisation,financial_year,scope,weighting,channel,service,contacts,responses,weight,capped,suppressed
C,2024/25,All services,channel,face_to_face,All services,600,,100.0,false,responses
C,2024/25,All services,channel,telephone,All services,6000,,60.0,false,responses
C,2024/25,All services,channel,web,All services,3000,300,10.0,false,
"""
    tables = {"satisfaction_by_channel": by_channel, "satisfaction_weighted": weighted,
              "satisfaction_weights": weights}
    verdict = attack.attack(publish(tables))
    assert verdict["failed_families"] == []
    pinned = [r for r in verdict["recoverable"] if r["column"] == "responses"
              and r["row"].endswith("face_to_face")]
    assert pinned and all((r["lower"], r["upper"]) == (6, 6) for r in pinned), verdict
    assert all("weighted" in r["kinds"] for r in pinned)
    assert verdict["verdict"] == "fail"
    # Without the weighted relations, face to face is only the total minus the others: safe.
    only = set(attack.KINDS) - {"weighted"}
    safe = attack.attack(publish(tables), only=only)
    assert not [r for r in safe["recoverable"] if r["row"].endswith("face_to_face")]


def releases(folders):
    """Publication folders named as cex names them ({"2025-02": tables}), side by side."""
    root = Path(tempfile.mkdtemp(prefix="cex-releases-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return [publish(tables, root / name) for name, tables in folders.items()]


def recovered_in(verdict, folder, table, row, column):
    """The bounds found for one cell of one release, if narrower than the threshold."""
    for r in verdict["recoverable"]:
        if "earlier" not in r and (r["folder"], r["table"], r["row"], r["column"]) == (
                str(folder), table, row, column):
            return r["lower"], r["upper"]
    return None


def difference_found(verdict, earlier, later, row, column):
    """The bounds found for a difference between two releases' counts of one cell."""
    for r in verdict["recoverable"]:
        if (r.get("earlier"), r["folder"], r["row"], r["column"]) == (
                str(earlier), str(later), row, column):
            return r["lower"], r["upper"]
    return None


def test_a_small_difference_between_two_printed_year_to_date_counts_fails():
    # 65-74 year olds dissatisfied: 24 in February's publication, 26 in March's: 2 in March.
    feb, mar = releases({"2025-02": {"equality/equality_age_band": """
age_band,responses,positive,neutral,negative,suppressed
65-74,60,20,16,24,
75-84,50,20,15,15,
All respondents,110,40,31,39,
"""}, "2025-03": {"equality/equality_age_band": """
age_band,responses,positive,neutral,negative,suppressed
65-74,72,30,16,26,
75-84,50,20,15,15,
All respondents,122,50,31,41,
"""}})
    # Each publication on its own is safe.
    assert attack.attack(feb)["verdict"] == attack.attack(mar)["verdict"] == "pass"
    verdict = attack.attack(mar, earlier=[feb])
    assert [r["folder"] for r in verdict["releases"]] == [str(feb), str(mar)]
    assert verdict["releases"][1]["last_month"] == "2025-03"
    small = {(d["row"], d["column"]): d for d in verdict["published_small_differences"]}
    assert set(small) == {("65-74", "negative"), ("All respondents", "negative")}
    assert small[("65-74", "negative")] == {
        "earlier": str(feb), "later": str(mar), "table": "equality_age_band", "row": "65-74",
        "column": "negative", "earlier_value": 24, "later_value": 26, "difference": 2}
    assert verdict["published_small"] == [] and verdict["recoverable"] == []
    assert verdict["relations"]["release_difference"] == 12
    assert verdict["verdict"] == "fail"
    assert attack.main([str(mar), "--earlier", str(feb), "--out", str(mar / "v.json")]) == 1
    assert json.loads((mar / "v.json").read_text())["published_small_differences_count"] == 2


def test_a_blank_between_two_printed_months_is_pinned_between_them():
    # A: 20 in January's publication, 25 in March's. February hides A (and B with it), but a
    # year-to-date count only grows: February's A is 20..25, and so is B (62 - A).
    jan, feb, mar = releases({
        "2025-01": {"equality/equality_age_band": """
age_band,responses,suppressed
A,20,
B,30,
All respondents,50,
"""}, "2025-02": {"equality/equality_age_band": """
age_band,responses,suppressed
A,,responses
B,,responses
All respondents,62,
"""}, "2025-03": {"equality/equality_age_band": """
age_band,responses,suppressed
A,25,
B,50,
All respondents,75,
"""}})
    assert attack.attack(feb)["recoverable"] == []  # February alone: A + B = 62
    verdict = attack.attack(mar, earlier=[jan, feb])
    table = "equality_age_band"
    assert recovered_in(verdict, feb, table, "A", "responses") == (20, 25)
    assert recovered_in(verdict, feb, table, "B", "responses") == (37, 42)
    a = next(r for r in verdict["recoverable"] if r["row"] == "A" and "earlier" not in r)
    assert "release_difference" in a["kinds"]
    # February's A was 0..5 more than January's, March's 0..5 more than February's.
    assert difference_found(verdict, jan, feb, "A", "responses") == (0, 5)
    assert difference_found(verdict, feb, mar, "A", "responses") == (0, 5)
    # B's differences too (7..12 and 8..13): each is named by its later release.
    assert difference_found(verdict, jan, feb, "B", "responses") == (7, 12)
    assert difference_found(verdict, feb, mar, "B", "responses") == (8, 13)
    assert verdict["recoverable_by_folder"] == {str(feb): 4, str(mar): 2}
    assert sum("earlier" in r for r in verdict["recoverable"]) == 4
    # January's and March's A, both printed: 5 respondents since January.
    assert [(d["earlier"], d["row"], d["difference"])
            for d in verdict["published_small_differences"]] == [(str(jan), "A", 5)]
    assert verdict["verdict"] == "fail"
    # Without the relation between releases, February's A is not narrowed.
    only = set(attack.KINDS) - {"release_difference"}
    assert recovered_in(attack.attack(mar, earlier=[jan, feb], only=only), feb, table, "A",
                        "responses") is None


def test_a_month_printed_in_one_release_gives_back_its_blank_in_the_next():
    # February's row of satisfaction_monthly is printed in February's publication; March's hides
    # it (a secondary for March's row). A month's count is the same in every release.
    monthly = """
organisation,financial_year,year,month,channel,responses,positive,neutral,negative
Example,2024/25,2025,1,webchat,40,20,10,10
Example,2024/25,2025,2,webchat,36,12,12,12
"""
    later = """
organisation,financial_year,year,month,channel,responses,positive,neutral,negative
Example,2024/25,2025,1,webchat,40,20,10,10
Example,2024/25,2025,2,webchat,,,,
Example,2024/25,2025,3,webchat,,,,
"""
    # Folders not named by their months: ordered by the latest month of satisfaction_monthly.
    feb, mar = publish({"satisfaction_monthly": monthly}), publish({"satisfaction_monthly": later})
    verdict = attack.attack(feb, earlier=[mar])
    assert [(r["folder"], r["last_month"]) for r in verdict["releases"]] == [
        (str(feb), "2025-02"), (str(mar), "2025-03")]
    row = "Example / 2024/25 / webchat / 2025-02"
    for column, value in (("responses", 36), ("positive", 12), ("negative", 12)):
        assert recovered_in(verdict, mar, "satisfaction_monthly", row, column) == (value, value)
    assert verdict["relations"]["same_month"] == 8  # January's and February's rows
    pinned = next(r for r in verdict["recoverable"] if r["row"] == row)
    assert "same_month" in pinned["kinds"]
    assert recovered_in(verdict, mar, "satisfaction_monthly",
                        "Example / 2024/25 / webchat / 2025-03", "responses") is None
    # A whole year's folder comes after every month.
    assert attack.covers(Path("out/fy2024-25"), []) == attack.WHOLE_YEAR
    assert attack.covers(Path("out/2025-03"), []) == (2025, 3) < attack.WHOLE_YEAR


def test_a_safe_pair_of_releases_gives_nothing_away():
    # February is SAFE; by March A has 20 more respondents, B and D (hidden in both) 20 between
    # them, all positive: every difference printed is 0 or at least 10, and B's or D's growth is
    # anything from 0 to 20.
    march = f"""
age_band,responses,positive,neutral,negative,satisfied_pct,share_pct,suppressed
A,80,40,25,15,50.0,40.0,
B,,,,,,,"{SENT}, satisfied_pct, share_pct"
C,50,20,15,15,40.0,25.0,
D,,,,,,,"{SENT}, satisfied_pct, share_pct"
All respondents,200,102,54,44,51.0,100.0,
"""
    feb, mar = releases({"2025-02": {"equality/equality_age_band": SAFE},
                         "2025-03": {"equality/equality_age_band": march}})
    verdict = attack.attack(mar, earlier=[feb])
    assert verdict["failed_families"] == [] and verdict["infeasible_cells"] == []
    assert verdict["suppressed_cells"] == 16
    assert verdict["recoverable"] == [] and verdict["published_small_differences"] == []
    assert verdict["published_small"] == []
    assert verdict["tightest_width"] >= 10
    assert verdict["verdict"] == "pass"
    # Given in either order, the releases are ordered by their months.
    reverse = attack.attack(feb, earlier=[mar])
    assert [r["folder"] for r in reverse["releases"]] == [str(feb), str(mar)]
    assert reverse["verdict"] == "pass"
    assert attack.main([str(mar), "--earlier", str(feb), "--out", str(mar / "v.json")]) == 0
    assert json.loads((mar / "v.json").read_text())["verdict"] == "pass"


if __name__ == "__main__":
    tests = [f for n, f in sorted(globals().items()) if n.startswith("test_")]
    failed = 0
    for test in tests:
        try:
            test()
            print(f"ok    {test.__name__}")
        except AssertionError as e:
            failed += 1
            print(f"FAIL  {test.__name__}: {e!r}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

//! Wide surveys (issue 15 item 5): one rating column per question, mapped with `[sources.wide]`
//! into one answer per question; blank answers are "not answered" (excluded, never rejected);
//! `[survey] overall_question` picks the answers every satisfaction and equality table counts,
//! so a respondent is counted once. The export is written here by hand.

use crate::util::{read_csv, strings, u64s, Workspace};

/// Four respondents, three questions; respondent 4 answered only Q2, one answer is not on the
/// scale.
const SURVEY: &str = "Id,Submitted,Q1 Overall,Q2 Bins,Q3 Parks,Age\n\
1,2024-05-02,Good,Poor,Good,16-24\n\
2,2024-05-03,Poor,Good,,25-34\n\
3,2024-05-04,Average,Good,Marvellous,16-24\n\
4,2024-05-05,,Average,,25-34\n";

fn pipeline(extra: &str) -> String {
    format!(
        r#"
name = "wide"
organisation = "Test Council"
lake = "lake"
output = "out"

[quality]
fail_reject_share = 0.5

{extra}

[scales.gap]
levels = [
  {{ label = "Good", score = 1, sentiment = "positive" }},
  {{ label = "Average", score = 0, sentiment = "neutral" }},
  {{ label = "Poor", score = -1, sentiment = "negative" }},
]

[demographics.age_band]
categories = ["16-24", "25-34"]

[[sources]]
name = "survey"
kind = "satisfaction"
files = "data/*.csv"
channel = "web"
rating_scale = "gap"
date_formats = ["%Y-%m-%d"]

[sources.wide]
pattern = '^Q\d '
labels = {{ "Q1 Overall" = "Overall" }}

[sources.columns]
record_id = "Id"
date = "Submitted"

[sources.demographics]
age_band = "Age"
"#
    )
}

/// The text of the survey source's rejects file (the fixtures here write one file).
fn rejects_of_the_survey(ws: &Workspace) -> String {
    let file = std::fs::read_dir(ws.path().join("lake/rejects/survey"))
        .expect("rejects")
        .flatten()
        .next()
        .expect("a rejects file")
        .path();
    std::fs::read_to_string(file).expect("read rejects")
}

#[test]
fn each_question_is_an_answer_and_blank_answers_are_not_answered() {
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        pipeline("[survey]\noverall_question = \"Overall\""),
    );
    ws.write("data/survey.csv", SURVEY);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    // 4 respondents x 3 questions = 12 answers: 3 blank (excluded), 1 off the scale
    // (rejected), 8 accepted.
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "rows_read"), [12]);
    assert_eq!(u64s(&manifest, "excluded"), [3]);
    assert_eq!(u64s(&manifest, "rejected"), [1]);
    assert_eq!(u64s(&manifest, "accepted"), [8]);
    let responses = ws.lake_table("responses");
    let mut services: Vec<String> = strings(&responses, "service")
        .into_iter()
        .flatten()
        .collect();
    services.sort();
    assert_eq!(
        services,
        ["Overall", "Overall", "Overall", "Q2 Bins", "Q2 Bins", "Q2 Bins", "Q2 Bins", "Q3 Parks"]
    );
    // The rejected answer is written out with its whole row, naming the question's column and
    // the answer written there.
    let rejects = rejects_of_the_survey(&ws);
    assert!(
        rejects.contains("rating_not_in_scale,Q3 Parks,Marvellous"),
        "{rejects}"
    );
    // Re-sending the file adds nothing: each (respondent, question) is one record.
    ws.write(
        "data/survey-again.csv",
        SURVEY.replace("16-24\n", "16-24 \n"),
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    assert_eq!(ws.lake_table("responses").height(), 8);
}

#[test]
fn the_overall_question_counts_each_respondent_once() {
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        pipeline("[survey]\noverall_question = \"Overall\""),
    );
    // 36 respondents: the overall question Good, Average, Poor in turn (12 each, so nothing is
    // suppressed); every one rates the bins Good. Pooled, the bins would double N and add 36
    // "satisfied".
    let mut survey = "Id,Submitted,Q1 Overall,Q2 Bins,Q3 Parks,Age\n".to_string();
    for i in 0..36 {
        let overall = ["Good", "Average", "Poor"][i % 3];
        survey.push_str(&format!("{i},2024-05-02,{overall},Good,,16-24\n"));
    }
    ws.write("data/survey.csv", survey);
    ws.cex(&["run", "p.toml", "--as-of", "2024-06-10"])
        .assert_code(0);
    let by_channel = read_csv(&ws.path().join("out/2024-05/satisfaction_by_channel.csv"));
    assert_eq!(u64s(&by_channel, "responses"), [36]);
    assert_eq!(u64s(&by_channel, "positive"), [12]);
    assert_eq!(u64s(&by_channel, "negative"), [12]);
    let by_age = read_csv(&ws.path().join("out/2024-05/equality/equality_age_band.csv"));
    let groups = strings(&by_age, "age_band");
    let n = u64s(&by_age, "responses");
    let at = groups
        .iter()
        .position(|g| g.as_deref() == Some("16-24"))
        .expect("16-24");
    assert_eq!(n[at], 36);

    // Every question is published on its own (counted here from the rows written above): the
    // overall one marked, the bins 36 Good, the parks (never answered) not at all.
    let by_question = read_csv(&ws.path().join("out/2024-05/satisfaction_by_question.csv"));
    let questions = strings(&by_question, "question");
    let overall = strings(&by_question, "overall");
    let (n, positive) = (
        u64s(&by_question, "responses"),
        u64s(&by_question, "positive"),
    );
    let row = |q: &str| {
        questions
            .iter()
            .position(|x| x.as_deref() == Some(q))
            .unwrap_or_else(|| panic!("no {q}: {questions:?}"))
    };
    assert_eq!(questions.len(), 2, "{questions:?}");
    assert_eq!((n[row("Overall")], positive[row("Overall")]), (36, 12));
    assert_eq!((n[row("Q2 Bins")], positive[row("Q2 Bins")]), (36, 36));
    assert_eq!(overall[row("Overall")].as_deref(), Some("true"));
    assert_eq!(overall[row("Q2 Bins")].as_deref(), Some("false"));
}

#[test]
fn a_wide_survey_needs_an_overall_question_and_no_rating_column() {
    let ws = Workspace::new();
    ws.write("p.toml", pipeline(""));
    let out = ws.cex(&["validate", "p.toml", "--verbose"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("survey.overall_question: source 'survey' is a wide survey"),
        "{}",
        out.stderr
    );
    ws.write(
        "p.toml",
        pipeline("[survey]\noverall_question = \"Overall\"").replace(
            "date = \"Submitted\"",
            "date = \"Submitted\"\nrating = \"Q1 Overall\"",
        ),
    );
    let out = ws.cex(&["validate", "p.toml", "--verbose"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("map neither columns.rating nor columns.category")
            && !out.stderr.contains("say how rows get their service"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_listed_question_column_the_file_lacks_is_named() {
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        pipeline("[survey]\noverall_question = \"Overall\"").replace(
            "pattern = '^Q\\d '",
            "columns = [\"Q1 Overall\", \"Q4 Libraries\"]",
        ),
    );
    ws.write("data/survey.csv", SURVEY);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    assert!(out.stderr.contains("Q4 Libraries"), "{}", out.stderr);
}

#[test]
fn dont_know_is_not_a_rating_and_missing_codes_are_not_answered() {
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        pipeline("[survey]\noverall_question = \"Overall\"")
            .replace(
                "  { label = \"Poor\", score = -1, sentiment = \"negative\" },\n]",
                "  { label = \"Poor\", score = -1, sentiment = \"negative\" },\n]\nnot_rated = [\"Don't know\", \"N/A\"]",
            )
            .replace(
                "categories = [\"16-24\", \"25-34\"]",
                "categories = [\"16-24\", \"25-34\"]\nnot_answered = [\"99\"]",
            ),
    );
    ws.write(
        "data/survey.csv",
        "Id,Submitted,Q1 Overall,Q2 Bins,Q3 Parks,Age\n\
1,2024-05-02,Good,Don't know,n/a,99\n\
2,2024-05-03,Poor,Good,Good,25-34\n",
    );
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(0);
    // 6 answers, all accepted: 2 not rated (kept without a rating, neither excluded nor
    // rejected), 4 rated.
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "rejected"), [0]);
    assert_eq!(u64s(&manifest, "excluded"), [0]);
    assert_eq!(u64s(&manifest, "accepted"), [6]);
    let responses = ws.lake_table("responses");
    let sentiments = strings(&responses, "sentiment");
    assert_eq!(sentiments.iter().filter(|s| s.is_none()).count(), 2);
    // Each question's table counts them beside its N (small here, so hidden) and stays safe.
    ws.cex(&[
        "run",
        "p.toml",
        "--as-of",
        "2024-06-10",
        "--skip",
        "charts,report",
    ])
    .assert_code(0);
    let folder = ws.path().join("out/2024-05");
    let by_question = read_csv(&folder.join("satisfaction_by_question.csv"));
    assert_eq!(strings(&by_question, "not_rated").len(), 3);
    assert_eq!(crate::disclosure::own_verdict(&folder)["verdict"], "pass");
    assert_eq!(crate::disclosure::attack(&folder)["recoverable_count"], 0);
    let ages: Vec<Option<String>> = strings(&responses, "age_band");
    assert!(ages.contains(&Some("Not answered".to_string())), "{ages:?}");
    assert!(!ages.contains(&Some("99".to_string())));
}

#[test]
fn a_0_to_10_scale_is_banded_into_sentiments() {
    // Net-promoter style: 0-6 detractors (negative), 7-8 passives (neutral), 9-10 promoters
    // (positive), written as the levels' values; "10 - extremely likely" as the survey tool
    // labels its top box.
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        pipeline("[survey]\noverall_question = \"Overall\"").replace(
            "levels = [\n  { label = \"Good\", score = 1, sentiment = \"positive\" },\n  { label = \"Average\", score = 0, sentiment = \"neutral\" },\n  { label = \"Poor\", score = -1, sentiment = \"negative\" },\n]",
            "levels = [\n  { label = \"Promoter\", values = [\"9\", \"10\", \"10 - extremely likely\"], score = 100, sentiment = \"positive\" },\n  { label = \"Passive\", values = [\"7\", \"8\"], score = 0, sentiment = \"neutral\" },\n  { label = \"Detractor\", values = [\"0\", \"1\", \"2\", \"3\", \"4\", \"5\", \"6\"], score = -100, sentiment = \"negative\" },\n]",
        ),
    );
    let mut survey = "Id,Submitted,Q1 Overall,Q2 Bins,Q3 Parks,Age\n".to_string();
    // 12 promoters (half written "10 - extremely likely"), 12 passives, 12 detractors.
    let answers = ["9", "10 - extremely likely", "7", "8", "0", "6"];
    for i in 0..36 {
        survey.push_str(&format!("{i},2024-05-02,{},,,16-24\n", answers[i % 6]));
    }
    ws.write("data/survey.csv", survey);
    ws.cex(&["run", "p.toml", "--as-of", "2024-06-10"])
        .assert_code(0);
    let by_channel = read_csv(&ws.path().join("out/2024-05/satisfaction_by_channel.csv"));
    assert_eq!(u64s(&by_channel, "responses"), [36]);
    assert_eq!(u64s(&by_channel, "positive"), [12]);
    assert_eq!(u64s(&by_channel, "neutral"), [12]);
    assert_eq!(u64s(&by_channel, "negative"), [12]);
    // The mean score is the net promoter score: (12 x 100 - 12 x 100) / 36 = 0.
    let net = by_channel
        .column("net_satisfaction")
        .and_then(|c| c.cast(&polars::prelude::DataType::Float64))
        .expect("net_satisfaction");
    assert_eq!(net.f64().expect("f64").get(0), Some(0.0));
}

/// Each question published on its own is protected with the rest of the publication: small
/// counts of a question nobody else's table shows are hidden, and the independent attacker
/// (which knows every other table counts the overall question) recovers none of them.
#[test]
fn small_counts_of_a_question_are_hidden_and_cannot_be_worked_out() {
    let ws = Workspace::new();
    ws.write(
        "p.toml",
        pipeline("[survey]\noverall_question = \"Overall\""),
    );
    // 42 respondents: overall 14 Good, 14 Average, 14 Poor; 30 rate the bins (25 Good, 3
    // Average, 2 Poor); 5 rate the parks, all Good.
    let mut survey = "Id,Submitted,Q1 Overall,Q2 Bins,Q3 Parks,Age\n".to_string();
    for i in 0..42 {
        let overall = ["Good", "Average", "Poor"][i % 3];
        let bins = match i {
            0..=24 => "Good",
            25..=27 => "Average",
            28..=29 => "Poor",
            _ => "",
        };
        let parks = if i < 5 { "Good" } else { "" };
        let age = ["16-24", "25-34"][i % 2];
        survey.push_str(&format!("{i},2024-05-02,{overall},{bins},{parks},{age}\n"));
    }
    ws.write("data/survey.csv", survey);
    ws.cex(&[
        "run",
        "p.toml",
        "--as-of",
        "2024-06-10",
        "--skip",
        "charts,report",
    ])
    .assert_code(0);
    let folder = ws.path().join("out/2024-05");
    let table = read_csv(&folder.join("satisfaction_by_question.csv"));
    let questions = strings(&table, "question");
    let row = |q: &str| {
        questions
            .iter()
            .position(|x| x.as_deref() == Some(q))
            .unwrap_or_else(|| panic!("no {q}: {questions:?}"))
    };
    let cell = |column: &str, q: &str| strings(&table, column)[row(q)].clone();
    // The bins' 3 Average and 2 Poor are hidden, and so is enough to keep them hidden.
    assert_eq!(cell("neutral", "Q2 Bins"), None);
    assert_eq!(cell("negative", "Q2 Bins"), None);
    assert_eq!(cell("responses", "Q2 Bins"), Some("30".into()));
    assert_eq!(
        cell("positive", "Q2 Bins"),
        None,
        "25 = 30 - 3 - 2 would give them away"
    );
    // The parks' 5 answers are a small count.
    assert_eq!(cell("responses", "Q3 Parks"), None);
    let own = crate::disclosure::own_verdict(&folder);
    assert_eq!(own["verdict"], "pass", "{own}");
    let theirs = crate::disclosure::attack(&folder);
    assert_eq!(theirs["recoverable_count"], 0);
    assert_eq!(theirs["published_small_count"], 0);
}

/// One source, two scales: the parks are rated 0-10 (its own scale, with "9" a score there),
/// the rest Good / Average / Poor with "9" meaning "Don't know". Each answer is read on its
/// question's scale: the same "9" is a promoter in the parks column and not a rating in the
/// bins; "Good" written in the parks column is on no scale of that question and is rejected
/// naming the column. Counted here from the rows written.
#[test]
fn each_question_is_read_on_its_own_scale() {
    let ws = Workspace::new();
    let toml = pipeline("[survey]\noverall_question = \"Overall\"")
        .replace(
            "  { label = \"Poor\", score = -1, sentiment = \"negative\" },\n]",
            "  { label = \"Poor\", score = -1, sentiment = \"negative\" },\n]\nnot_rated = [\"9\"]\n\n[scales.zero_to_ten]\nlevels = [\n  { label = \"Promoter\", values = [\"9\", \"10\"], score = 100, sentiment = \"positive\" },\n  { label = \"Passive\", values = [\"7\", \"8\"], score = 0, sentiment = \"neutral\" },\n  { label = \"Detractor\", values = [\"0\", \"1\", \"2\", \"3\", \"4\", \"5\", \"6\"], score = -100, sentiment = \"negative\" },\n]",
        )
        .replace(
            "labels = { \"Q1 Overall\" = \"Overall\" }",
            "labels = { \"Q1 Overall\" = \"Overall\" }\nscales = { \"q3  PARKS\" = \"zero_to_ten\" }",
        );
    assert!(toml.contains("scales = {"), "{toml}");
    ws.write("p.toml", &toml);
    ws.write(
        "data/survey.csv",
        "Id,Submitted,Q1 Overall,Q2 Bins,Q3 Parks,Age\n\
1,2024-05-02,Good,9,9,16-24\n\
2,2024-05-03,Poor,Good,3,25-34\n\
3,2024-05-04,Average,Poor,Good,16-24\n\
4,2024-05-05,9,Average,10,25-34\n",
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    // 12 answers: 11 accepted (two "9" not rated: bins and overall), 1 rejected ("Good" for the
    // parks).
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "rejected"), [1]);
    assert_eq!(u64s(&manifest, "accepted"), [11]);
    let rejects = rejects_of_the_survey(&ws);
    assert!(
        rejects.contains("rating_not_in_scale,Q3 Parks,Good"),
        "{rejects}"
    );
    let responses = ws.lake_table("responses");
    let (services, raws, ratings, sentiments) = (
        strings(&responses, "service"),
        strings(&responses, "rating_raw"),
        strings(&responses, "rating"),
        strings(&responses, "sentiment"),
    );
    let scores: Vec<Option<f64>> = responses
        .column("score")
        .and_then(|c| c.cast(&polars::prelude::DataType::Float64))
        .expect("score")
        .f64()
        .expect("f64")
        .iter()
        .collect();
    // (question, answer as written, rating, sentiment, score)
    type Read = (String, String, Option<String>, Option<String>, Option<f64>);
    let mut got: Vec<Read> = (0..responses.height())
        .map(|i| {
            (
                services[i].clone().unwrap_or_default(),
                raws[i].clone().unwrap_or_default(),
                ratings[i].clone(),
                sentiments[i].clone(),
                scores[i],
            )
        })
        .collect();
    got.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let row = |q: &str, raw: &str, rating: Option<&str>, sentiment: Option<&str>, score| {
        (
            q.to_string(),
            raw.to_string(),
            rating.map(str::to_string),
            sentiment.map(str::to_string),
            score,
        )
    };
    let mut want = vec![
        row("Overall", "9", None, None, None),
        row(
            "Overall",
            "Average",
            Some("Average"),
            Some("neutral"),
            Some(0.0),
        ),
        row("Overall", "Good", Some("Good"), Some("positive"), Some(1.0)),
        row(
            "Overall",
            "Poor",
            Some("Poor"),
            Some("negative"),
            Some(-1.0),
        ),
        row("Q2 Bins", "9", None, None, None),
        row(
            "Q2 Bins",
            "Average",
            Some("Average"),
            Some("neutral"),
            Some(0.0),
        ),
        row("Q2 Bins", "Good", Some("Good"), Some("positive"), Some(1.0)),
        row(
            "Q2 Bins",
            "Poor",
            Some("Poor"),
            Some("negative"),
            Some(-1.0),
        ),
        row(
            "Q3 Parks",
            "10",
            Some("Promoter"),
            Some("positive"),
            Some(100.0),
        ),
        row(
            "Q3 Parks",
            "3",
            Some("Detractor"),
            Some("negative"),
            Some(-100.0),
        ),
        row(
            "Q3 Parks",
            "9",
            Some("Promoter"),
            Some("positive"),
            Some(100.0),
        ),
    ];
    want.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(got, want);
}

#[test]
fn a_question_scale_must_name_a_scale_and_a_value_column() {
    let ws = Workspace::new();
    let with = |scales: &str| {
        pipeline("[survey]\noverall_question = \"Overall\"").replace(
            "labels = { \"Q1 Overall\" = \"Overall\" }",
            &format!("labels = {{ \"Q1 Overall\" = \"Overall\" }}\nscales = {scales}"),
        )
    };
    ws.write("p.toml", with("{ \"Q3 Parks\" = \"nps\" }"));
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("sources[0] (survey).wide.scales.Q3 Parks: no [scales.nps] is defined"),
        "{}",
        out.stderr
    );
    // A column that is not one of the value columns: named when a file is read.
    ws.write("p.toml", with("{ \"Age\" = \"gap\" }"));
    ws.write("data/survey.csv", SURVEY);
    let out = ws.cex(&["ingest", "p.toml"]);
    out.assert_code(3);
    assert!(
        out.stderr.contains("a wide column") && out.stderr.contains("Age"),
        "{}",
        out.stderr
    );
}

/// Blank codes: the export writes "0" or "BLANK" where a question was left blank. On the
/// Good / Average / Poor scale they are blanks (excluded as "not answered", never rejected);
/// the parks' 0-10 scale lists none, so its "0" stays a score.
#[test]
fn a_blank_code_is_not_answered_on_its_own_scale_only() {
    let ws = Workspace::new();
    let toml = pipeline("[survey]\noverall_question = \"Overall\"")
        .replace(
            "  { label = \"Poor\", score = -1, sentiment = \"negative\" },\n]",
            "  { label = \"Poor\", score = -1, sentiment = \"negative\" },\n]\nnot_answered = [\"0\", \"blank\"]\n\n[scales.zero_to_ten]\nlevels = [\n  { label = \"High\", values = [\"6\", \"7\", \"8\", \"9\", \"10\"], score = 1, sentiment = \"positive\" },\n  { label = \"Low\", values = [\"0\", \"1\", \"2\", \"3\", \"4\", \"5\"], score = -1, sentiment = \"negative\" },\n]",
        )
        .replace(
            "labels = { \"Q1 Overall\" = \"Overall\" }",
            "labels = { \"Q1 Overall\" = \"Overall\" }\nscales = { \"Q3 Parks\" = \"zero_to_ten\" }",
        );
    ws.write("p.toml", &toml);
    ws.write(
        "data/survey.csv",
        "Id,Submitted,Q1 Overall,Q2 Bins,Q3 Parks,Age\n\
1,2024-05-02,BLANK,0,0,16-24\n\
2,2024-05-03,Poor, Blank ,7,25-34\n\
3,2024-05-04,Good,,Zero,16-24\n",
    );
    ws.cex(&["ingest", "p.toml"]).assert_code(0);
    // 9 answers: 4 blank (BLANK, 0 and " Blank " on the gap scale, one empty cell), 1 rejected
    // ("Zero" is on no scale), 4 accepted (Poor, Good, and the parks' 0 and 7).
    let manifest = ws.manifest();
    assert_eq!(u64s(&manifest, "rows_read"), [9]);
    assert_eq!(u64s(&manifest, "excluded"), [4]);
    assert_eq!(
        strings(&manifest, "excluded_by_rule"),
        [Some("not answered=4".to_string())]
    );
    assert_eq!(u64s(&manifest, "rejected"), [1]);
    assert_eq!(u64s(&manifest, "accepted"), [4]);
    let responses = ws.lake_table("responses");
    let mut read: Vec<(String, String)> = strings(&responses, "service")
        .into_iter()
        .zip(strings(&responses, "rating"))
        .map(|(s, r)| (s.unwrap_or_default(), r.unwrap_or_default()))
        .collect();
    read.sort();
    assert_eq!(
        read,
        [
            ("Overall".to_string(), "Good".to_string()),
            ("Overall".to_string(), "Poor".to_string()),
            ("Q3 Parks".to_string(), "High".to_string()),
            ("Q3 Parks".to_string(), "Low".to_string()),
        ]
    );
    // A code that is also an answer of the scale is refused.
    ws.write(
        "p.toml",
        toml.replace(
            "not_answered = [\"0\", \"blank\"]",
            "not_answered = [\"0\", \"Poor\"]",
        ),
    );
    let out = ws.cex(&["validate", "p.toml"]);
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("scales.gap.not_answered: 'poor' is an answer of the scale too"),
        "{}",
        out.stderr
    );
}

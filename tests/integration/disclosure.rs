//! Disclosure control tried by an attacker cex did not write (`tests/disclosure/attack.py`:
//! every linear relation between published numbers, bounds by mixed-integer programming with
//! scipy's HiGHS): on the sample publication and on a generated one with many small groups, no
//! blank cell may be recovered or narrowed below the threshold, and no small count may be
//! printed. Installs `tests/disclosure/requirements.txt` with pip when scipy is missing.

use std::path::Path;
use std::process::Command;
use std::sync::Once;

use serde_json::Value;

use crate::util::{repo, Workspace};

fn ensure_attacker() {
    static READY: Once = Once::new();
    READY.call_once(|| {
        crate::util::ensure_python(
            "scipy, numpy",
            "tests/disclosure/requirements.txt",
            "the disclosure attacker (tests/disclosure/attack.py)",
        )
    });
}

/// The attacker's verdict on a published period folder; panics unless it finds nothing.
fn attack(folder: &Path) -> Value {
    ensure_attacker();
    let verdict = folder.join("attack-verdict.json");
    let out = Command::new("python3")
        .arg(repo().join("tests/disclosure/attack.py"))
        .arg(folder)
        .arg("--out")
        .arg(&verdict)
        .output()
        .expect("run python3");
    let text = std::fs::read_to_string(&verdict).unwrap_or_default();
    assert!(
        out.status.success(),
        "the attacker recovered cells from {}:\n{}\n{}",
        folder.display(),
        String::from_utf8_lossy(&out.stdout),
        text.chars().take(4000).collect::<String>()
    );
    serde_json::from_str(&text).expect("the attacker writes JSON")
}

/// cex's own verdict, written beside the publication.
fn own_verdict(folder: &Path) -> Value {
    let text = std::fs::read_to_string(folder.join("disclosure-audit.json"))
        .expect("disclosure-audit.json beside the publication");
    serde_json::from_str(&text).expect("JSON")
}

#[test]
fn the_sample_publication_survives_the_independent_attacker() {
    let ws = Workspace::with_sample_data();
    ws.cex(&[
        "run",
        "pipelines/sample.toml",
        "--period",
        "2025-03",
        "--skip",
        "charts,report",
    ])
    .assert_code(0);
    let folder = ws.path().join("out/2025-03");
    let own = own_verdict(&folder);
    assert_eq!(own["verdict"], "pass", "{own}");
    assert_eq!(own["unprotected"], 0);
    assert!(
        own["primary"].as_u64().unwrap_or(0) > 0,
        "the sample has small cells"
    );
    let theirs = attack(&folder);
    eprintln!(
        "sample 2025-03: {} blank cells, tightest width {}",
        theirs["suppressed_cells"], theirs["tightest_width"]
    );
}

#[test]
fn a_generated_publication_with_many_small_groups_survives_the_attacker() {
    // A small generated survey (few calls, so few responses per group, channel, service and
    // month), for a single month and for a financial year.
    let ws = Workspace::with_sample_data();
    let generated = ws.path().join("generated");
    ws.cex(&[
        "generate",
        "--out",
        generated.to_str().unwrap_or("generated"),
        "--seed",
        "7",
        "--calls",
        "4000",
    ])
    .assert_code(0);
    let pipeline = std::fs::read_to_string(ws.path().join("pipelines/sample.toml"))
        .unwrap_or_default()
        .replace("sample_data/", "generated/");
    ws.write("pipelines/generated.toml", pipeline);
    ws.cex(&[
        "run",
        "pipelines/generated.toml",
        "--skip",
        "charts,report",
        "--period",
        "2024-06",
    ])
    .assert_code(0);
    ws.cex(&[
        "run",
        "pipelines/generated.toml",
        "--skip",
        "ingest,charts,report",
        "--fy",
        "2023/24",
    ])
    .assert_code(0);
    for period in ["2024-06", "fy2023-24"] {
        let folder = ws.path().join("out").join(period);
        let own = own_verdict(&folder);
        assert_eq!(own["verdict"], "pass", "{period}: {own}");
        attack(&folder);
    }
}

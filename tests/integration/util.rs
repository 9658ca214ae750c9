//! Helpers for driving the `cex` binary: a scratch copy of the pipelines and data, running a
//! command, reading the lake back.

use std::path::{Path, PathBuf};
use std::process::Command;

use polars::prelude::*;

/// A scratch workspace holding copies of `pipelines/` and (optionally) `sample_data/`, so runs write
/// their lake and outputs into a temporary folder.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(&repo().join("pipelines"), &dir.path().join("pipelines"));
        Workspace { dir }
    }

    pub fn with_sample_data() -> Workspace {
        let ws = Workspace::new();
        copy_dir(&repo().join("sample_data"), &ws.path().join("sample_data"));
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, contents).expect("write");
        p
    }

    pub fn cex(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_cex"))
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("run cex");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A lake table as cex's own reader sees it now (the manifest's pinned version).
    pub fn lake_table(&self, table: &str) -> DataFrame {
        self.lake_table_at("lake", table)
    }

    /// A table of the lake at `rel` (relative to the workspace).
    pub fn lake_table_at(&self, rel: &str, table: &str) -> DataFrame {
        let lake = cex_insight::lake::Lake::open(&self.path().join(rel)).expect("open lake");
        let table = match table {
            "contacts" => cex_insight::model::Table::Contacts,
            "responses" => cex_insight::model::Table::Responses,
            other => panic!("no lake table {other}"),
        };
        match lake.scan(table).expect("scan") {
            Some(lf) => lf.collect().expect("collect"),
            None => DataFrame::empty(),
        }
    }

    /// The lake's manifest (one row per ingested export) as cex's reader sees it now.
    pub fn manifest(&self) -> DataFrame {
        cex_insight::lake::Lake::open(&self.path().join("lake"))
            .expect("open lake")
            .manifest()
            .clone()
    }
}

impl Output {
    /// The first line of stderr containing `text`; fails naming `what` and showing stderr.
    pub fn stderr_line(&self, text: &str, what: &str) -> &str {
        self.stderr
            .lines()
            .find(|l| l.contains(text))
            .unwrap_or_else(|| panic!("no warning about {what}:\n{}", self.stderr))
    }

    /// Asserts how many files the ingest table lists as already in the lake.
    pub fn assert_already_in_lake(&self, files: usize) -> &Output {
        assert_eq!(
            self.stdout.matches("already in the lake").count(),
            files,
            "{}",
            self.stdout
        );
        self
    }

    /// Asserts that the run read `file` (its report line does not say it was already in the lake).
    pub fn assert_read(&self, file: &str) -> &Output {
        let line = self.stdout.lines().find(|l| l.contains(file));
        let line = line.unwrap_or_else(|| panic!("no line names {file}:\n{}", self.stdout));
        assert!(!line.contains("already"), "{file}: {line}");
        self
    }

    pub fn assert_code(&self, code: i32) -> &Output {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A column of strings as a Vec.
pub fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .expect("column")
        .cast(&DataType::String)
        .expect("cast")
        .str()
        .expect("str")
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

pub fn u64s(df: &DataFrame, name: &str) -> Vec<u64> {
    df.column(name)
        .expect("column")
        .cast(&DataType::UInt64)
        .expect("cast")
        .u64()
        .expect("u64")
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect()
}

/// A CSV the binary wrote, read back with its types inferred.
pub fn read_csv(path: &Path) -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .expect("csv reader")
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// SplitMix64: small and seedable, for tests that pick inputs or moments at random (each
/// failure names its seed, so it can be replayed).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Makes sure `python3` can import `modules` (e.g. "scipy, numpy"), installing the pinned
/// `requirements` (a path in the repository) with pip when it cannot; panics naming `purpose`.
pub fn ensure_python(modules: &str, requirements: &str, purpose: &str) {
    let found = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed for {purpose}: {e}"));
    if found.status.success() {
        return;
    }
    let requirements = repo().join(requirements);
    let install = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "-r"])
        .arg(&requirements)
        .output()
        .expect("run python3 -m pip");
    assert!(
        install.status.success(),
        "{purpose} needs Python's {modules}, and `python3 -m pip install -r {}` failed:\n{}",
        requirements.display(),
        String::from_utf8_lossy(&install.stderr)
    );
}

/// Every file under `dir`, folders walked.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The number the README gives where `pattern` has `{}` (`"On the sample (2025-03): {} small
/// counts"`), whitespace and line breaks as in running text, thousands separators allowed: so
/// that a test checks the figure the README states rather than a copy of it. Panics, naming
/// the pattern, when the README no longer says it.
pub fn readme_number(pattern: &str) -> u64 {
    let text = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let (before, after) = pattern
        .split_once("{}")
        .expect("a pattern with {} where the number is");
    let found: Vec<u64> = flat
        .match_indices(before)
        .filter_map(|(at, _)| {
            let rest = &flat[at + before.len()..];
            let digits = rest
                .find(|c: char| !c.is_ascii_digit() && c != ',')
                .unwrap_or(rest.len());
            let number = rest[..digits].trim_end_matches(',');
            (!number.is_empty() && rest[number.len()..].starts_with(after))
                .then(|| number.replace(',', "").parse().ok())
                .flatten()
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "the README should say \"{pattern}\" once with a number (found {found:?})"
    );
    found[0]
}

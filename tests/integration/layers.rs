//! The import graph of `src/`, read from the code: every top-level module sits on a layer, and a
//! module may import only from layers below its own. Data flows one way (sources -> ingest ->
//! lake -> kpi / equality -> tables -> charts -> report -> run -> cli), so an import running back
//! up, or between two stages of the same layer, fails here with the file and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layer of each top-level module: 0 is the bottom. Stages of one layer may not import each
/// other.
const LAYERS: &[(&str, u32)] = &[
    ("model", 0),
    ("text", 0),
    ("redact", 0),
    ("log", 0),
    ("warnings", 0),
    ("exit_codes", 0),
    ("generate", 0),
    ("period", 1),
    ("granularity", 1),
    ("config", 2),
    ("sources", 3),
    ("lake", 3),
    ("ingest", 4),
    ("measures", 4),
    ("tables", 5),
    ("kpi", 6),
    ("equality", 6),
    ("disclosure", 7),
    ("charts", 8),
    ("report", 9),
    ("run", 10),
    ("cli", 11),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its `#[cfg(test)] mod … { … }` blocks (tests may reach anywhere).
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let line_end = after.find('\n').unwrap_or(after.len());
        let next = after[line_end..].trim_start();
        let is_block = match (next.find('{'), next.find(';')) {
            (Some(brace), Some(semicolon)) => brace < semicolon,
            (Some(_), None) => true,
            _ => false,
        };
        if next.starts_with("mod ") && is_block {
            // Skip to the brace that closes the module.
            let open = line_end + after[line_end..].find('{').unwrap_or(0);
            let mut depth = 0usize;
            let mut end = after.len();
            for (i, ch) in after[open..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &after[end..];
        } else {
            // `#[cfg(test)] mod tests;` or a test-only item on one line: drop that line.
            let skip = line_end + after[line_end..].find(';').map_or(0, |i| i + 1);
            rest = &after[skip.min(after.len())..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn imports_only_run_down_the_layers() {
    let layers: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut modules_seen = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap_or(file);
        let first = relative
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .unwrap_or_default();
        if first == "lib" || first == "main" || relative.ends_with("tests.rs") {
            continue;
        }
        let Some(&own) = layers.get(first.as_str()) else {
            wrong.push(format!(
                "{}: module '{first}' has no layer in tests/integration/layers.rs",
                relative.display()
            ));
            continue;
        };
        modules_seen += 1;
        let code = std::fs::read_to_string(file).unwrap_or_default();
        for (n, line) in without_tests(&code).lines().enumerate() {
            let line_code = line.split("//").next().unwrap_or("");
            for (at, _) in line_code.match_indices("crate::") {
                let name: String = line_code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name == first {
                    continue;
                }
                match layers.get(name.as_str()) {
                    Some(&layer) if layer < own => {}
                    Some(&layer) => wrong.push(format!(
                        "{}:{}: '{first}' (layer {own}) imports '{name}' (layer {layer})",
                        relative.display(),
                        n + 1
                    )),
                    None => wrong.push(format!(
                        "{}:{}: 'crate::{name}' is not a module with a layer",
                        relative.display(),
                        n + 1
                    )),
                }
            }
        }
    }
    assert!(
        modules_seen > 50,
        "only {modules_seen} files read from {}",
        src.display()
    );
    assert!(
        wrong.is_empty(),
        "imports against the flow:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_an_import_running_back_up() {
    let code = "use crate::kpi::x;\n#[cfg(test)]\nmod tests {\n    use crate::run::y;\n    fn f() { {} }\n}\nfn g() { crate::report::z(); }\n";
    let kept = without_tests(code);
    assert!(kept.contains("crate::kpi"));
    assert!(!kept.contains("crate::run"));
    assert!(kept.contains("crate::report::z"));
    let declared = "#[cfg(test)]\nmod tests;\nuse crate::tables::t;\n";
    assert!(without_tests(declared).contains("crate::tables"));
    assert!(!without_tests(declared).contains("mod tests"));
}

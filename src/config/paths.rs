//! Paths written in a pipeline file: every one (lake, output, source files, lookups, population)
//! is relative to the file's folder and tidied lexically, so messages show the paths people expect.

use std::path::{Component, Path, PathBuf};

/// A path written in the pipeline file, resolved against the file's folder `base` and tidied
/// (`pipelines/../lake` -> `lake`); nothing is read from the file system.
pub(super) fn beside(base: &Path, written: impl AsRef<Path>) -> PathBuf {
    lexical(&base.join(written))
}

/// A path with `.` and `name/..` pairs removed, without touching the file system
/// (`pipelines/../sample_data` -> `sample_data`), so messages show the paths people expect.
pub fn lexical(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

/// `path` relative to `base` when both are relative or both absolute (`../data/x.csv`).
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let (path, base) = (lexical(path), lexical(base));
    let (p, b): (Vec<_>, Vec<_>) = (path.components().collect(), base.components().collect());
    if base == Path::new(".") {
        return path;
    }
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 && (path.is_absolute() != base.is_absolute()) {
        return path;
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}

/// Folders of the operating system that no lake, output or export may be, or be inside.
const SYSTEM_FOLDERS: [&str; 17] = [
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var/lib",
    "/var/log",
    "/var/run",
    "/var/spool",
];

/// The path as the file system knows it when it exists (symbolic links followed), else as
/// written, tidied: two spellings of one folder compare equal.
fn real(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    // The longest part that exists is resolved; the rest is appended as written.
    let mut head = lexical(&absolute);
    let mut tail: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(resolved) = head.canonicalize() {
            let mut out = resolved;
            out.extend(tail.iter().rev());
            return out;
        }
        match (head.file_name().map(|n| n.to_os_string()), head.parent()) {
            (Some(name), Some(parent)) => {
                tail.push(name);
                head = parent.to_path_buf();
            }
            _ => return lexical(&absolute),
        }
    }
}

/// Why a folder cannot hold cex's lake or outputs, or exports: it is the root or a system folder.
fn forbidden(path: &Path) -> Option<String> {
    let path = real(path);
    if path.parent().is_none() {
        return Some("is the root of the file system".into());
    }
    SYSTEM_FOLDERS
        .iter()
        .find(|f| path.starts_with(f))
        .map(|f| format!("is inside the system folder {f}"))
}

/// The folder part of a glob (`data/*/calls.csv` -> `data`): where its files can be.
pub fn glob_folder(pattern: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in Path::new(pattern).components() {
        let text = c.as_os_str().to_string_lossy();
        if text.contains(['*', '?', '[', '{']) {
            break;
        }
        out.push(c);
    }
    // A pattern naming one file: its folder.
    if out == Path::new(pattern) {
        out.pop();
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// The lake, the output and the exports must be apart: neither the lake nor the output may be
/// the root or a system folder, or lie inside the other, or hold an export; no export may be
/// read from a system folder. Problems are pushed under the key to change.
pub(super) fn check_places(
    lake: &Path,
    output: &Path,
    exports: &[(String, String)],
    push: &mut impl FnMut(String, String),
) {
    for (key, path) in [("lake", lake), ("output", output)] {
        if let Some(why) = forbidden(path) {
            push(
                key.into(),
                format!(
                    "'{}' {why}; give a folder of its own, e.g. \"../{key}\"",
                    path.display()
                ),
            );
        }
    }
    let (lake_real, output_real) = (real(lake), real(output));
    if lake_real == output_real {
        push(
            "output".into(),
            format!(
                "'{}' is the lake as well; give the outputs a folder of their own",
                output.display()
            ),
        );
    } else if output_real.starts_with(&lake_real) {
        push(
            "output".into(),
            format!(
                "'{}' is inside the lake '{}'; outputs and lake must be apart",
                output.display(),
                lake.display()
            ),
        );
    } else if lake_real.starts_with(&output_real) {
        push(
            "lake".into(),
            format!(
                "'{}' is inside the output folder '{}'; lake and outputs must be apart",
                lake.display(),
                output.display()
            ),
        );
    }
    for (key, pattern) in exports {
        let folder = glob_folder(pattern);
        if let Some(why) = forbidden(&folder) {
            push(
                key.clone(),
                format!(
                    "'{pattern}': the folder {why}; exports are read from a folder of their own"
                ),
            );
            continue;
        }
        let folder_real = real(&folder);
        for (place, path, real_path) in
            [("lake", lake, &lake_real), ("output", output, &output_real)]
        {
            let inside = folder_real.starts_with(real_path);
            let reaches = match real_path.strip_prefix(&folder_real) {
                Ok(below) if !inside => reaches_into(pattern, &folder, below),
                _ => false,
            };
            if inside || reaches {
                push(
                    key.clone(),
                    format!(
                        "'{pattern}' can read files of the {place} '{}'; keep exports out of cex's folders",
                        path.display()
                    ),
                );
            }
        }
    }
}

/// Whether a glob whose fixed folder is `folder` can match a file inside `below` (a folder
/// under `folder`, relative to it): `**` can; otherwise the pattern needs more levels than
/// `below` has and each of its first levels must match (a wildcard level is taken to match).
fn reaches_into(pattern: &str, folder: &Path, below: &Path) -> bool {
    if pattern.contains("**") {
        return true;
    }
    let rest: Vec<String> = Path::new(pattern)
        .strip_prefix(folder)
        .unwrap_or(Path::new(pattern))
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let levels: Vec<String> = below
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    rest.len() > levels.len()
        && rest
            .iter()
            .zip(&levels)
            .all(|(p, l)| p.contains(['*', '?', '[']) || p == l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lake_output_and_exports_are_kept_apart_and_out_of_system_folders() {
        let check = |lake: &str, output: &str, files: &str| {
            let mut problems = Vec::new();
            check_places(
                Path::new(lake),
                Path::new(output),
                &[("sources[0] (calls).files".to_string(), files.to_string())],
                &mut |k: String, m: String| problems.push(format!("{k}: {m}")),
            );
            problems
        };
        assert!(check("work/lake", "work/out", "data/*.csv").is_empty());
        // The sample layout: exports, lake and outputs side by side under one folder.
        assert!(check("proj/lake", "proj/out", "proj/sample_data/telephony/*.csv").is_empty());
        for (lake, output, files, key) in [
            ("/", "work/out", "data/*.csv", "lake:"),
            ("/etc", "work/out", "data/*.csv", "lake:"),
            ("work/lake", "/usr/share/out", "data/*.csv", "output:"),
            ("work/lake", "work/lake", "data/*.csv", "output:"),
            ("work/lake", "work/lake/out", "data/*.csv", "output:"),
            ("work/out/lake", "work/out", "data/*.csv", "lake:"),
            ("work/lake", "work/out", "/etc/*.conf", "sources[0]"),
            (
                "work/lake",
                "work/out",
                "work/lake/rejects/*.csv",
                "sources[0]",
            ),
            (
                "work/lake",
                "work/out",
                "work/out/2025-03/*.csv",
                "sources[0]",
            ),
            ("work/lake", "work/out", "work/**/*.csv", "sources[0]"),
            ("data/lake", "work/out", "data/*/*.csv", "sources[0]"),
        ] {
            let problems = check(lake, output, files);
            assert!(
                problems.iter().any(|p| p.starts_with(key)),
                "{lake} {output} {files}: {problems:?}"
            );
        }
        // Exports beside the lake, matched one level deep, cannot reach into it.
        assert!(check("data/lake", "work/out", "data/*.csv").is_empty());
        assert_eq!(glob_folder("data/*/calls.csv"), PathBuf::from("data"));
        assert_eq!(glob_folder("data/calls.csv"), PathBuf::from("data"));
        assert_eq!(glob_folder("*.csv"), PathBuf::from("."));
    }

    #[test]
    fn paths_are_tidied_without_the_file_system() {
        assert_eq!(
            lexical(Path::new("pipelines/../sample_data/a.csv")),
            Path::new("sample_data/a.csv")
        );
        assert_eq!(lexical(Path::new("./x/./y")), Path::new("x/y"));
        assert_eq!(lexical(Path::new("../up")), Path::new("../up"));
        assert_eq!(
            relative_to(Path::new("sample_data/t/a.csv"), Path::new("pipelines")),
            Path::new("../sample_data/t/a.csv")
        );
        assert_eq!(
            relative_to(Path::new("data/a.csv"), Path::new("")),
            Path::new("data/a.csv")
        );
    }

    #[test]
    fn written_paths_are_beside_the_pipeline_file() {
        assert_eq!(beside(Path::new("pipelines"), "../lake"), Path::new("lake"));
        assert_eq!(beside(Path::new(""), "out"), Path::new("out"));
    }
}

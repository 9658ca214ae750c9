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

#[cfg(test)]
mod tests {
    use super::*;

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

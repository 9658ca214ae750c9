//! `cex init`: sniffs each export (`sources::sniff`) and writes the starter pipeline file and
//! lookup templates (`sources::starter`) into a folder, never over an existing file.

use super::InitArgs;
use crate::config::{lexical, relative_to};
use crate::exit_codes::ExitCode;
use crate::sources::sniff::sniff;
use crate::sources::starter::starter;

pub fn run(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let dir = lexical(&std::path::absolute(&args.dir)?);
    let mut sniffed = Vec::new();
    for export in &args.exports {
        let s = match sniff(export) {
            Ok(s) => s,
            Err(e) => {
                crate::log::error(&e.to_string());
                return Ok(ExitCode::Input);
            }
        };
        let absolute = lexical(&std::path::absolute(export)?);
        let named = relative_to(&absolute, &dir)
            .to_string_lossy()
            .replace('\\', "/");
        sniffed.push((s, named));
    }
    let files = starter(&sniffed);
    for f in &files {
        let path = dir.join(&f.path);
        if path.exists() {
            crate::log::error(&format!(
                "{} exists: cex init writes nothing over a file; give another --dir",
                path.display()
            ));
            return Ok(ExitCode::Input);
        }
    }
    for f in &files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &f.text)?;
        crate::log::info(&format!("wrote {}", path.display()));
    }
    crate::log::info(&format!(
        "next: edit every CHECK in {}, fill in the lookups, then `cex validate {}`",
        dir.join("pipeline.toml").display(),
        dir.join("pipeline.toml").display()
    ));
    Ok(ExitCode::Ok)
}

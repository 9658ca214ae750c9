//! `cex generate`: writes the sample exports (or benchmark-sized ones).

use super::GenerateArgs;
use crate::exit_codes::ExitCode;
use crate::generate::{generate, GenerateOptions};

pub fn run(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let summary = generate(&GenerateOptions {
        out_dir: args.out.clone(),
        seed: args.seed,
        calls: args.calls,
        defects: !args.no_defects,
    })?;
    let rows: u64 = summary.files.iter().map(|f| f.rows).sum();
    let bytes: u64 = summary.files.iter().map(|f| f.bytes).sum();
    crate::log::info(&format!(
        "wrote {} files, {rows} rows, {:.1} MB into {}",
        summary.files.len(),
        bytes as f64 / 1e6,
        args.out.display()
    ));
    Ok(ExitCode::Ok)
}

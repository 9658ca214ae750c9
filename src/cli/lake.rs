//! `cex lake upgrade <pipeline>`: converts a lake of the layout before Delta tables in place
//! (any writer does this first anyway; this does it alone, e.g. before a reader needs it).

use super::LakeArgs;
use crate::exit_codes::ExitCode;

pub fn run(args: &LakeArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        super::LakeCommand::Upgrade { pipeline } => {
            let pipeline = crate::config::Pipeline::load(pipeline)?;
            let writer = crate::lake::LakeWriter::open(&pipeline.lake_dir)?;
            let lake = writer.lake();
            println!(
                "cex: lake {} is a set of Delta tables (version {}, {} files ingested)",
                lake.root().display(),
                lake.version()
                    .map_or_else(|| "none yet".to_string(), |v| v.to_string()),
                lake.manifest().height()
            );
            Ok(ExitCode::Ok)
        }
    }
}

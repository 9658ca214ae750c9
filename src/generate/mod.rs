//! TEMPORARY placeholder until the generator lands (being written in parallel).
pub struct GenerateOptions {
    pub out_dir: std::path::PathBuf,
    pub seed: u64,
    pub calls: Option<u64>,
    pub defects: bool,
}
pub struct GeneratedFile {
    pub path: std::path::PathBuf,
    pub source: String,
    pub rows: u64,
    pub bytes: u64,
}
pub struct GenerateSummary {
    pub files: Vec<GeneratedFile>,
}
pub fn generate(_opts: &GenerateOptions) -> anyhow::Result<GenerateSummary> {
    anyhow::bail!("generator not yet merged")
}

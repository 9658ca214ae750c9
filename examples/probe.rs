use polars::prelude::*;
fn rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .collect::<Vec<_>>()
        .join(" ")
}
fn main() -> anyhow::Result<()> {
    let bytes = std::fs::read("/tmp/bench10/one/sample_data/webforms/forms_2023-24.csv")?;
    println!("read: {}", rss());
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
    let text = text.into_owned().into_bytes();
    drop(bytes);
    println!("decoded: {}", rss());
    let buffers: Arc<[polars_buffer::Buffer<u8>]> = Arc::from(vec![text.into()]);
    let mut lf = LazyCsvReader::new_with_sources(ScanSources::Buffers(buffers))
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .finish()?;
    println!("finish: {}", rss());
    let schema = lf.collect_schema()?;
    println!("schema: {} {:?}", rss(), schema.len());
    let df = lf
        .clone()
        .select([col("Reference")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    println!("one col: {} {}", rss(), df.height());
    Ok(())
}

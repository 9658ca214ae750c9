//! Streaming CSV output: one reusable line buffer per file, a large BufWriter, and the tally.
//! Also field quoting and the hand-written Windows-1252 encoder the web-forms export needs.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::generate::defects::{Counted, Patch, Tally};

const BUFFER: usize = 1 << 20;

/// A CSV file being written. Callers build each record in `line`, then `emit` it.
pub(crate) struct CsvOut {
    w: BufWriter<File>,
    path: PathBuf,
    pub line: Vec<u8>,
    pub tally: Tally,
}

impl CsvOut {
    pub(crate) fn create(path: &Path) -> Result<CsvOut> {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(CsvOut {
            w: BufWriter::with_capacity(BUFFER, file),
            path: path.to_path_buf(),
            line: Vec::with_capacity(512),
            tally: Tally::default(),
        })
    }

    /// Bytes that are not records: BOM, header, blank lines.
    pub(crate) fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.w
            .write_all(bytes)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Writes the record in `line` and counts it; `repeat` writes it a second time straight
    /// after (an exact duplicate row).
    pub(crate) fn emit(&mut self, counted: Counted, repeat: bool) -> Result<()> {
        let copies = if repeat { 2 } else { 1 };
        for i in 0..copies {
            self.w
                .write_all(&self.line)
                .with_context(|| format!("cannot write {}", self.path.display()))?;
            self.tally
                .count(if i == 0 { counted } else { Counted::SeenBefore });
        }
        self.line.clear();
        Ok(())
    }

    /// Flushes and returns the tally and the file's size.
    pub(crate) fn finish(self) -> Result<(Tally, u64)> {
        let CsvOut { w, path, tally, .. } = self;
        let file = w
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot flush {}", path.display()))?;
        let bytes = file
            .metadata()
            .with_context(|| format!("cannot stat {}", path.display()))?
            .len();
        Ok((tally, bytes))
    }
}

/// Appends a separator (except before column 0) and one field: the patch's text if the patch
/// is for this column, else what `write` puts there.
pub(crate) fn field(
    buf: &mut Vec<u8>,
    col: usize,
    patch: Option<&Patch>,
    write: impl FnOnce(&mut Vec<u8>),
) {
    if col > 0 {
        buf.push(b',');
    }
    match patch {
        Some(p) if p.col == col => buf.extend_from_slice(&p.text),
        _ => write(buf),
    }
}

/// Appends a field, quoting it when it holds a separator, a quote or a line break.
pub(crate) fn push_field(buf: &mut Vec<u8>, field: &[u8]) {
    if field
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        buf.push(b'"');
        for &b in field {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(field);
    }
}

/// Encodes text as Windows-1252. Only ASCII and the four characters the vocabulary uses are
/// supported; anything else is a programming error reported as such.
pub(crate) fn cp1252(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        out.push(match c {
            c if c.is_ascii() => c as u8,
            '–' => 0x96,
            '’' => 0x92,
            '£' => 0xA3,
            'é' => 0xE9,
            other => bail!("no Windows-1252 encoding for {other:?} in {text:?}"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_encoding() -> Result<()> {
        let mut b = Vec::new();
        push_field(&mut b, b"plain");
        b.push(b',');
        push_field(&mut b, b"a, \"b\"\nc");
        assert_eq!(b, b"plain,\"a, \"\"b\"\"\nc\"");
        assert_eq!(
            cp1252("Café – £5 tenant’s")?,
            b"Caf\xE9 \x96 \xA35 tenant\x92s"
        );
        assert!(cp1252("naïve").is_err());
        Ok(())
    }
}

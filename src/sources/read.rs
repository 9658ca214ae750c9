//! Opening one export file as it came from the vendor: hashing it, decoding its text (UTF-8 with or
//! without BOM, Windows-1252) or reading its Excel sheet, into a lazy frame of raw String columns.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::SourceError;
use crate::config::{Encoding, FileFormat, SourceDef};
use crate::text::normalise_header;

/// Name of the row-number column added to every raw frame.
pub const ROW: &str = "__row";

/// Name of the column that holds, for a record with more or fewer fields than the header, the
/// record's text as exported (null for every other row): such rows are rejected
/// `wrong_field_count` with that text kept.
pub const LINE: &str = "__line";

/// Name of the column that holds, for a record with a quoted value running over lines that
/// have as many fields as a row (a quote left open has joined the rows after it into the
/// value), the record's text as exported (null for every other row): such rows are rejected
/// `joined_rows` with that text kept, so that the rows inside are seen, not lost.
pub const JOINED: &str = "__joined";

/// One raw export file, opened but not yet mapped.
pub struct RawFile {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
    /// How the bytes were read: `utf-8`, `utf-8 with BOM`, `windows-1252`, `xlsx`, or
    /// `utf-8 (N lines windows-1252)` for a UTF-8 file with some lines that are not.
    pub encoding: String,
    /// Lines of a UTF-8 file that were not UTF-8 and were read as Windows-1252.
    pub repaired_lines: u64,
    pub format: FileFormat,
    /// Headers exactly as in the file (trimmed), in file order; a header that repeats an
    /// earlier one (ignoring case and spacing) is told apart as `name (column N)`.
    pub headers: Vec<String>,
    /// The headers that repeat an earlier one: harmless unless the pipeline maps that name
    /// (`map` then refuses the file, naming both).
    pub duplicate_headers: Vec<DuplicateHeader>,
    /// Raw String columns named as `headers`, plus [`ROW`]: the row as a spreadsheet shows it
    /// (the header is row 1, so the first record is row 2).
    pub frame: LazyFrame,
    /// Whether `frame` holds the whole file (small files, workbooks) rather than its first piece.
    pub in_memory: bool,
    /// For a file too large to hold in memory, `frame` is its first piece and this reads the
    /// rest, piece by piece.
    pub chunks: Option<Chunks>,
    /// Modification time (ns since 1970) taken before the file was read; set by ingest.
    pub modified_ns: Option<i64>,
}

/// A file looked at for ingest: either already known by its content, or opened.
pub enum Opening {
    /// Its SHA-256 was recognised (already in the lake, or seen earlier in the run): not parsed.
    Known {
        sha256: String,
        encoding: String,
    },
    Opened(Box<RawFile>),
}

impl RawFile {
    /// The same file with `frame` reading one piece of it (see [`Chunks`]).
    pub fn piece(&self, frame: LazyFrame) -> RawFile {
        RawFile {
            path: self.path.clone(),
            sha256: self.sha256.clone(),
            size: self.size,
            encoding: self.encoding.clone(),
            repaired_lines: self.repaired_lines,
            format: self.format,
            headers: self.headers.clone(),
            duplicate_headers: self.duplicate_headers.clone(),
            frame,
            in_memory: true,
            chunks: None,
            modified_ns: self.modified_ns,
        }
    }

    /// The file's short id used for lineage: the first 16 hex digits of its SHA-256.
    pub fn file_id(&self) -> &str {
        &self.sha256[..16]
    }

    /// The file's header that matches a configured column name, ignoring case and spacing.
    pub fn column(&self, configured: &str) -> Option<&str> {
        let want = normalise_header(configured);
        self.headers
            .iter()
            .find(|h| normalise_header(h) == want)
            .map(String::as_str)
    }
}

/// An I/O error on `path` as a source error naming the file.
fn io_error(path: &Path) -> impl Fn(std::io::Error) -> SourceError + Copy + '_ {
    move |e| SourceError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// SHA-256 of a file's bytes, as lower-case hex.
/// The hash a file is known by (in the manifest, to skip a file already ingested, and as its
/// file id): the SHA-256 of its bytes, or for a source whose `path_fields` give the file's
/// month, channel or council, the SHA-256 of the bytes' hash and those fields: the same counts
/// under another month's name are another export, not a re-sent one.
fn identity(content: String, path: &Path, source: &SourceDef) -> String {
    let Some(fields) = &source.path_fields else {
        return content;
    };
    let Ok(captured) = fields.capture(path) else {
        // The file is refused when it is mapped, naming the path.
        return content;
    };
    let mut text = content;
    for (name, value) in &captured.columns {
        text.push_str(&format!("\n{name}={value}"));
    }
    if let Some(date) = &captured.date {
        text.push_str(&format!("\n(path) date={date}"));
    }
    sha256_hex(text.as_bytes())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads, hashes and opens one file of a source, in memory.
pub fn open(path: &Path, source: &SourceDef) -> Result<RawFile, SourceError> {
    match open_for_ingest(path, source, u64::MAX, PIECE, &|_| false)? {
        Opening::Opened(raw) => Ok(*raw),
        Opening::Known { .. } => Err(SourceError::Io {
            path: path.to_path_buf(),
            message: "unexpectedly skipped".into(),
        }),
    }
}

/// Size of the pieces a large file is hashed, checked and decoded in.
const PIECE: usize = 8 << 20;

/// Hashes a file and, unless `known` recognises its SHA-256, opens it. CSV files larger than
/// `in_memory_limit` bytes are not read into memory: they are hashed and checked in pieces, then
/// read in pieces of about `chunk_bytes` (see [`Chunks`]).
pub fn open_for_ingest(
    path: &Path,
    source: &SourceDef,
    in_memory_limit: u64,
    chunk_bytes: usize,
    known: &dyn Fn(&str) -> bool,
) -> Result<Opening, SourceError> {
    let io_err = io_error(path);
    let size = std::fs::metadata(path).map_err(io_err)?.len();
    let format = FileFormat::of(path, source.format);
    // UTF-16 text (Excel's "Unicode Text") is decoded whole: it is read into memory whatever
    // its size.
    if format == Some(FileFormat::Csv) && size > in_memory_limit && utf16_file(path).is_none() {
        return open_large_csv(path, source, size, chunk_bytes, known);
    }
    let bytes = std::fs::read(path).map_err(io_err)?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(SourceError::Empty {
            path: path.to_path_buf(),
        });
    }
    let sha256 = identity(sha256_hex(&bytes), path, source);
    let size = bytes.len() as u64;
    let format = format.ok_or_else(|| SourceError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    if known(&sha256) {
        let encoding = match format {
            FileFormat::Xlsx => "xlsx".to_string(),
            FileFormat::Csv => decode(path, bytes, source.encoding)?.0.label(),
        };
        return Ok(Opening::Known { sha256, encoding });
    }
    let (decoded, Headers { names, duplicates }, frame) = match format {
        FileFormat::Csv => open_csv(path, bytes, source)?,
        FileFormat::Xlsx => {
            let (_, headers, frame) = open_xlsx(path, bytes, source.sheet.as_deref())?;
            (Decoded::xlsx(), headers, frame)
        }
    };
    Ok(Opening::Opened(Box::new(RawFile {
        path: path.to_path_buf(),
        sha256,
        size,
        encoding: decoded.label(),
        repaired_lines: decoded.repaired_lines,
        format,
        headers: names,
        duplicate_headers: duplicates,
        frame,
        in_memory: true,
        chunks: None,
        modified_ns: None,
    })))
}

/// What one pass over a large file found.
struct Scanned {
    sha256: String,
    bom: bool,
    lines: LineKinds,
    blank: bool,
}

/// One pass over a file in pieces: its SHA-256, whether it starts with a BOM, which of its
/// lines are UTF-8 and whether it is nothing but whitespace.
fn scan_bytes(path: &Path) -> std::io::Result<Scanned> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; PIECE];
    // The line cut by the end of the previous piece.
    let mut carry: Vec<u8> = Vec::new();
    let (mut bom, mut blank, mut first) = (false, true, true);
    let mut lines = LineKinds::default();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let piece = &buf[..n];
        hasher.update(piece);
        let mut piece = piece;
        if first {
            bom = piece.starts_with(b"\xEF\xBB\xBF");
            first = false;
            // The BOM is not text: a Windows-1252 file behind one is not "mixed".
            if bom {
                piece = &piece[3..];
            }
        }
        if blank && !piece.iter().all(|b| b.is_ascii_whitespace()) {
            blank = false;
        }
        match piece.iter().rposition(|b| *b == b'\n') {
            Some(last) => {
                carry.extend_from_slice(&piece[..=last]);
                lines.add(&carry);
                carry.clear();
                carry.extend_from_slice(&piece[last + 1..]);
            }
            None => carry.extend_from_slice(piece),
        }
    }
    lines.add(&carry);
    let digest = hasher.finalize();
    Ok(Scanned {
        sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        bom,
        lines,
        blank,
    })
}

/// How many lines of a text are UTF-8 with characters beyond ASCII, and how many are not UTF-8.
#[derive(Debug, Default, Clone, Copy)]
struct LineKinds {
    utf8_beyond_ascii: u64,
    not_utf8: u64,
}

impl LineKinds {
    fn add(&mut self, text: &[u8]) {
        for line in text.split(|b| *b == b'\n') {
            if line.is_ascii() {
                continue;
            }
            match std::str::from_utf8(line) {
                Ok(_) => self.utf8_beyond_ascii += 1,
                Err(_) => self.not_utf8 += 1,
            }
        }
    }

    /// A file with lines that are not UTF-8 and none that are (beyond ASCII) is Windows-1252
    /// throughout; with both, it is UTF-8 with some lines to repair.
    fn mixed(self) -> bool {
        self.not_utf8 > 0 && self.utf8_beyond_ascii > 0
    }
}

/// How a CSV file's bytes were decoded.
#[derive(Debug, Clone, Copy)]
struct Decoded {
    kind: &'static str,
    repaired_lines: u64,
}

impl Decoded {
    fn xlsx() -> Decoded {
        Decoded {
            kind: "xlsx",
            repaired_lines: 0,
        }
    }

    fn whole(kind: &'static str) -> Decoded {
        Decoded {
            kind,
            repaired_lines: 0,
        }
    }

    /// What the manifest and the ingest table show.
    fn label(self) -> String {
        match self.repaired_lines {
            0 => self.kind.to_string(),
            1 => format!("{} (1 line windows-1252)", self.kind),
            n => format!("{} ({n} lines windows-1252)", self.kind),
        }
    }
}

/// UTF-8 text with its lines that are not UTF-8 read as Windows-1252, after `prefix` (UTF-8).
fn decode_lines(prefix: &[u8], bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(prefix.len() + bytes.len() + bytes.len() / 8);
    out.extend_from_slice(prefix);
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if line.is_ascii() || std::str::from_utf8(line).is_ok() {
            out.extend_from_slice(line);
        } else {
            out.extend(decode_1252(&[], line)?);
        }
    }
    Ok(out)
}

fn open_large_csv(
    path: &Path,
    source: &SourceDef,
    size: u64,
    chunk_bytes: usize,
    known: &dyn Fn(&str) -> bool,
) -> Result<Opening, SourceError> {
    let io_err = io_error(path);
    let scanned = scan_bytes(path).map_err(io_err)?;
    if scanned.blank {
        return Err(SourceError::Empty {
            path: path.to_path_buf(),
        });
    }
    let lines = scanned.lines;
    let utf8 = lines.not_utf8 == 0;
    let utf8_kind = if scanned.bom {
        "utf-8 with BOM"
    } else {
        "utf-8"
    };
    let decoded = match (source.encoding, utf8) {
        (Encoding::Windows1252, _) => Decoded::whole("windows-1252"),
        (_, true) => Decoded::whole(utf8_kind),
        (Encoding::Auto, false) if lines.mixed() => Decoded {
            kind: utf8_kind,
            repaired_lines: lines.not_utf8,
        },
        (Encoding::Auto, false) => Decoded::whole("windows-1252"),
        (Encoding::Utf8, false) => {
            return Err(SourceError::Encoding {
                path: path.to_path_buf(),
                message: "not valid UTF-8 (set encoding = \"windows-1252\" or \"auto\")".into(),
            })
        }
    };
    let scanned = Scanned {
        sha256: identity(scanned.sha256, path, source),
        ..scanned
    };
    if known(&scanned.sha256) {
        return Ok(Opening::Known {
            sha256: scanned.sha256,
            encoding: decoded.label(),
        });
    }
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut chunks = Chunks {
        file,
        windows_1252: decoded.kind == "windows-1252",
        repair_lines: decoded.repaired_lines > 0,
        skip_bom: scanned.bom && source.encoding != Encoding::Windows1252,
        target: chunk_bytes.max(1),
        carry: Vec::new(),
        header: Vec::new(),
        first: true,
        eof: false,
        next_row: 2,
        delimiter: source.delimiter,
        path: path.to_path_buf(),
    };
    let first = chunks
        .next_text()
        .map_err(io_err)?
        .ok_or_else(|| SourceError::Empty {
            path: path.to_path_buf(),
        })?;
    let (Headers { names, duplicates }, frame) = chunks.frame(first, 2)?;
    Ok(Opening::Opened(Box::new(RawFile {
        path: path.to_path_buf(),
        sha256: scanned.sha256,
        size,
        encoding: decoded.label(),
        repaired_lines: decoded.repaired_lines,
        format: FileFormat::Csv,
        headers: names,
        duplicate_headers: duplicates,
        frame,
        in_memory: false,
        chunks: Some(chunks),
        modified_ns: None,
    })))
}

/// The rest of a large CSV file, read in pieces of about `target` bytes that end at a record
/// boundary, each decoded to UTF-8 and given the file's header line, so each parses exactly as
/// that part of the whole file would. A record boundary is a line end preceded by an even number
/// of quote characters since the start of the file: the rule polars itself splits files by.
pub struct Chunks {
    file: std::fs::File,
    windows_1252: bool,
    /// UTF-8 with some lines that are not: those lines are read as Windows-1252.
    repair_lines: bool,
    skip_bom: bool,
    target: usize,
    /// Bytes read past the last boundary handed out.
    carry: Vec<u8>,
    /// The header line (UTF-8, with its line end), put in front of every piece after the first.
    header: Vec<u8>,
    first: bool,
    eof: bool,
    /// The spreadsheet row number of the next piece's first record.
    next_row: u64,
    delimiter: u8,
    path: PathBuf,
}

impl Chunks {
    /// The next piece as UTF-8 text (the first includes the header line), or `None` at the end.
    fn next_text(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        use std::io::Read;
        if self.eof && self.carry.is_empty() {
            return Ok(None);
        }
        // Every piece after the first starts with the header line. UTF-8 text is read in right
        // after it rather than copied behind it later (Windows-1252 text gets it when decoded).
        let prefix: &[u8] = if self.first || self.windows_1252 || self.repair_lines {
            &[]
        } else {
            &self.header
        };
        let base = prefix.len();
        let step = PIECE.min(self.target.max(64 << 10));
        let mut buf = Vec::with_capacity(base + self.carry.len().max(self.target) + step);
        buf.extend_from_slice(prefix);
        buf.append(&mut self.carry);
        let target = base + self.target;
        // Quote parity up to `scanned`, and where the piece ends once a boundary is found.
        let (mut scanned, mut odd) = (base, false);
        let mut end = None;
        loop {
            while buf.len() < scanned.max(target) + 1 && !self.eof {
                // Into the spare capacity: nothing is zeroed first.
                let n = (&mut self.file).take(step as u64).read_to_end(&mut buf)?;
                self.eof = n == 0;
            }
            if self.first && self.skip_bom && buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
                self.skip_bom = false;
            }
            // Up to the target, only the parity matters; after it, the first line end outside
            // quotes is the boundary.
            let upto = target.min(buf.len());
            if scanned < upto {
                odd ^= buf[scanned..upto].iter().filter(|b| **b == b'"').count() % 2 == 1;
                scanned = upto;
            }
            while scanned < buf.len() {
                match buf[scanned] {
                    b'"' => odd = !odd,
                    b'\n' if !odd => {
                        end = Some(scanned + 1);
                        break;
                    }
                    _ => {}
                }
                scanned += 1;
            }
            if end.is_some() || self.eof {
                break;
            }
        }
        let end = end.unwrap_or(buf.len());
        self.carry = buf.split_off(end);
        let header: &[u8] = if self.first { &[] } else { &self.header };
        let text = if self.windows_1252 {
            decode_1252(header, &buf)?
        } else if self.repair_lines {
            decode_lines(header, &buf)?
        } else {
            buf
        };
        if self.first {
            self.first = false;
            self.header = header_line(&text);
        }
        Ok(Some(text))
    }

    /// A piece as a raw frame whose row numbers start at `first_row`.
    fn frame(&self, text: Vec<u8>, first_row: u64) -> Result<(Headers, LazyFrame), SourceError> {
        csv_frame(&self.path, text, self.delimiter, first_row)
    }

    /// The next piece's raw frame (same columns as the first), or `None` at the end.
    pub fn next_frame(&mut self) -> Result<Option<LazyFrame>, SourceError> {
        let text = self.next_text().map_err(io_error(&self.path))?;
        match text {
            Some(text) => Ok(Some(self.frame(text, self.next_row)?.1)),
            None => Ok(None),
        }
    }

    /// Tells the reader how many rows the last piece had, so the next one is numbered on.
    pub fn advance(&mut self, rows: u64) {
        self.next_row += rows;
    }
}

/// The first line of a text, up to and including the first line end outside quotes.
fn header_line(text: &[u8]) -> Vec<u8> {
    let mut odd = false;
    for (i, b) in text.iter().enumerate() {
        match b {
            b'"' => odd = !odd,
            b'\n' if !odd => return text[..=i].to_vec(),
            _ => {}
        }
    }
    let mut line = text.to_vec();
    line.push(b'\n');
    line
}

/// Windows-1252 bytes as UTF-8, after `prefix` (UTF-8 already).
fn decode_1252(prefix: &[u8], bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let high = bytes.iter().filter(|b| **b >= 0x80).count();
    let prefix = std::str::from_utf8(prefix).map_err(std::io::Error::other)?;
    let mut text = String::with_capacity(prefix.len() + bytes.len() + 2 * high);
    text.push_str(prefix);
    let mut decoder = encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling();
    let mut rest = bytes;
    loop {
        let (result, read, _) = decoder.decode_to_string(rest, &mut text, true);
        rest = &rest[read..];
        if result == encoding_rs::CoderResult::InputEmpty {
            break;
        }
        let room = decoder
            .max_utf8_buffer_length(rest.len())
            .ok_or_else(|| std::io::Error::other("could not decode as Windows-1252"))?;
        text.reserve(room);
    }
    Ok(text.into_bytes())
}

/// Decodes CSV bytes to UTF-8 text: a UTF-8 BOM is dropped, and bytes that are not valid UTF-8
/// are read as Windows-1252 (what Excel writes when it saves "CSV") unless UTF-8 was demanded.
fn decode(
    path: &Path,
    bytes: Vec<u8>,
    encoding: Encoding,
) -> Result<(Decoded, Vec<u8>), SourceError> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if let Some((utf16, kind)) = utf16_of(&bytes) {
        // Its byte order mark says what it is, whatever `encoding` says.
        let (text, malformed) = utf16.decode_with_bom_removal(&bytes);
        if malformed {
            return Err(SourceError::Encoding {
                path: path.to_path_buf(),
                message: format!("starts as {kind} but is not valid {kind} throughout"),
            });
        }
        return Ok((Decoded::whole(kind), text.into_owned().into_bytes()));
    }
    let mut bytes = bytes;
    let mut bom = false;
    let encoding_err = |e: std::io::Error| SourceError::Encoding {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if encoding != Encoding::Windows1252 {
        if bytes.starts_with(BOM) {
            // A BOM promises UTF-8, but the rest is checked like any file: a BOM followed by
            // Windows-1252 text (rows appended by another program) is not UTF-8.
            bytes.drain(..BOM.len());
            bom = true;
        }
        let utf8_kind = if bom { "utf-8 with BOM" } else { "utf-8" };
        match std::str::from_utf8(&bytes) {
            Ok(_) => return Ok((Decoded::whole(utf8_kind), bytes)),
            Err(e) if encoding == Encoding::Utf8 => {
                return Err(SourceError::Encoding {
                    path: path.to_path_buf(),
                    message: format!(
                        "not valid UTF-8 at byte {} (set encoding = \"windows-1252\" or \"auto\")",
                        e.valid_up_to() + if bom { BOM.len() } else { 0 }
                    ),
                })
            }
            Err(_) => {
                // Mostly UTF-8 with a few lines pasted from elsewhere: only those lines are
                // Windows-1252; "Paid £120" on a UTF-8 line stays as it is.
                let mut lines = LineKinds::default();
                lines.add(&bytes);
                if lines.mixed() {
                    let text = decode_lines(&[], &bytes).map_err(encoding_err)?;
                    let decoded = Decoded {
                        kind: utf8_kind,
                        repaired_lines: lines.not_utf8,
                    };
                    return Ok((decoded, text));
                }
            }
        }
    }
    let text = decode_1252(&[], &bytes).map_err(encoding_err)?;
    Ok((Decoded::whole("windows-1252"), text))
}

/// The UTF-16 encoding (and its label) a text's byte order mark names, if it has one: Excel's
/// "Unicode Text" and some exporters write UTF-16, little-endian with `FF FE` first.
pub(super) fn utf16_of(bytes: &[u8]) -> Option<(&'static encoding_rs::Encoding, &'static str)> {
    if bytes.starts_with(b"\xFF\xFE") {
        Some((encoding_rs::UTF_16LE, "utf-16le"))
    } else if bytes.starts_with(b"\xFE\xFF") {
        Some((encoding_rs::UTF_16BE, "utf-16be"))
    } else {
        None
    }
}

/// [`utf16_of`] the file's first two bytes (`None` when they cannot be read: the file's reader
/// says why).
fn utf16_file(path: &Path) -> Option<(&'static encoding_rs::Encoding, &'static str)> {
    use std::io::Read;
    let mut first = [0u8; 2];
    let mut file = std::fs::File::open(path).ok()?;
    file.read_exact(&mut first).ok()?;
    utf16_of(&first)
}

fn open_csv(
    path: &Path,
    bytes: Vec<u8>,
    source: &SourceDef,
) -> Result<(Decoded, Headers, LazyFrame), SourceError> {
    let (encoding, mut text) = decode(path, bytes, source.encoding)?;
    // Lines ended by CR alone (classic Mac OS, some old exporters): with no LF anywhere, each CR
    // ends a line. Otherwise the whole file would read as its header.
    if memchr::memchr(b'\n', &text).is_none() && memchr::memchr(b'\r', &text).is_some() {
        for b in text.iter_mut().filter(|b| **b == b'\r') {
            *b = b'\n';
        }
    }
    let (headers, frame) = csv_frame(path, text, source.delimiter, 2)?;
    Ok((encoding, headers, frame))
}

/// CSV text (UTF-8, header first) as a raw frame: every column as text, the row number (the
/// first record being `first_row`), trimmed headers. The text is parsed here, by polars' eager
/// reader: the whole file or piece is needed at once anyway, and it splits the text into lines
/// faster than the lazy scan does.
fn csv_frame(
    path: &Path,
    text: Vec<u8>,
    delimiter: u8,
    first_row: u64,
) -> Result<(Headers, LazyFrame), SourceError> {
    let polars_err = |e: PolarsError| SourceError::Parse {
        path: path.to_path_buf(),
        message: crate::redact::parser_message(&e.to_string()),
    };
    let Records {
        header,
        ragged,
        joined,
        unclosed,
    } = ragged_records(&text, delimiter);
    if let Some((record, field)) = unclosed {
        let column = header.get(field).map_or_else(
            || format!("field {}", field + 1),
            |h| format!("column '{}'", h.trim()),
        );
        return Err(SourceError::Parse {
            path: path.to_path_buf(),
            message: format!(
                "row {}: a quote opens in {column} and is never closed, so every line after it would be one value; close the quote (or double it, \"\", inside a value) and ingest again",
                first_row + record as u64
            ),
        });
    }
    let frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_row_index(Some(RowIndex {
            name: ROW.into(),
            offset: IdxSize::try_from(first_row).unwrap_or(IdxSize::MAX),
        }))
        .map_parse_options(|o| {
            o.with_separator(delimiter)
                .with_truncate_ragged_lines(true)
                .with_missing_is_null(true)
        })
        .into_reader_with_file_handle(std::io::Cursor::new(text))
        .finish()
        .map_err(polars_err)?;
    let height = frame.height();
    let mut lines: Vec<Option<String>> = Vec::new();
    if !ragged.is_empty() {
        lines.resize(height, None);
        for (record, line) in ragged {
            match lines.get_mut(record) {
                Some(slot) => *slot = Some(line),
                None => {
                    return Err(SourceError::Parse {
                        path: path.to_path_buf(),
                        message: format!(
                            "row {} is beyond the {height} rows read; quotes may be unbalanced",
                            first_row + record as u64
                        ),
                    })
                }
            }
        }
    }
    let headers: Vec<String> = frame
        .get_column_names()
        .into_iter()
        .filter(|n| n.as_str() != ROW)
        .map(|n| n.to_string())
        .collect();
    // Trim headers (" form name " -> "form name"); matching is also case-insensitive. The
    // names are the header line's own (polars renames a repeated name), told apart by position.
    let told = told_apart(if header.len() == headers.len() {
        &header
    } else {
        &headers
    });
    let line = if lines.is_empty() {
        lit(NULL).cast(DataType::String)
    } else {
        lit(Series::new(LINE.into(), lines))
    };
    let joined = if joined.is_empty() {
        lit(NULL).cast(DataType::String)
    } else {
        let mut texts: Vec<Option<String>> = vec![None; height];
        for (record, text) in joined {
            if let Some(slot) = texts.get_mut(record) {
                *slot = Some(text);
            }
        }
        lit(Series::new(JOINED.into(), texts))
    };
    let frame = frame
        .lazy()
        .rename(&headers, &told.names, true)
        .with_columns([line.alias(LINE), joined.alias(JOINED)]);
    Ok((told, frame))
}

/// What [`ragged_records`] finds: the header's names (unquoted); for each record after it
/// whose number of fields is not the header's, its index (0 = the first record; blank lines
/// count, as in polars' row numbers, and are never ragged) and its text as exported (without
/// the line end); the same for each record with a quoted value that runs over a line with at
/// least the header's number of fields (rows a quote left open has joined into it).
struct Records {
    header: Vec<String>,
    ragged: Vec<(usize, String)>,
    joined: Vec<(usize, String)>,
    /// A quote that opens and is never closed: its record's index (as for `ragged`) and the
    /// field it opens (0 = the first).
    unclosed: Option<(usize, usize)>,
}

/// The [`Records`] of CSV text. Fields and records are split as polars splits them: a
/// delimiter or line end inside quotes does not count.
fn ragged_records(text: &[u8], delimiter: u8) -> Records {
    let mut header: Vec<String> = Vec::new();
    let mut ragged = Vec::new();
    let mut joined = Vec::new();
    let mut expected = 0usize;
    let mut unnamed_tail = 0usize;
    let mut unclosed = None;
    let (mut at, mut record) = (0usize, 0usize);
    while at < text.len() {
        let start = at;
        let (fields, beyond, line_end) = match quoteless_line(text, at, delimiter) {
            // Most lines hold no quote: found with a vectorised search, their fields counted.
            Some((line_end, fields)) if record > 0 => {
                let beyond = (fields > expected)
                    .then(|| nth_delimiter(&text[start..line_end], delimiter, expected))
                    .flatten()
                    .map(|i| start + i);
                (fields, beyond, line_end)
            }
            _ => {
                let (mut fields, mut quoted) = (1usize, false);
                let mut cuts = Vec::new();
                // Where the fields beyond the header's begin (the delimiter ending the last
                // expected).
                let mut beyond = None;
                // A line that began inside a quoted value, and its delimiters: as many fields
                // as a row there means rows joined into the value.
                let (mut within, mut inside, mut joins) = (false, 0usize, false);
                // The field the last quote opened in.
                let mut opened = 0usize;
                let row_like = |inside: usize| record > 0 && expected > 1 && inside + 1 >= expected;
                while at < text.len() {
                    match text[at] {
                        b'"' => {
                            if quoted && within {
                                joins |= row_like(inside);
                                within = false;
                            }
                            if !quoted {
                                opened = fields - 1;
                            }
                            quoted = !quoted;
                        }
                        b'\n' if !quoted => break,
                        b'\n' => {
                            joins |= within && row_like(inside);
                            (within, inside) = (true, 0);
                        }
                        b if b == delimiter && !quoted => {
                            fields += 1;
                            if record == 0 {
                                cuts.push(at);
                            } else if fields == expected + 1 {
                                beyond = Some(at);
                            }
                        }
                        b if b == delimiter && within => inside += 1,
                        _ => {}
                    }
                    at += 1;
                }
                if quoted && record > 0 {
                    unclosed = Some((record - 1, opened));
                }
                if joins {
                    let end = without_cr(text, start, at);
                    joined.push((
                        record - 1,
                        String::from_utf8_lossy(&text[start..end]).into_owned(),
                    ));
                }
                if record == 0 {
                    let end = without_cr(text, start, at);
                    let mut from = start;
                    for cut in cuts.into_iter().chain(std::iter::once(end)) {
                        header.push(unquote(&text[from..cut]));
                        from = cut + 1;
                    }
                }
                (fields, beyond, at)
            }
        };
        let end = without_cr(text, start, line_end);
        at = line_end + 1;
        if record == 0 {
            expected = fields;
            // A header ending in a delimiter (`a,b,c,`), rows not: the unnamed columns at its
            // end are empty in every row that stops short of them, and nothing is lost.
            unnamed_tail = header
                .iter()
                .rev()
                .take_while(|h| h.trim().is_empty())
                .count();
        } else if end > start
            && fields != expected
            && !(fields > expected && empty_tail(text, beyond, end, delimiter))
            && !(fields < expected && fields + unnamed_tail >= expected)
        {
            ragged.push((
                record - 1,
                String::from_utf8_lossy(&text[start..end]).into_owned(),
            ));
        }
        record += 1;
    }
    Records {
        header,
        ragged,
        joined,
        unclosed,
    }
}

/// The end of the line starting at `at` (its line end, or the text's end) and its number of
/// fields, when the line holds no quote (so no delimiter or line end is quoted); `None` when it
/// does.
fn quoteless_line(text: &[u8], at: usize, delimiter: u8) -> Option<(usize, usize)> {
    let rest = &text[at..];
    let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    let line = &rest[..len];
    if memchr::memchr(b'"', line).is_some() {
        return None;
    }
    Some((
        at + len,
        1 + line.iter().filter(|b| **b == delimiter).count(),
    ))
}

/// The position in `line` of its `n`th delimiter (1 = the first).
fn nth_delimiter(line: &[u8], delimiter: u8, n: usize) -> Option<usize> {
    line.iter()
        .enumerate()
        .filter(|(_, b)| **b == delimiter)
        .nth(n.checked_sub(1)?)
        .map(|(i, _)| i)
}

/// The end of a record's text ending at `end`, without a carriage return before the line end.
fn without_cr(text: &[u8], start: usize, end: usize) -> usize {
    if end > start && text[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// Whether the fields from `from` (the delimiter before the first field beyond the header's)
/// to `end` are all empty: trailing empty fields (`a,b,,`: a common export quirk) lose nothing.
fn empty_tail(text: &[u8], from: Option<usize>, end: usize, delimiter: u8) -> bool {
    from.is_some_and(|from| {
        let tail = &text[from..end];
        tail.iter()
            .all(|b| *b == delimiter || *b == b'"' || b.is_ascii_whitespace())
            && tail.iter().filter(|b| **b == b'"').count() % 2 == 0
    })
}

/// A CSV field's text: surrounding quotes removed, doubled quotes made single.
fn unquote(field: &[u8]) -> String {
    let text = String::from_utf8_lossy(field);
    let t = text.trim();
    match t.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => text.into_owned(),
    }
}

/// A file's headers as cex names its columns, and those that repeat an earlier one.
pub struct Headers {
    pub names: Vec<String>,
    pub duplicates: Vec<DuplicateHeader>,
}

/// A header whose name matches an earlier one's, ignoring case and spacing: (1-based position,
/// name as written) of each.
#[derive(Clone, Debug)]
pub struct DuplicateHeader {
    pub first: (usize, String),
    pub second: (usize, String),
}

impl DuplicateHeader {
    /// The refusal when the pipeline maps this name: the mapping cannot tell the two apart.
    pub fn refusal(&self, path: &Path) -> SourceError {
        SourceError::DuplicateHeaders {
            path: path.to_path_buf(),
            first: self.first.clone(),
            second: self.second.clone(),
        }
    }
}

/// Trimmed headers, a repeated one (ignoring case and spacing) renamed `name (column N)` so that
/// every column has a name of its own. Exports often repeat a column nobody maps ("Other" and
/// "Other ", two "Notes"): that costs nothing. Only a mapped name that repeats is refused (see
/// `map`), since the mapping could not tell which column was meant.
fn told_apart(headers: &[String]) -> Headers {
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    let mut duplicates = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    let originals: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    for (i, h) in headers.iter().enumerate() {
        let trimmed = h.trim().to_string();
        let key = normalise_header(h);
        let earlier = seen.iter().find(|(k, _)| *k == key).map(|(_, at)| *at);
        match earlier {
            Some(first) => {
                // Blank headers cannot be mapped: renamed, never a refusal.
                if !key.is_empty() {
                    duplicates.push(DuplicateHeader {
                        first: (first + 1, headers[first].trim().to_string()),
                        second: (i + 1, trimmed.clone()),
                    });
                }
                // A name no header of the file has and no other renamed column took.
                let mut name = format!("{trimmed} (column {})", i + 1).trim().to_string();
                while originals.contains(&normalise_header(&name))
                    || names
                        .iter()
                        .any(|n| normalise_header(n) == normalise_header(&name))
                {
                    name.push('\'');
                }
                names.push(name);
            }
            None => {
                seen.push((key, i));
                names.push(trimmed);
            }
        }
    }
    Headers { names, duplicates }
}

/// A workbook's sheet (`sheet`, or the first) as text columns, each cell as a CSV export of it
/// would hold it, with the sheet's name and headers; blank rows are not records.
pub(super) fn open_xlsx(
    path: &Path,
    bytes: Vec<u8>,
    sheet: Option<&str>,
) -> Result<(String, Headers, LazyFrame), SourceError> {
    let excel_err = |message: String| SourceError::Excel {
        path: path.to_path_buf(),
        message,
    };
    let never_calculated = never_calculated(&bytes);
    let mut workbook =
        calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| excel_err(e.to_string()))?;
    let names = workbook.sheet_names();
    let sheet_name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(s.trim()))
            .cloned()
            .ok_or_else(|| {
                excel_err(format!(
                    "has no sheet '{s}' (sheets: {})",
                    names
                        .iter()
                        .take(12)
                        .map(|n| crate::redact::clip(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| excel_err("has no sheets".into()))?,
    };
    let range = sheet_values(&mut workbook, &sheet_name, never_calculated).map_err(excel_err)?;
    let (first_row, _) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let headers: Vec<String> = rows
        .next()
        .ok_or_else(|| SourceError::Empty {
            path: path.to_path_buf(),
        })?
        .iter()
        .map(|c| cell_text(c).unwrap_or_default().trim().to_string())
        .collect();
    if sheet.is_none() {
        alike_sheets(&mut workbook, &names, &sheet_name, &headers).map_err(excel_err)?;
    }
    let headers = told_apart(&headers);
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); headers.names.len()];
    let mut row_numbers: Vec<IdxSize> = Vec::new();
    for (i, row) in rows.enumerate() {
        if row.iter().all(|c| matches!(c, Data::Empty)) {
            continue; // a blank spreadsheet row is not a record
        }
        // Excel row numbers are 1-based and the header is the range's first row.
        row_numbers.push((first_row as usize + i + 2) as IdxSize);
        for (j, column) in columns.iter_mut().enumerate() {
            column.push(row.get(j).and_then(cell_text));
        }
    }
    let mut series: Vec<Column> = Vec::with_capacity(headers.names.len() + 2);
    let height = row_numbers.len();
    series.push(Column::new(ROW.into(), row_numbers));
    // A sheet has no field counts to get wrong.
    series.push(Column::full_null(LINE.into(), height, &DataType::String));
    series.push(Column::full_null(JOINED.into(), height, &DataType::String));
    for (name, values) in headers.names.iter().zip(columns) {
        series.push(Column::new(name.as_str().into(), values));
    }
    let df = DataFrame::new_infer_height(series).map_err(|e| excel_err(e.to_string()))?;
    Ok((sheet_name, headers, df.lazy()))
}

/// Whether a workbook says it must be calculated when opened (`fullCalcOnLoad` in
/// `xl/workbook.xml`'s `calcPr`): what programs that write workbooks without calculating them
/// say (XlsxWriter and rust_xlsxwriter, openpyxl), so that a spreadsheet program works the
/// formulas out. Their saved values are placeholders (0, or none). A spreadsheet program that
/// saves the workbook calculates it and drops the flag. `false` when it cannot be told.
fn never_calculated(bytes: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut archive) = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return false;
    };
    let Ok(file) = archive.by_name("xl/workbook.xml") else {
        return false;
    };
    // The settings come before the sheets' names: a megabyte is plenty.
    let mut xml = String::new();
    if file.take(1 << 20).read_to_string(&mut xml).is_err() {
        return false;
    }
    xml.find("<calcPr").is_some_and(|at| {
        let element = &xml[at..];
        let element = &element[..element.find('>').unwrap_or(element.len())];
        element.contains("fullCalcOnLoad=\"1\"") || element.contains("fullCalcOnLoad=\"true\"")
    })
}

/// A sheet's values, read as `worksheet_range` reads them (the range from the first cell that
/// is not empty), in the same pass refusing a sheet with formulas but no saved values (as
/// programs that write workbooks without calculating them leave them): their cells would read
/// as blank, and a blank wait or handle time is a figure left out, not an error. With
/// `never_calculated` (the workbook asks to be calculated when opened), a sheet with any
/// formula is refused: its saved values are placeholders, a wait of `=2+3` saved as 0.
fn sheet_values(
    workbook: &mut calamine::Xlsx<std::io::Cursor<Vec<u8>>>,
    sheet: &str,
    never_calculated: bool,
) -> Result<calamine::Range<Data>, String> {
    let mut reader = workbook
        .worksheet_cells_reader(sheet)
        .map_err(|e| e.to_string())?;
    let mut cells = Vec::new();
    // The first formula cell and how many more: blank ones, and (where the workbook was never
    // calculated) any.
    let mut blank_formulas: Option<((u32, u32), usize)> = None;
    let mut formulas: Option<((u32, u32), usize)> = None;
    let note = |found: &mut Option<((u32, u32), usize)>, pos: (u32, u32)| match found {
        Some((_, more)) => *more += 1,
        None => *found = Some((pos, 0)),
    };
    while let Some(cell) = reader
        .next_cell_with_formula_metadata()
        .map_err(|e| e.to_string())?
    {
        if cell.formula.is_some() {
            let blank = match &cell.value {
                calamine::DataRef::Empty => true,
                calamine::DataRef::String(s) => s.trim().is_empty(),
                calamine::DataRef::SharedString(s) => s.trim().is_empty(),
                _ => false,
            };
            if blank {
                note(&mut blank_formulas, cell.pos);
            }
            note(&mut formulas, cell.pos);
        }
        if !matches!(cell.value, calamine::DataRef::Empty) {
            cells.push(calamine::Cell::new(cell.pos, Data::from(cell.value)));
        }
    }
    let refused = match (blank_formulas, formulas) {
        (Some(found), _) => Some(("formulas with no saved value", found, "blank")),
        (None, Some(found)) if never_calculated => Some((
            "formulas never calculated",
            found,
            "the placeholders saved for them (often 0)",
        )),
        _ => None,
    };
    if let Some((what, ((row, column), more), reads_as)) = refused {
        return Err(format!(
            "sheet '{}' has {what} ({}{}{}), which would read as {reads_as}: open and save the workbook in a spreadsheet program (that calculates them), or export it as CSV",
            crate::redact::clip(sheet),
            column_letters(column),
            row + 1,
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    Ok(calamine::Range::from_sparse(cells))
}

/// A spreadsheet column's letters from its index from 0 (`A`, `Z`, `AA`).
fn column_letters(mut index: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// With no `sheet` named, the first sheet is read: refused (naming them) when other sheets have
/// the same header and rows under it, such as a month per tab, whose rows would otherwise be
/// left out without a word.
fn alike_sheets(
    workbook: &mut calamine::Xlsx<std::io::Cursor<Vec<u8>>>,
    names: &[String],
    read: &str,
    headers: &[String],
) -> Result<(), String> {
    let mut alike = Vec::new();
    for name in names.iter().filter(|n| n.as_str() != read) {
        let Ok(range) = workbook.worksheet_range(name) else {
            continue;
        };
        let mut rows = range.rows();
        let same = rows.next().is_some_and(|first| {
            let first: Vec<String> = first
                .iter()
                .map(|c| cell_text(c).unwrap_or_default().trim().to_string())
                .collect();
            first == headers
        });
        let filled = rows
            .filter(|r| !r.iter().all(|c| matches!(c, Data::Empty)))
            .count();
        if same && filled > 0 {
            alike.push(format!("'{}' ({filled} rows)", crate::redact::clip(name)));
        }
    }
    if alike.is_empty() {
        return Ok(());
    }
    Err(format!(
        "sheet '{}' is read, but {} {} the same columns and rows that would be left out: name the sheet to read with `sheet` in the source, or save each sheet as a file of its own",
        crate::redact::clip(read),
        alike.join(", "),
        if alike.len() == 1 { "has" } else { "have" }
    ))
}

/// A cell as the text a CSV export of it would hold. Date cells become ISO dates
/// (`2023-04-03`, or `2023-04-03 09:30:00` when they carry a time; a time alone becomes `09:30:00`).
fn cell_text(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        Data::Float(f) => Some(if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{}", *f as i64)
        } else {
            f.to_string()
        }),
        Data::Int(i) => Some(i.to_string()),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(dt) => {
            let naive = dt.as_datetime()?;
            let v = dt.as_f64();
            Some(if v < 1.0 {
                naive.format("%H:%M:%S").to_string()
            } else if v.fract() == 0.0 {
                naive.format("%Y-%m-%d").to_string()
            } else {
                naive.format("%Y-%m-%d %H:%M:%S").to_string()
            })
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(format!("#{e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_headers_are_told_apart_and_listed() {
        let headers: Vec<String> = [
            "Other",
            "Notes",
            " other ",
            "NOTES",
            "Notes (column 4)",
            "",
            " ",
        ]
        .map(String::from)
        .to_vec();
        let told = told_apart(&headers);
        assert_eq!(
            told.names,
            [
                "Other",
                "Notes",
                "other (column 3)",
                "NOTES (column 4)'",
                "Notes (column 4)",
                "",
                "(column 7)"
            ]
        );
        let pairs: Vec<_> = told
            .duplicates
            .iter()
            .map(|d| (d.first.0, d.second.0, d.second.1.as_str()))
            .collect();
        assert_eq!(pairs, [(1, 3, "other"), (2, 4, "NOTES")]);
    }

    #[test]
    fn a_bom_does_not_hide_windows_1252_text() -> Result<(), SourceError> {
        let bytes = b"\xEF\xBB\xBFa,b\ncaf\xE9,1\n".to_vec();
        let path = Path::new("x.csv");
        let (encoding, text) = decode(path, bytes.clone(), Encoding::Auto)?;
        assert_eq!(encoding.label(), "windows-1252");
        assert_eq!(String::from_utf8_lossy(&text), "a,b\ncafé,1\n");
        let (encoding, text) = decode(path, b"\xEF\xBB\xBFa\n\xC3\xA9\n".to_vec(), Encoding::Auto)?;
        assert_eq!(
            (encoding.label().as_str(), text.as_slice()),
            ("utf-8 with BOM", "a\né\n".as_bytes())
        );
        match decode(path, bytes, Encoding::Utf8) {
            Err(SourceError::Encoding { message, .. }) => assert!(message.contains("byte 10")),
            other => panic!("expected an encoding error, got {:?}", other.map(|r| r.0)),
        }
        Ok(())
    }

    #[test]
    fn only_the_lines_that_are_not_utf8_are_read_as_windows_1252() -> Result<(), SourceError> {
        let path = Path::new("x.csv");
        // UTF-8 lines with £ ’ – é, and two lines pasted from a Windows-1252 program.
        let mut bytes = "id,text\n1,Paid £120 – it’s café\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"2,Paid \xA3120 \x96 it\x92s caf\xE9\n");
        bytes.extend_from_slice("3,£5 ’ – é\n".as_bytes());
        bytes.extend_from_slice(b"4,\xA35\r\n");
        let (decoded, text) = decode(path, bytes, Encoding::Auto)?;
        assert_eq!(decoded.label(), "utf-8 (2 lines windows-1252)");
        assert_eq!(
            String::from_utf8_lossy(&text),
            "id,text\n1,Paid £120 – it’s café\n2,Paid £120 – it’s café\n3,£5 ’ – é\n4,£5\r\n"
        );
        // Windows-1252 throughout: every line decoded as such, nothing "repaired".
        let bytes = b"id,text\n1,Paid \xA3120 \x96 it\x92s caf\xE9\n2,ok\n".to_vec();
        let (decoded, text) = decode(path, bytes, Encoding::Auto)?;
        assert_eq!(decoded.label(), "windows-1252");
        assert_eq!(
            String::from_utf8_lossy(&text),
            "id,text\n1,Paid £120 – it’s café\n2,ok\n"
        );
        // The same file scanned in pieces (a large file) is classified the same way.
        let mut kinds = LineKinds::default();
        kinds.add("1,£\n".as_bytes());
        kinds.add(b"2,\xA3\n3,ok\n");
        assert!(kinds.mixed());
        assert_eq!((kinds.utf8_beyond_ascii, kinds.not_utf8), (1, 1));
        Ok(())
    }

    #[test]
    fn a_quote_never_closed_is_found_with_its_row_and_field() {
        let found = ragged_records(b"a,b,c\n1,2,3\n4,\"5,6\n7,8,9\n", b',');
        assert_eq!(found.unclosed, Some((1, 1)));
        let found = ragged_records(b"a,b,c\n1,\"2\"\"\",3\n", b',');
        assert_eq!(found.unclosed, None);
    }

    #[test]
    fn rows_stopping_short_of_a_header_s_unnamed_last_columns_are_not_ragged() {
        let found = ragged_records(b"a,b,c,,\n1,2,3\n1,2,3,\n1,2,3,,\n1,2\n", b',');
        assert_eq!(found.ragged, vec![(3, "1,2".to_string())]);
    }

    #[test]
    fn rows_with_more_or_fewer_fields_than_the_header_are_found_with_their_text() {
        let text =
            b"a,b,c\r\n1,2,3\r\n\r\n4,5\r\n6,\"x,\ny\",7\n8,9,10,11\n12,13,14,,\"\"\n15,16,17,, x";
        let Records {
            header,
            ragged,
            joined,
            unclosed,
        } = ragged_records(text, b',');
        assert_eq!(header, vec!["a", "b", "c"]);
        assert_eq!(unclosed, None);
        // `"x,\ny"` runs over a line with one delimiter, not a row's two.
        assert!(joined.is_empty(), "{joined:?}");
        // Record indices count the blank line, as polars' row numbers do.
        assert_eq!(
            ragged,
            vec![
                (2, "4,5".to_string()),
                (4, "8,9,10,11".to_string()),
                (6, "15,16,17,, x".to_string())
            ]
        );
        let header = ragged_records(b"\"x\"\"y\",Wait,wait ", b',').header;
        assert_eq!(header, vec!["x\"y", "Wait", "wait "]);
    }

    #[test]
    fn rows_a_quote_left_open_joined_into_a_value_are_found_with_their_text() {
        // Record 0's third value opens a quote that closes two lines on, over two lines with a
        // row's three fields: rows joined. Record 1's runs over a line of one field: a value
        // written over two lines.
        let text = b"a,b,c\n1,2,\"x\n3,4,5\n6,7,8\"\n9,\"p,\nq\",r\n";
        let found = ragged_records(text, b',');
        assert_eq!(
            found.joined,
            vec![(0, "1,2,\"x\n3,4,5\n6,7,8\"".to_string())]
        );
        assert!(found.ragged.is_empty(), "{:?}", found.ragged);
    }

    /// The scan as it was before lines without quotes took the vectorised path: every byte in
    /// turn. The reference the differential test below holds the scan to.
    fn bytewise(text: &[u8], delimiter: u8) -> (Vec<String>, Vec<(usize, String)>) {
        let mut header: Vec<String> = Vec::new();
        let mut ragged = Vec::new();
        let mut expected = 0usize;
        // The header's unnamed last columns: rows may stop short of them.
        let mut unnamed = 0usize;
        let (mut at, mut record) = (0usize, 0usize);
        while at < text.len() {
            let start = at;
            let (mut fields, mut quoted) = (1usize, false);
            let mut cuts = Vec::new();
            // Where the fields beyond the header's begin (the delimiter ending the last expected).
            let mut beyond = None;
            while at < text.len() {
                match text[at] {
                    b'"' => quoted = !quoted,
                    b'\n' if !quoted => break,
                    b if b == delimiter && !quoted => {
                        fields += 1;
                        if record == 0 {
                            cuts.push(at);
                        } else if fields == expected + 1 {
                            beyond = Some(at);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            let mut end = at;
            if end > start && text[end - 1] == b'\r' {
                end -= 1;
            }
            at += 1;
            // Trailing empty fields (`a,b,,`: a common export quirk) lose nothing: not ragged.
            let empty_tail = |from: Option<usize>| {
                from.is_some_and(|from| {
                    let tail = &text[from..end];
                    tail.iter()
                        .all(|b| *b == delimiter || *b == b'"' || b.is_ascii_whitespace())
                        && tail.iter().filter(|b| **b == b'"').count() % 2 == 0
                })
            };
            if record == 0 {
                expected = fields;
                let mut from = start;
                for cut in cuts.into_iter().chain(std::iter::once(end)) {
                    header.push(unquote(&text[from..cut]));
                    from = cut + 1;
                }
                unnamed = header
                    .iter()
                    .rev()
                    .take_while(|h| h.trim().is_empty())
                    .count();
            } else if end > start
                && fields != expected
                && !(fields > expected && empty_tail(beyond))
                && !(fields < expected && fields + unnamed >= expected)
            {
                ragged.push((
                    record - 1,
                    String::from_utf8_lossy(&text[start..end]).into_owned(),
                ));
            }
            record += 1;
        }
        (header, ragged)
    }

    #[test]
    fn the_vectorised_scan_finds_what_the_bytewise_scan_finds() {
        // Lines of every kind the scan tells apart, in many orders: short, long, blank, with
        // carriage returns, trailing empty fields, quotes around delimiters and line ends,
        // unbalanced quotes, a last line without a line end, and other delimiters.
        let pieces: [&[u8]; 12] = [
            b"1,2,3\n",
            b"4,5\r\n",
            b"\n",
            b"6,7,8,9\n",
            b"10,11,12,,\n",
            b"13,14,15,, x\n",
            b"16,\"a,\nb\",17\n",
            b"18,\"\",19,,\"\"\n",
            b"\r\n",
            b"20;21;22\n",
            b"\"23,24,25\n",
            b"26,27",
        ];
        let mut seed = 7u64;
        for delimiter in [b',', b';'] {
            for round in 0..400 {
                let mut text: Vec<u8> = b"a,b,c\n".to_vec();
                if round % 3 == 0 {
                    text = b"\"a\",b;c,\"d\r\n".to_vec();
                }
                for _ in 0..(round % 17) {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    text.extend_from_slice(pieces[(seed >> 33) as usize % pieces.len()]);
                }
                let found = ragged_records(&text, delimiter);
                assert_eq!(
                    (found.header, found.ragged),
                    bytewise(&text, delimiter),
                    "{}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }
}

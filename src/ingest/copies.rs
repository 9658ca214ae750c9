//! Copies of files already in the lake, remembered by stamp. A file whose content the lake
//! holds under another name (an export sent twice, both left in the folder) is skipped, but the
//! manifest names only the file that was ingested, so without this every later run would read
//! and hash the copy again. Its stamp (path, size and modification time, as the manifest keeps
//! them for ingested files) and content hash are kept in the lake's derived folder
//! (`lake::derived`, kind `copies`); a later run finds the stamp there and skips the file
//! without reading it, provided the lake still holds that content.
//!
//! Like every derived file, nothing here is needed: a missing or unreadable entry means the
//! copy is read and hashed again, and remembered again.

use std::path::Path;

use polars::prelude::*;

use crate::lake::derived;
use crate::lake::manifest::FileStamp;

const KIND: &str = "copies";
/// The version of what an entry holds: change it when the columns change.
const FORMAT: &str = "copy stamp 1";
const SHA256: &str = "sha256";
const ENCODING: &str = "encoding";

fn key(stamp: &FileStamp) -> String {
    let (path, size, modified) = stamp;
    derived::key(&[FORMAT, path, &size.to_string(), &modified.to_string()])
}

/// The content hash and encoding of the copy with this stamp, when an earlier run saw it.
pub fn seen(lake_root: &Path, stamp: &FileStamp) -> Option<(String, String)> {
    let df = derived::read(lake_root, KIND, &key(stamp))?;
    let text = |name: &str| df.column(name).ok()?.str().ok()?.get(0).map(str::to_string);
    Some((text(SHA256)?, text(ENCODING)?))
}

/// Remembers that the file with this stamp holds content `sha256` (already in the lake). A
/// failure only costs reading the file again next time, so it is reported and passed over.
pub fn remember(lake_root: &Path, stamp: &FileStamp, sha256: &str, encoding: &str) {
    let frame = DataFrame::new_infer_height(vec![
        Column::new(SHA256.into(), [sha256]),
        Column::new(ENCODING.into(), [encoding]),
    ]);
    let written = frame
        .map_err(|e| e.to_string())
        .and_then(|mut df| derived::write(lake_root, KIND, &key(stamp), &mut df));
    if let Err(e) = written {
        crate::log::warn(&format!(
            "a copy of a file in the lake could not be remembered ({e}): the next run reads it again"
        ));
    }
}

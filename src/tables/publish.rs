//! Publishing a run's outputs all at once: files are written to a hidden staging folder beside the
//! destination, flushed to disk, and then swapped with the destination in one atomic exchange, so
//! a reader (or a crash, or a second run publishing the same folder) only ever finds a complete
//! set of outputs there. Staging folders of runs that were killed are removed by the next one.
//! A period's [`Publication`] (KPI tables, equality tables, charts, report) is assembled in one
//! staging folder from the parts a command writes and the parts of the current one it keeps.

use std::fs;
use std::path::{Path, PathBuf};

/// The file every folder cex publishes holds: only a folder with it (or, from versions before
/// it, with a `tables.json` index) is ever replaced or deleted. A folder someone else put
/// where a publication goes is left alone and the run stops.
pub const MARKER: &str = ".cex-publication";

/// Whether cex wrote `dir` (see [`MARKER`]); an empty folder counts as nobody's.
pub fn written_by_cex(dir: &Path) -> bool {
    dir.join(MARKER).is_file()
        || dir.join("tables.json").is_file()
        || fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// The error for a folder cex would replace but did not write.
fn not_ours(dir: &Path) -> std::io::Error {
    std::io::Error::other(format!(
        "{} is not a folder cex published (no {MARKER} in it): it is left as it is; move it or choose another output folder",
        dir.display()
    ))
}

/// A staging folder for outputs that will become `destination`.
pub struct Staging {
    pub dir: PathBuf,
    destination: PathBuf,
}

/// `.{name}.staging-{pid}`: the staging folder of process `pid` for destination `name`.
fn staging_name(name: &str, pid: u32) -> String {
    format!(".{name}.staging-{pid}")
}

impl Staging {
    pub fn new(destination: &Path) -> std::io::Result<Staging> {
        let parent = destination.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent)?;
        let name = destination
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        if destination.is_dir() && !written_by_cex(destination) {
            return Err(not_ours(destination));
        }
        remove_stale(parent, &name)?;
        let dir = parent.join(staging_name(&name, std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        fs::write(
            dir.join(MARKER),
            "Published by cex; the next run replaces this folder as a whole.\n",
        )?;
        Ok(Staging {
            dir,
            destination: destination.to_path_buf(),
        })
    }

    /// Makes the staged folder the destination in one atomic step (the old destination, if any,
    /// is swapped out and then deleted): at every moment the path holds a complete set of
    /// outputs, the old one or the new one. Files and folders are flushed to disk first.
    pub fn publish(self) -> std::io::Result<PathBuf> {
        sync_tree(&self.dir)?;
        let parent = self.destination.parent().unwrap_or(Path::new("."));
        match fs::rename(&self.dir, &self.destination) {
            Ok(()) => {}
            // A destination is there (a folder with files): exchange the two, drop the old.
            Err(_) if self.destination.is_dir() => {
                if !written_by_cex(&self.destination) {
                    return Err(not_ours(&self.destination));
                }
                exchange(&self.dir, &self.destination)?;
                fs::remove_dir_all(&self.dir)?;
            }
            Err(e) => return Err(e),
        }
        sync_dir(parent);
        Ok(self.destination.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not published (an error on the way): leave nothing behind.
        if self.dir.exists() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The parts of a period's publication, each written by one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The KPI tables, workbook, `tables.json` and `kpi-summary.json` (the folder's own files).
    Kpi,
    /// `equality/`: the equality tables.
    Equality,
    /// `charts/`.
    Charts,
    /// `report.html` and `report.md`.
    Report,
}

/// Where the equality tables sit in a publication.
pub const EQUALITY_DIR: &str = "equality";

impl Part {
    /// The part a top-level entry of a publication belongs to.
    fn of(name: &str) -> Part {
        match name {
            EQUALITY_DIR => Part::Equality,
            "charts" => Part::Charts,
            "report.html" | "report.md" => Part::Report,
            _ => Part::Kpi,
        }
    }
}

/// A period's publication being assembled: the parts of the current one that this command does
/// not rewrite are carried over (hard links: published files are never written in place), the
/// others are written fresh, and the whole is published by one exchange.
pub struct Publication {
    staging: Staging,
}

impl Publication {
    /// Starts a publication for `destination` holding the current one's parts listed in `keep`.
    pub fn begin(destination: &Path, keep: &[Part]) -> std::io::Result<Publication> {
        let staging = Staging::new(destination)?;
        if let Ok(entries) = fs::read_dir(destination) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') && keep.contains(&Part::of(&name)) {
                    link_tree(&entry.path(), &staging.dir.join(&name))?;
                }
            }
        }
        Ok(Publication { staging })
    }

    /// The folder being assembled.
    pub fn dir(&self) -> &Path {
        &self.staging.dir
    }

    /// Whether nothing has been written or kept.
    pub fn is_empty(&self) -> bool {
        fs::read_dir(&self.staging.dir).map_or(true, |d| {
            d.flatten()
                .all(|e| e.file_name().to_string_lossy() == MARKER)
        })
    }

    /// Publishes the whole in one step (see [`Staging::publish`]).
    pub fn publish(self) -> std::io::Result<PathBuf> {
        self.staging.publish()
    }
}

/// Hard-links a file, or a folder's files, to `to` (copies where links are not possible).
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)?.flatten() {
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else if fs::hard_link(from, to).is_err() {
        fs::copy(from, to).map(|_| ())
    } else {
        Ok(())
    }
}

/// Removes staging folders for `name` left by processes that no longer run (killed runs), and
/// the `.previous` folder earlier versions moved the old outputs to.
fn remove_stale(parent: &Path, name: &str) -> std::io::Result<()> {
    let prefix = format!(".{name}.staging-");
    for entry in fs::read_dir(parent)?.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let stale = match file_name.strip_prefix(&prefix) {
            Some(pid) => pid
                .parse::<u32>()
                .is_ok_and(|pid| pid != std::process::id() && !process_alive(pid)),
            None => false,
        };
        if stale {
            fs::remove_dir_all(entry.path())?;
        }
    }
    let previous = parent.join(format!("{name}.previous"));
    if previous.is_dir() && written_by_cex(&previous) {
        fs::remove_dir_all(previous)?;
    }
    Ok(())
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true // cannot tell: keep it
    }
}

/// Swaps two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`); elsewhere the destination is
/// moved aside first (a moment without it, never a mix).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let ca = CString::new(a.as_os_str().as_bytes())?;
        let cb = CString::new(b.as_os_str().as_bytes())?;
        // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them as given.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        // Filesystems without exchange support fall back below.
        if err.raw_os_error() != Some(libc::EINVAL) && err.raw_os_error() != Some(libc::ENOSYS) {
            return Err(err);
        }
    }
    let aside = b.with_file_name(format!(
        ".{}.old-{}",
        b.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    fs::rename(b, &aside)?;
    fs::rename(a, b)?;
    fs::rename(&aside, a)
}

/// Makes `dir` and everything below it readable by its owner only (rwx------ folders, rw-------
/// files) where the platform has permissions.
pub fn owner_only_tree(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in fs::read_dir(dir)?.flatten() {
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                owner_only_tree(&path)?;
            } else {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600))?;
            }
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Flushes every file and folder below `dir` to disk (a crash after publishing keeps them).
/// Every file's write-back is started first and then each is waited for, so the disk writes
/// them together rather than one journal commit at a time.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    list_tree(dir, &mut files, &mut dirs)?;
    let opened = files
        .iter()
        .map(fs::File::open)
        .collect::<std::io::Result<Vec<_>>>()?;
    for file in &opened {
        start_write_back(file);
    }
    for file in &opened {
        file.sync_all()?;
    }
    for d in dirs.iter().rev() {
        sync_dir(d);
    }
    Ok(())
}

/// The files and folders below `dir` (`dir` first among the folders).
fn list_tree(dir: &Path, files: &mut Vec<PathBuf>, dirs: &mut Vec<PathBuf>) -> std::io::Result<()> {
    dirs.push(dir.to_path_buf());
    for entry in fs::read_dir(dir)?.flatten() {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            list_tree(&path, files, dirs)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Asks the kernel to start writing a file's data to disk without waiting (Linux
/// `sync_file_range`); a hint only: `sync_all` afterwards is what makes it durable.
fn start_write_back(file: &fs::File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: the descriptor is open for the call's duration; offset 0 and length 0 mean
        // the whole file.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Flushes a folder's entries (renames) to disk; best effort where the platform cannot.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishing_replaces_the_folder_whole() -> std::io::Result<()> {
        let root = tempfile::tempdir()?;
        let dest = root.path().join("2024-03");
        let first = Staging::new(&dest)?;
        fs::write(first.dir.join("a.csv"), "1")?;
        first.publish()?;
        let second = Staging::new(&dest)?;
        fs::write(second.dir.join("b.csv"), "2")?;
        second.publish()?;
        assert!(!dest.join("a.csv").exists());
        assert_eq!(fs::read_to_string(dest.join("b.csv"))?, "2");
        // An abandoned staging folder disappears.
        let third = Staging::new(&dest)?;
        let staged = third.dir.clone();
        drop(third);
        assert!(!staged.exists());
        assert_eq!(fs::read_dir(root.path())?.count(), 1);
        Ok(())
    }

    #[test]
    fn a_publication_keeps_the_parts_it_does_not_rewrite() -> std::io::Result<()> {
        let root = tempfile::tempdir()?;
        let dest = root.path().join("2024-03");
        fs::create_dir_all(dest.join("charts"))?;
        fs::create_dir_all(dest.join(EQUALITY_DIR))?;
        fs::write(dest.join("volumes.csv"), "old kpi")?;
        fs::write(dest.join("report.html"), "old report")?;
        fs::write(dest.join("charts/a.svg"), "old chart")?;
        fs::write(dest.join("equality/equality_sex.csv"), "equality")?;
        fs::write(dest.join(MARKER), "")?;
        // `cex kpi`: new KPI tables, equality kept, charts and report drawn again.
        let p = Publication::begin(&dest, &[Part::Equality])?;
        assert!(p.dir().join("equality/equality_sex.csv").exists());
        assert!(!p.dir().join("volumes.csv").exists() && !p.dir().join("charts").exists());
        fs::write(p.dir().join("volumes.csv"), "new kpi")?;
        // Writing a kept file goes through a new file, never into the published one.
        assert_eq!(fs::read_to_string(dest.join("volumes.csv"))?, "old kpi");
        p.publish()?;
        assert_eq!(fs::read_to_string(dest.join("volumes.csv"))?, "new kpi");
        assert_eq!(
            fs::read_to_string(dest.join("equality/equality_sex.csv"))?,
            "equality"
        );
        assert!(!dest.join("report.html").exists());
        Ok(())
    }

    #[test]
    fn a_killed_run_s_staging_is_removed_and_publishers_never_mix(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let root = tempfile::tempdir()?;
        let dest = root.path().join("fy2023-24");
        // A staging folder of a process that no longer exists (pid beyond the kernel's range).
        let stale = root.path().join(staging_name("fy2023-24", 4_000_000_000));
        fs::create_dir_all(&stale)?;
        fs::write(stale.join("half.csv"), "x")?;
        drop(Staging::new(&dest)?);
        assert!(!stale.exists());

        // Publishers racing on one folder: it is always there, whole.
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let dest = dest.clone();
                std::thread::spawn(move || -> std::io::Result<()> {
                    for i in 0..25 {
                        // Threads of one process share a pid: give each its own folder name.
                        let dir = dest.with_file_name(format!(".fy2023-24.t{t}-{i}"));
                        fs::create_dir_all(&dir)?;
                        fs::write(dir.join("a.csv"), format!("{t}-{i}"))?;
                        fs::write(dir.join("b.csv"), format!("{t}-{i}"))?;
                        fs::write(dir.join(MARKER), "")?;
                        Staging {
                            dir,
                            destination: dest.clone(),
                        }
                        .publish()?;
                        // Never a moment without the published folder.
                        assert!(dest.is_dir(), "the publication vanished");
                    }
                    Ok(())
                })
            })
            .collect();
        for t in threads {
            t.join().map_err(|_| "publisher panicked")??;
        }
        // The last publication is whole, and no staging or old folder is left.
        assert_eq!(
            fs::read_to_string(dest.join("a.csv"))?,
            fs::read_to_string(dest.join("b.csv"))?
        );
        assert_eq!(fs::read_dir(root.path())?.count(), 1);
        Ok(())
    }

    #[test]
    fn a_folder_cex_did_not_write_is_never_replaced_or_deleted() -> std::io::Result<()> {
        let root = tempfile::tempdir()?;
        // `output` pointed at a folder of exports that has a subfolder named like the period.
        let dest = root.path().join("2025-03");
        fs::create_dir_all(&dest)?;
        fs::write(dest.join("calls.csv"), "the only copy of an export")?;
        let refused = Staging::new(&dest).err().map(|e| e.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|m| m.contains("not a folder cex published")),
            "{refused:?}"
        );
        assert_eq!(
            fs::read_to_string(dest.join("calls.csv"))?,
            "the only copy of an export"
        );
        // A folder put there while a run was staging is not swapped out either.
        let other = root.path().join("2025-04");
        let staging = Staging::new(&other)?;
        fs::create_dir_all(&other)?;
        fs::write(other.join("notes.txt"), "someone's notes")?;
        assert!(staging.publish().is_err());
        assert_eq!(
            fs::read_to_string(other.join("notes.txt"))?,
            "someone's notes"
        );
        // An empty folder, or one cex published, is replaced.
        let empty = root.path().join("2025-05");
        fs::create_dir_all(&empty)?;
        let staging = Staging::new(&empty)?;
        fs::write(staging.dir.join("a.csv"), "new")?;
        staging.publish()?;
        assert!(empty.join(MARKER).is_file() && written_by_cex(&empty));
        let again = Staging::new(&empty)?;
        fs::write(again.dir.join("a.csv"), "newer")?;
        again.publish()?;
        assert_eq!(fs::read_to_string(empty.join("a.csv"))?, "newer");
        Ok(())
    }
}

//! Publishing a run's outputs all at once: files are written to a hidden staging folder beside the
//! destination, which then replaces the destination by rename, so no reader sees half a report.

use std::fs;
use std::path::{Path, PathBuf};

/// A staging folder for outputs that will become `destination`.
pub struct Staging {
    pub dir: PathBuf,
    destination: PathBuf,
}

impl Staging {
    pub fn new(destination: &Path) -> std::io::Result<Staging> {
        let parent = destination.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent)?;
        let name = destination
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let dir = parent.join(format!(".{name}.staging-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        Ok(Staging {
            dir,
            destination: destination.to_path_buf(),
        })
    }

    /// Replaces the destination with the staged folder. The old destination is moved aside first
    /// and deleted after, so at every moment the path holds a complete set of outputs or nothing.
    pub fn publish(self) -> std::io::Result<PathBuf> {
        let old = self.destination.with_extension("previous");
        if old.exists() {
            fs::remove_dir_all(&old)?;
        }
        if self.destination.exists() {
            fs::rename(&self.destination, &old)?;
        }
        fs::rename(&self.dir, &self.destination)?;
        if old.exists() {
            fs::remove_dir_all(&old)?;
        }
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
}

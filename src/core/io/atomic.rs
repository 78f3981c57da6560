//! Atomic file replacement: write to a temporary name beside the target, fsync, rename, fsync
//! the directory. A killed process leaves either the old file or the new one, never half of one.

use std::fs;
use std::path::{Path, PathBuf};

use crate::core::error::{Error, Result};

/// The temporary name used while `target` is being written (same directory, so that the
/// rename is atomic; the process id keeps concurrent writers apart).
pub fn temporary_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp.{}", std::process::id()))
}

/// Writes `target` through `write` (which receives the temporary path), then makes it durable
/// and moves it into place. On error the temporary file is removed and `target` is untouched.
pub fn write_atomically<F>(target: &Path, write: F) -> Result<()>
where
    F: FnOnce(&Path) -> Result<()>,
{
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)
            .map_err(|e| Error::output(dir, format!("cannot create the output directory: {e}")))?;
    }
    let tmp = temporary_path(target);
    let result = write(&tmp).and_then(|()| {
        let file = fs::File::open(&tmp).map_err(|e| Error::output(&tmp, e))?;
        file.sync_all()
            .map_err(|e| Error::output(&tmp, format!("fsync failed: {e}")))?;
        fs::rename(&tmp, target)
            .map_err(|e| Error::output(target, format!("rename failed: {e}")))?;
        sync_parent_dir(target);
        Ok(())
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Changes `target` in place through `change` (which receives a temporary copy), atomically as
/// [`write_atomically`]: a killed process leaves the old file or the changed one.
pub fn update_atomically<F>(target: &Path, change: F) -> Result<()>
where
    F: FnOnce(&Path) -> Result<()>,
{
    write_atomically(target, |tmp| {
        fs::copy(target, tmp).map_err(|e| Error::output(tmp, format!("cannot copy {}: {e}", target.display())))?;
        change(tmp)
    })
}

/// Writes bytes atomically.
pub fn write_bytes_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(target, |tmp| {
        fs::write(tmp, bytes).map_err(|e| Error::output(tmp, e))
    })
}

fn sync_parent_dir(target: &Path) {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Some file systems refuse fsync on directories; the rename has happened either way.
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        write_bytes_atomically(&target, b"old").unwrap();
        let err = write_atomically(&target, |tmp| {
            fs::write(tmp, b"half").unwrap();
            Err(Error::Run("interrupted".into()))
        });
        assert!(err.is_err());
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

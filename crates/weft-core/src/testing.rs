//! Fixtures for tests of the core and of the crates built on it (behind the `testing`
//! feature): a tiny disk that fills up, and a directory's file names.

use crate::{Error, Result};
use std::io::Write;
use std::path::Path;

/// The files in `dir`, by name.
pub fn names(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// A tiny tmpfs mounted for one test, unmounted when dropped.
pub struct SmallDisk {
    pub dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (with a note on stderr) when this process may not mount (not root, or
    /// no CAP_SYS_ADMIN in a container).
    pub fn mount() -> Result<Option<SmallDisk>> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "weft-test-full"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let _ = writeln!(
                std::io::stderr(),
                "skipped: cannot mount a small tmpfs here (needs root); the full-disk case is not tested"
            );
            return Ok(None);
        }
        Ok(Some(SmallDisk { dir }))
    }

    /// Fills the disk: writes until the kernel says it is full.
    pub fn fill(&self) -> Result<()> {
        let path = self.dir.path().join("filler");
        let mut file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let block = [0u8; 4096];
        loop {
            match file.write_all(&block).and_then(|()| file.sync_all()) {
                Ok(()) => continue,
                Err(e) if e.raw_os_error() == Some(28) => return Ok(()),
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

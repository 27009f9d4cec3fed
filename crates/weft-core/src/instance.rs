//! One Weft per user: an advisory lock on `$XDG_RUNTIME_DIR/weft/weft.lock`.
//!
//! The kernel drops the lock when the process dies, even by `kill -9`, so a crash never leaves
//! a stale lock behind. Whoever holds the lock owns the control socket and may remove a stale
//! socket file left by a crashed predecessor.

use crate::paths::Paths;
use crate::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;

/// Held for the life of the running app.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// The result of trying to become the one running instance.
#[derive(Debug)]
pub enum Acquired {
    /// This process is the instance.
    Owner(InstanceLock),
    /// Another process holds the lock.
    AlreadyRunning,
}

impl InstanceLock {
    /// Tries to take the lock without waiting.
    pub fn acquire(paths: &Paths) -> Result<Acquired> {
        paths.ensure_runtime_dir()?;
        let path = paths.lock_file();
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {
                // The pid only helps a person who looks at the file: the lock is the flock,
                // so a failed write is said, not fatal.
                if let Err(e) = file
                    .set_len(0)
                    .and_then(|()| writeln!(file, "{}", std::process::id()))
                {
                    log::warn!("cannot write the pid into {}: {e}", path.display());
                }
                Ok(Acquired::Owner(InstanceLock { _file: file }))
            }
            Err(TryLockError::WouldBlock) => Ok(Acquired::AlreadyRunning),
            Err(TryLockError::Error(e)) => Err(Error::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let paths = Paths {
            data_dir: dir.path().join("data"),
            config_dir: dir.path().join("config"),
            runtime_dir: dir.path().join("rt/weft"),
        };
        let first = InstanceLock::acquire(&paths)?;
        assert!(matches!(first, Acquired::Owner(_)));
        assert!(matches!(
            InstanceLock::acquire(&paths)?,
            Acquired::AlreadyRunning
        ));
        drop(first);
        assert!(matches!(InstanceLock::acquire(&paths)?, Acquired::Owner(_)));
        Ok(())
    }
}

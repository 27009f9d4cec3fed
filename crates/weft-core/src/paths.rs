//! Where Weft keeps its files, following the XDG base directory specification.

use crate::{Error, Result};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Weft's directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `$XDG_DATA_HOME/weft`: the database.
    pub data_dir: PathBuf,
    /// `$XDG_CONFIG_HOME/weft`: `config.toml`.
    pub config_dir: PathBuf,
    /// `$XDG_RUNTIME_DIR/weft`: the control socket and the instance lock.
    pub runtime_dir: PathBuf,
}

impl Paths {
    /// Resolves the directories from the environment.
    pub fn from_env() -> Result<Paths> {
        Paths::resolve(|name| std::env::var_os(name).map(PathBuf::from))
    }

    /// Resolves the directories from a lookup function (the environment, or a test's map).
    pub fn resolve(var: impl Fn(&str) -> Option<PathBuf>) -> Result<Paths> {
        // The spec says relative paths are invalid and must be ignored.
        let absolute = |name: &str| var(name).filter(|p| p.is_absolute());
        let home = absolute("HOME");
        let base = |xdg: &str, fallback: &str| -> Result<PathBuf> {
            absolute(xdg)
                .or_else(|| home.as_ref().map(|h| h.join(fallback)))
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "neither {xdg} nor HOME is set to an absolute path; cannot tell where Weft's files go"
                    ))
                })
        };
        let runtime = match absolute("XDG_RUNTIME_DIR") {
            Some(dir) => dir,
            None => std::env::temp_dir().join(format!("weft-{}", current_uid())),
        };
        Ok(Paths {
            data_dir: base("XDG_DATA_HOME", ".local/share")?.join("weft"),
            config_dir: base("XDG_CONFIG_HOME", ".config")?.join("weft"),
            runtime_dir: runtime.join("weft"),
        })
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join("weft.db")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn socket(&self) -> PathBuf {
        self.runtime_dir.join("weft.sock")
    }

    /// `$XDG_CONFIG_HOME/autostart/weft.desktop`: Weft's entry in the XDG autostart folder
    /// (see [`crate::autostart`]).
    pub fn autostart_file(&self) -> PathBuf {
        let config_home = self.config_dir.parent().unwrap_or(&self.config_dir);
        config_home
            .join("autostart")
            .join(crate::autostart::FILE_NAME)
    }

    pub fn lock_file(&self) -> PathBuf {
        self.runtime_dir.join("weft.lock")
    }

    /// Creates the runtime directory, private to this user (mode 0700).
    pub fn ensure_runtime_dir(&self) -> Result<&Path> {
        ensure_private_dir(&self.runtime_dir)?;
        Ok(&self.runtime_dir)
    }
}

/// Creates `dir` (mode 0700) if needed, and makes sure it is a real directory owned by this
/// user and private to it: a directory in a shared place such as /tmp could otherwise have
/// been planted by someone else.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir, e))?;
    let meta = std::fs::symlink_metadata(dir).map_err(|e| Error::io(dir, e))?;
    if !meta.is_dir() || meta.uid() != current_uid() {
        return Err(Error::Invalid(format!(
            "{} is not a directory owned by you (uid {}); Weft will not put its socket there. Remove it, or set XDG_RUNTIME_DIR",
            dir.display(),
            current_uid()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

/// Replaces the file at `path` with `bytes`, readable by its owner alone (mode 0600): they are
/// written to a temporary file next to it (`<name>.tmp-XXXXXX`), synced, and renamed over it,
/// so a crash leaves the old file or the new one, never half of one. On any failure (a full
/// disk, a rename refused) the temporary file is removed: nothing is left behind.
pub fn replace_private(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_with_mode(path, bytes, 0o600)
}

/// [`replace_private`] for a file others may read: the new file gets `mode` (e.g. 0o644 for
/// a desktop entry), set on the temporary file before a byte is written.
pub fn replace_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| Error::Invalid(format!("{} has no directory", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Invalid(format!("{} has no file name", path.display())))?;
    let prefix = format!("{name}.tmp-");
    // A NamedTempFile deletes itself when dropped: every early return below cleans up.
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    // The mode asked for, whatever the umask took away when the file was made.
    let written = temp
        .as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| temp.write_all(bytes))
        .and_then(|()| temp.as_file().sync_all());
    if let Err(e) = written {
        return Err(Error::io(temp.path(), e));
    }
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    // The rename itself is durable once the directory is synced; failing that is not worth
    // failing a write that has happened.
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// A free name next to `path` for a copy set aside: `<name>.<label>-<UTC time>`, then `.1`,
/// `.2`… if that exists, so a set-aside file never lands on another.
pub fn aside_name(path: &Path, label: &str, now: chrono::DateTime<chrono::Utc>) -> Result<PathBuf> {
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (0..1000)
        .map(|n| {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!(".{n}")
            };
            path.with_file_name(format!("{name}.{label}-{stamp}{suffix}"))
        })
        .find(|candidate| !candidate.exists())
        .ok_or_else(|| Error::Invalid(format!("too many set-aside copies of {}", path.display())))
}

/// The user id this process creates files as: the effective one (what `/proc/self` was
/// owned by), from geteuid(2), which cannot fail.
fn current_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{names, SmallDisk};

    #[test]
    fn xdg_variables_win_over_home() -> Result<()> {
        let paths = Paths::resolve(|name| match name {
            "HOME" => Some("/home/ana".into()),
            "XDG_DATA_HOME" => Some("/d".into()),
            "XDG_CONFIG_HOME" => Some("relative/ignored".into()),
            "XDG_RUNTIME_DIR" => Some("/run/user/1000".into()),
            _ => None,
        })?;
        assert_eq!(paths.database(), PathBuf::from("/d/weft/weft.db"));
        assert_eq!(
            paths.config_file(),
            PathBuf::from("/home/ana/.config/weft/config.toml")
        );
        assert_eq!(
            paths.socket(),
            PathBuf::from("/run/user/1000/weft/weft.sock")
        );
        Ok(())
    }

    #[test]
    fn a_planted_symlink_is_refused() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).map_err(|e| Error::io(&elsewhere, e))?;
        let link = dir.path().join("weft");
        std::os::unix::fs::symlink(&elsewhere, &link).map_err(|e| Error::io(&link, e))?;
        let refused = ensure_private_dir(&link).err().map(|e| e.to_string());
        assert!(refused
            .unwrap_or_default()
            .contains("not a directory owned by you"));
        let fresh = dir.path().join("fresh/weft");
        ensure_private_dir(&fresh)?;
        let mode = std::fs::metadata(&fresh).map_err(|e| Error::io(&fresh, e))?;
        assert_eq!(mode.permissions().mode() & 0o777, 0o700);
        // What this process creates is owned by the uid the check compares with.
        assert_eq!(mode.uid(), current_uid());
        Ok(())
    }

    #[test]
    fn a_replaced_file_is_private_and_complete() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let path = dir.path().join("team.json");
        replace_private(&path, b"first")?;
        replace_private(&path, b"second")?;
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        assert_eq!(text, "second");
        let mode = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
        assert_eq!(names(dir.path())?, ["team.json"]);
        Ok(())
    }

    #[test]
    fn a_refused_rename_leaves_no_temporary_file() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        // A non-empty directory where the file should go: the rename fails.
        let path = dir.path().join("team.json");
        std::fs::create_dir_all(path.join("inside")).map_err(|e| Error::io(&path, e))?;
        let refused = replace_private(&path, b"{}");
        assert!(matches!(refused, Err(Error::Io { .. })), "{refused:?}");
        assert_eq!(names(dir.path())?, ["team.json"]);
        Ok(())
    }

    #[test]
    fn a_full_disk_leaves_no_temporary_file() -> Result<()> {
        let Some(disk) = SmallDisk::mount()? else {
            return Ok(());
        };
        let config = disk.dir.path().join("weft");
        ensure_private_dir(&config)?;
        let path = config.join("team.json");
        replace_private(&path, b"{\"old\": true}")?;
        disk.fill()?;
        let big = vec![b'x'; 16 * 1024];
        let full = replace_private(&path, &big);
        assert!(matches!(full, Err(Error::Io { .. })), "{full:?}");
        assert_eq!(names(&config)?, ["team.json"]);
        let kept = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        assert_eq!(kept, "{\"old\": true}");
        Ok(())
    }

    #[test]
    fn no_home_and_no_xdg_is_a_clear_error() {
        let err = Paths::resolve(|_| None).err().map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("HOME"));
    }
}

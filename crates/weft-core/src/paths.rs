//! Where Weft keeps its files, following the XDG base directory specification.

use crate::{Error, Result};
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

fn current_uid() -> u32 {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        Ok(())
    }

    #[test]
    fn no_home_and_no_xdg_is_a_clear_error() {
        let err = Paths::resolve(|_| None).err().map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("HOME"));
    }
}

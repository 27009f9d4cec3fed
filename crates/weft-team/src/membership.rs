//! The membership file: which sync server and team this Weft belongs to, and its bearer
//! token. It lives in the config directory, readable by its owner alone (mode 0600), and is
//! replaced atomically so a crash never leaves half a token.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use weft_proto::sync::TeamRef;

/// What joining a team leaves on disk.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stored {
    pub server: String,
    /// The bearer token; never logged, never sent anywhere but `server`.
    pub token: String,
    pub team: TeamRef,
    pub member_id: i64,
    pub name: String,
    #[serde(default)]
    pub share_intent: bool,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("server", &self.server)
            .field("team", &self.team)
            .field("member_id", &self.member_id)
            .field("name", &self.name)
            .field("share_intent", &self.share_intent)
            .finish_non_exhaustive()
    }
}

impl Stored {
    /// The membership as the UI and CLI see it (no token).
    pub fn public(&self) -> weft_proto::Membership {
        weft_proto::Membership {
            server: self.server.clone(),
            team: self.team.name.clone(),
            name: self.name.clone(),
            member_id: self.member_id,
            share_intent: self.share_intent,
        }
    }
}

/// `$XDG_CONFIG_HOME/weft/team.json`.
pub fn file(config_dir: &Path) -> PathBuf {
    config_dir.join("team.json")
}

/// Reads the membership; `Ok(None)` when this Weft has not joined a team. A file that cannot
/// be read is an error and is left in place (it holds the only copy of the token):
/// [`Error::NotAMembership`] when it is not one, [`weft_core::Error::Io`] when it cannot be read.
pub fn load(path: &Path) -> Result<Option<Stored>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let stored: Stored = serde_json::from_str(&text).map_err(|e| Error::NotAMembership {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    // A copy restored from a backup may have lost its mode: the token stays private.
    let private = std::fs::Permissions::from_mode(0o600);
    std::fs::set_permissions(path, private).map_err(|e| Error::io(path, e))?;
    Ok(Some(stored))
}

/// Writes the membership (mode 0600) through a temporary file and a rename
/// ([`weft_core::paths::replace_private`]), which is removed again if anything fails.
pub fn save(path: &Path, stored: &Stored) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        weft_core::paths::ensure_private_dir(dir)?;
    }
    let json = serde_json::to_vec_pretty(stored).map_err(|cause| Error::Encode { cause })?;
    // A path without a directory is refused here.
    Ok(weft_core::paths::replace_private(path, &json)?)
}

/// Moves an unreadable membership file out of the way (`team.json.unreadable-<time>`, never
/// over an existing file), so a new join does not overwrite it. Returns where it went.
pub fn set_aside(path: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<PathBuf> {
    let aside = weft_core::paths::aside_name(path, "unreadable", now)?;
    std::fs::rename(path, &aside).map_err(|e| Error::io(path, e))?;
    Ok(aside)
}

/// Forgets the membership. Not being a member is not an error.
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn stored() -> Stored {
        Stored {
            server: "http://127.0.0.1:7070".into(),
            token: "wft_secret".into(),
            team: TeamRef {
                id: 1,
                name: "Platform".into(),
            },
            member_id: 4,
            name: "Ana".into(),
            share_intent: false,
        }
    }

    #[test]
    fn saved_private_and_read_back() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let path = file(&dir.path().join("weft"));
        assert_eq!(load(&path)?, None);
        save(&path, &stored())?;
        let mode = std::fs::metadata(&path)
            .map_err(|e| Error::io(&path, e))?
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load(&path)?, Some(stored()));
        assert!(!format!("{:?}", stored()).contains("secret"));
        remove(&path)?;
        remove(&path)?;
        assert_eq!(load(&path)?, None);
        Ok(())
    }

    #[test]
    fn a_full_disk_keeps_the_old_membership_and_leaves_no_temporary_file() -> Result<()> {
        use weft_core::testing::{names, SmallDisk};
        let Some(disk) = SmallDisk::mount()? else {
            return Ok(());
        };
        let path = file(&disk.dir.path().join("weft"));
        save(&path, &stored())?;
        disk.fill()?;
        let mut bigger = stored();
        bigger.name = "A".repeat(8192);
        let full = save(&path, &bigger);
        assert!(
            matches!(full, Err(Error::Core(weft_core::Error::Io { .. }))),
            "{full:?}"
        );
        assert_eq!(names(&disk.dir.path().join("weft"))?, ["team.json"]);
        assert_eq!(load(&path)?, Some(stored()));
        Ok(())
    }

    #[test]
    fn a_damaged_file_is_an_error_and_is_kept() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let path = dir.path().join("team.json");
        std::fs::write(&path, "{not json").map_err(|e| Error::io(&path, e))?;
        let err = load(&path);
        assert!(matches!(err, Err(Error::NotAMembership { .. })), "{err:?}");
        let said = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(said.contains("not readable"), "{said}");
        assert!(path.exists());
        let aside = set_aside(&path, chrono::Utc::now())?;
        assert!(!path.exists());
        let kept = std::fs::read_to_string(&aside).map_err(|e| Error::io(&aside, e))?;
        assert_eq!(kept, "{not json");
        Ok(())
    }
}

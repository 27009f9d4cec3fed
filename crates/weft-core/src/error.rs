//! The core's one error type. Callers branch on the variant; `Display` is a sentence for people.
//!
//! A variant that wraps another error says that error's message in its own sentence and keeps
//! it in a field named `cause`, not as its [`std::error::Error::source`]: a chain walker
//! (anyhow's `{:#}`, the binaries' error lines) would otherwise say the cause twice
//! ("database or disk is full: database or disk is full").

use std::path::PathBuf;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot create Weft's data directory {path}: {cause}. Check that it is writable, or point XDG_DATA_HOME somewhere that is")]
    DataDirUnwritable {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("the database {path} could not be used: {cause}")]
    Sqlite {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("the database {path} is not a readable Weft database ({reason})")]
    Corrupt { path: PathBuf, reason: String },
    #[error("the database {path} was written by a newer Weft (schema version {found}; this Weft knows up to {supported}). Upgrade Weft; the file was left untouched")]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("no Weft database at {path} yet: nothing has been logged")]
    NoDatabase { path: PathBuf },
    /// A request or a setting that is not valid (a date that is not one, say).
    #[error("{0}")]
    Invalid(String),
    /// The hold policy refuses a notification as it is (no title; a title or sender name too
    /// long): filing it again would be refused again.
    #[error("{0}")]
    Refused(String),
    #[error("Weft is not running (no app answers on {socket}). Start it with `weft-app`, from your applications menu, or with `make run` in a checkout")]
    NotRunning { socket: PathBuf },
    #[error("the control socket {socket} answered something unexpected: {detail}")]
    Protocol { socket: PathBuf, detail: String },
    #[error("Weft is quitting; the switch was not made")]
    ShuttingDown,
    #[error("the Weft app did not answer on {socket} within {seconds} s")]
    Timeout { socket: PathBuf, seconds: u64 },
    /// A `weft.desktop` in the autostart folder that Weft did not write: left alone.
    #[error("{path} was not written by Weft, so Weft leaves it alone. Remove or rename it yourself if Weft should manage start at login")]
    AutostartForeign { path: PathBuf },
    /// The autostart folder cannot be made, or a file in it written or removed.
    #[error("cannot change start at login: the folder {dir} is not writable ({cause}). Check its owner and permissions, or point XDG_CONFIG_HOME somewhere writable")]
    AutostartUnwritable { dir: PathBuf, cause: std::io::Error },
    /// No `weft-app` to start at login was found.
    #[error("cannot find weft-app to start at login (looked for {}). Install the Weft package, or build it with `make build`", tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NoAppBinary { tried: Vec<PathBuf> },
    /// The request's sender stopped waiting before it could be carried out, so it was not.
    #[error("Weft could not carry this out before its sender stopped waiting ({late_ms} ms late), so nothing changed; try again")]
    Expired { late_ms: u64 },
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A file at `path` could not be read, written or moved ([`Error::Io`]).
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            cause,
        }
    }

    /// Another connection held the database's lock for as long as this one would wait.
    pub(crate) fn is_busy(&self) -> bool {
        use rusqlite::ErrorCode;
        matches!(
            self,
            Error::Sqlite { cause, .. } if matches!(
                cause.sqlite_error_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            )
        )
    }

    /// Why the store cannot commit now, in a few words for a tray line ("the database is
    /// locked by another program", "the disk is full"), or `None` for an error that waiting
    /// will not cure (a bad request, a database that is not one, Weft quitting).
    pub fn storage_hint(&self) -> Option<&'static str> {
        use rusqlite::ErrorCode;
        match self {
            _ if self.is_busy() => Some("the database is locked by another program"),
            Error::Sqlite { cause, .. } => Some(match cause.sqlite_error_code() {
                Some(ErrorCode::DiskFull) => "the disk is full",
                Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
                    "the database cannot be written"
                }
                _ => "the database cannot be written now",
            }),
            Error::Io { .. } => Some("the database cannot be written now"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error as the binaries print it: anyhow's `{:#}`, the context first, then each
    /// cause in the chain, joined by ": ".
    fn as_printed(error: Error) -> String {
        format!(
            "{:#}",
            anyhow::Error::new(error).context("cannot read the log")
        )
    }

    /// No part of the line between ": " says what another part already said.
    fn said_once(line: &str) {
        let parts: Vec<&str> = line.split(": ").collect();
        for (i, part) in parts.iter().enumerate() {
            assert!(
                !parts[i + 1..].contains(part),
                "{part:?} is said twice in {line:?}"
            );
        }
    }

    /// A real "database or disk is full" from SQLite: a database allowed two pages.
    fn disk_full() -> rusqlite::Result<()> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(
            "PRAGMA max_page_count = 2; CREATE TABLE t (x BLOB); INSERT INTO t VALUES (zeroblob(100000));",
        )
    }

    #[test]
    fn every_wrapped_cause_is_said_once() {
        let full = match disk_full() {
            Err(e) => e,
            Ok(()) => panic!("SQLite accepted 100 kB in two pages"),
        };
        assert_eq!(full.to_string(), "database or disk is full");
        let missing = || match std::fs::read("/nonexistent/weft/team.json") {
            Err(e) => e,
            Ok(_) => std::io::Error::other("/nonexistent exists"),
        };
        let errors = [
            Error::Sqlite {
                path: "/d/weft.db".into(),
                cause: full,
            },
            Error::Io {
                path: "/nonexistent/weft/team.json".into(),
                cause: missing(),
            },
            Error::DataDirUnwritable {
                path: "/nonexistent/weft".into(),
                cause: missing(),
            },
        ];
        for error in errors {
            let cause = match &error {
                Error::Sqlite { cause, .. } => cause.to_string(),
                Error::Io { cause, .. } | Error::DataDirUnwritable { cause, .. } => {
                    cause.to_string()
                }
                _ => String::new(),
            };
            let line = as_printed(error);
            assert_eq!(line.matches(&cause).count(), 1, "{line}");
            said_once(&line);
        }
    }
}

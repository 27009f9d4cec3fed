//! The core's one error type. Callers branch on the variant; `Display` is a sentence for people.

use std::path::PathBuf;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create Weft's data directory {path}: {source}. Check that it is writable, or point XDG_DATA_HOME somewhere that is")]
    DataDirUnwritable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the database {path} could not be used: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
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
    #[error("{0}")]
    Invalid(String),
    #[error("Weft is not running (no app answers on {socket}). Start it with `weft-app`, from your applications menu, or with `make run` in a checkout")]
    NotRunning { socket: PathBuf },
    #[error("the control socket {socket} answered something unexpected: {detail}")]
    Protocol { socket: PathBuf, detail: String },
    /// The team could not do it: not joined, or the sync server is unreachable or refused.
    #[error("{0}")]
    Team(String),
    #[error("Weft is quitting; the switch was not made")]
    ShuttingDown,
    #[error("the Weft app did not answer on {socket} within {seconds} s")]
    Timeout { socket: PathBuf, seconds: u64 },
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

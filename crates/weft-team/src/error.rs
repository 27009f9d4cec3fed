//! The team client's one error type. Callers branch on the variant; `Display` is a sentence
//! for people, the same one the CLI and the window show.

use std::path::PathBuf;

/// Everything the team client can fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call that needs a membership, and this Weft has none.
    #[error("this Weft is not in a team. Join one with `weft team join SERVER_URL INVITE --name NAME`, or in Settings")]
    NotJoined,
    /// A join while already a member.
    #[error("this Weft is already in the team {team:?} on {server} as {name:?}; leave it first")]
    AlreadyJoined {
        team: String,
        server: String,
        name: String,
    },
    /// A join while another join's network call is under way.
    #[error("this Weft is joining a team already")]
    JoinUnderWay,
    /// The server could not be told of a leave, so nothing changed here either.
    #[error("{cause}. You are still in the team; try again, or leave on this machine only with `weft team leave --force` (the server then shows your last status until its admin runs `weft-sync team remove-member`)")]
    LeaveNotTold { cause: weft_sync_client::Error },
    /// The sync server or the network said no (unreachable, refused, rate-limited…).
    #[error(transparent)]
    Client(#[from] weft_sync_client::Error),
    /// The membership file is there but is not a membership (damaged, hand-edited).
    #[error("the team membership {} is not readable ({reason}); fix it, or remove it and join again", path.display())]
    NotAMembership { path: PathBuf, reason: String },
    /// The membership could not be encoded (never expected: it is plain data).
    #[error("cannot write the team membership: {cause}")]
    Encode { cause: serde_json::Error },
    /// The core failed (the log, the hold policy, a private file's directory).
    #[error(transparent)]
    Core(#[from] weft_core::Error),
}

/// The team client's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A file at `path` could not be read, written or moved: the core's [`weft_core::Error::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Error {
        Error::Core(weft_core::Error::io(path, cause))
    }
}

//! What the team client needs from the app it runs in, and nothing more: the status of the
//! moment, filing a teammate's ping through the hold policy, and its own cursors in the log.
//! `Weft` is the host in the app; tests give a fake one.

use weft_core::service::{Incoming, Weft};
use weft_core::store::TeamCursors;
use weft_proto::Status;

/// The team client's host.
pub trait Host: Send + Sync {
    /// The status of the moment (what a push shares).
    fn status(&self) -> Status;
    /// Files a teammate's ping through the hold policy, once per key however often it is
    /// relayed. [`weft_core::Error::Refused`] when the policy refuses it as it is.
    fn file_ping(&self, ping: &Incoming<'_>) -> weft_core::Result<()>;
    /// The cursors as last committed.
    fn cursors(&self) -> weft_core::Result<TeamCursors>;
    /// The next sequence number for a shared status, committed before it is returned.
    fn next_seq(&self) -> weft_core::Result<u64>;
    /// Raises the sequence number to at least `seq` (never lowers it).
    fn raise_seq(&self, seq: u64) -> weft_core::Result<()>;
    /// Notes the last ping committed.
    fn set_ping_cursor(&self, id: i64) -> weft_core::Result<()>;
    /// Notes the server database's id; a new one restarts the ping cursor.
    fn set_instance(&self, instance: &str) -> weft_core::Result<()>;
    /// Forgets the cursors (a new membership starts afresh).
    fn reset_cursors(&self) -> weft_core::Result<()>;
}

impl Host for Weft {
    fn status(&self) -> Status {
        Weft::status(self)
    }

    fn file_ping(&self, ping: &Incoming<'_>) -> weft_core::Result<()> {
        self.notify(ping).map(drop)
    }

    fn cursors(&self) -> weft_core::Result<TeamCursors> {
        self.facts(|facts| facts.team_cursors())
    }

    fn next_seq(&self) -> weft_core::Result<u64> {
        self.facts(|facts| facts.next_team_seq())
    }

    fn raise_seq(&self, seq: u64) -> weft_core::Result<()> {
        self.facts(|facts| facts.raise_team_seq(seq))
    }

    fn set_ping_cursor(&self, id: i64) -> weft_core::Result<()> {
        self.facts(|facts| facts.set_ping_cursor(id))
    }

    fn set_instance(&self, instance: &str) -> weft_core::Result<()> {
        self.facts(|facts| facts.set_team_instance(instance))
    }

    fn reset_cursors(&self) -> weft_core::Result<()> {
        self.facts(|facts| facts.reset_team_cursors())
    }
}

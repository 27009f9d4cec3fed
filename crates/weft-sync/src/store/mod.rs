//! What the server remembers, behind the [`Store`] trait.
//!
//! [`sqlite::SqliteStore`] is the embedded default; a PostgreSQL store for several replicas
//! can implement the same trait later. The server loads everything once at start
//! ([`Store::load`]); statuses, team views and auth are then served from memory (see
//! [`crate::hub`]). The store is still read for an invite at join and for the kept pings when
//! a stream opens.

pub mod sqlite;

use crate::error::Error;
use crate::validate::ValidStatus;

/// A team row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRecord {
    pub id: i64,
    pub name: String,
}

/// A member row (the token only as its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub id: i64,
    pub team: i64,
    pub name: String,
    pub token_hash: [u8; 32],
}

/// A stored ping, as its recipient will get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingRecord {
    pub id: i64,
    pub from_name: String,
    pub to: i64,
    pub text: String,
    pub urgent: bool,
    /// Unix seconds.
    pub sent_at: i64,
}

/// A ping to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPing<'a> {
    pub team: i64,
    pub from: i64,
    pub from_name: &'a str,
    pub to: i64,
    pub text: &'a str,
    /// What the sender asked for.
    pub urgent: bool,
    /// Unix seconds.
    pub sent_at: i64,
    /// Urgent pings this sender may send this recipient per UTC day.
    pub urgent_budget: u32,
}

/// Everything the server keeps in memory, as loaded at start.
#[derive(Debug, Default)]
pub struct Loaded {
    pub teams: Vec<TeamRecord>,
    pub members: Vec<MemberRecord>,
    pub statuses: Vec<(i64, ValidStatus)>,
}

/// The storage the server writes through.
pub trait Store: Send {
    /// All teams, members and statuses.
    fn load(&mut self) -> Result<Loaded, Error>;
    /// A new team; [`Error::Conflict`] when the name is taken.
    fn create_team(&mut self, name: &str, invite_hash: &[u8; 32]) -> Result<TeamRecord, Error>;
    /// Replaces the invite code of the team with this name; [`Error::NotFound`] if none.
    fn replace_invite(&mut self, name: &str, invite_hash: &[u8; 32]) -> Result<TeamRecord, Error>;
    /// Teams with their member counts.
    fn list_teams(&mut self) -> Result<Vec<(TeamRecord, u64)>, Error>;
    /// The team whose current invite code has this hash.
    fn team_by_invite(&mut self, invite_hash: &[u8; 32]) -> Result<Option<TeamRecord>, Error>;
    /// A new member; [`Error::Conflict`] when the team has a member with the same name key or
    /// skeleton (a name that is the same or looks the same, see [`crate::names`]).
    fn add_member(
        &mut self,
        team: i64,
        name: &str,
        token_hash: &[u8; 32],
        now: i64,
    ) -> Result<MemberRecord, Error>;
    /// The member of the team with this name (both matched by their keys, see
    /// [`crate::names::key`]).
    fn member_named(&mut self, team: &str, name: &str) -> Result<Option<MemberRecord>, Error>;
    /// Deletes a member with its status and the pings to and from it;
    /// [`Error::NotFound`] if there is none.
    fn remove_member(&mut self, member: i64) -> Result<(), Error>;
    /// The ids of all members.
    fn member_ids(&mut self) -> Result<Vec<i64>, Error>;
    /// Whether another process committed a change since the last call (the first call says
    /// false).
    fn changed_elsewhere(&mut self) -> Result<bool, Error>;
    /// Stores the status if its seq is higher than the stored one; returns whether it did.
    fn put_status(&mut self, member: i64, status: &ValidStatus, now: i64) -> Result<bool, Error>;
    /// Stores a ping; an urgent one over the day's budget is stored as not urgent.
    fn add_ping(&mut self, ping: &NewPing<'_>) -> Result<PingRecord, Error>;
    /// The member's pings with id > `after` sent at or after `since` (Unix seconds), oldest first.
    fn pings_for(&mut self, member: i64, after: i64, since: i64) -> Result<Vec<PingRecord>, Error>;
    /// The random id of this database, made with its schema and kept for its life.
    fn instance(&mut self) -> Result<String, Error>;
    /// Deletes pings sent before `before` (Unix seconds); returns how many.
    fn prune_pings(&mut self, before: i64) -> Result<usize, Error>;
}

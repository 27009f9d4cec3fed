//! The logic of the `weft-sync team` subcommands: create a team, replace its invite code,
//! remove a member, list teams. The binary only parses arguments and prints.

use crate::error::Error;
use crate::secret::{self, INVITE_PREFIX};
use crate::store::{MemberRecord, Store, TeamRecord};
use crate::validate;

/// Creates a team; returns it and its invite code (shown once, stored hashed).
pub fn create_team(store: &mut dyn Store, name: &str) -> Result<(TeamRecord, String), Error> {
    let name = validate::name("the team name", name)?;
    let invite = secret::new_secret(INVITE_PREFIX)?;
    let team = store.create_team(&name, &secret::hash(&invite))?;
    Ok((team, invite))
}

/// Gives the team a new invite code; the old one stops working.
pub fn new_invite(store: &mut dyn Store, name: &str) -> Result<(TeamRecord, String), Error> {
    let invite = secret::new_secret(INVITE_PREFIX)?;
    let team = store.replace_invite(name.trim(), &secret::hash(&invite))?;
    Ok((team, invite))
}

/// Teams and their member counts, by name.
pub fn list(store: &mut dyn Store) -> Result<Vec<(TeamRecord, u64)>, Error> {
    store.list_teams()
}

/// Removes the member `name` of team `team` (both without regard to case): its token,
/// status and pings are deleted and the name is free again. A running server notices within
/// its [`Config::reconcile_every`](crate::Config::reconcile_every): it forgets the member,
/// ends its streams and tells the team.
pub fn remove_member(store: &mut dyn Store, team: &str, name: &str) -> Result<MemberRecord, Error> {
    let member = store.member_named(team, name)?.ok_or_else(|| {
        Error::NotFound(format!(
            "there is no member named \"{}\" in a team named \"{}\"",
            name.trim(),
            team.trim()
        ))
    })?;
    store.remove_member(member.id)?;
    Ok(member)
}

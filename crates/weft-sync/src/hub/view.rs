//! The hub's memory proper: teams (each with its members indexed by name key), members,
//! token hashes and statuses, and the events published when they change. Every method runs
//! under the hub's lock; none does IO.

use super::{Caller, Published};
use crate::error::Error;
use crate::store::{MemberRecord, TeamRecord};
use crate::validate::{name_key, ValidStatus};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::broadcast;
use weft_proto::sync::{Member, SyncEvent, TeamRef, TeamView};

pub(super) struct TeamEntry {
    pub name: String,
    pub tx: broadcast::Sender<Arc<Published>>,
    /// Member ids by name key, so the team is listed in name order.
    pub members: BTreeMap<String, i64>,
}

pub(super) struct MemberEntry {
    pub team: i64,
    pub name: String,
    pub key: String,
    pub token_hash: [u8; 32],
    pub status: Option<ValidStatus>,
    /// Open streams.
    pub online: u32,
}

#[derive(Default)]
pub(super) struct View {
    pub teams: HashMap<i64, TeamEntry>,
    pub members: HashMap<i64, MemberEntry>,
    pub tokens: HashMap<[u8; 32], i64>,
    pub instance: String,
}

impl TeamEntry {
    /// Sends an event to the team's streams.
    pub fn publish(&self, event: Published) {
        // No subscriber is not an error.
        let _ = self.tx.send(Arc::new(event));
    }
}

impl View {
    pub fn add_team(&mut self, team: &TeamRecord, capacity: usize) {
        let (tx, _) = broadcast::channel(capacity.max(1));
        self.teams.insert(
            team.id,
            TeamEntry {
                name: team.name.clone(),
                tx,
                members: BTreeMap::new(),
            },
        );
    }

    pub fn add_member(&mut self, member: &MemberRecord) {
        let key = name_key(&member.name);
        if let Some(team) = self.teams.get_mut(&member.team) {
            team.members.insert(key.clone(), member.id);
        }
        self.tokens.insert(member.token_hash, member.id);
        self.members.insert(
            member.id,
            MemberEntry {
                team: member.team,
                name: member.name.clone(),
                key,
                token_hash: member.token_hash,
                status: None,
                online: 0,
            },
        );
    }

    /// Forgets a member and tells its team (the member's own streams end on this event).
    /// Returns whether it was known.
    pub fn remove_member(&mut self, id: i64) -> bool {
        let Some(member) = self.members.remove(&id) else {
            return false;
        };
        self.tokens.remove(&member.token_hash);
        if let Some(team) = self.teams.get_mut(&member.team) {
            if team.members.get(&member.key) == Some(&id) {
                team.members.remove(&member.key);
            }
            team.publish(Published::to_team(SyncEvent::Left {
                id,
                name: member.name,
            }));
        }
        true
    }

    /// The member of `team` with this name key.
    pub fn member_named(&self, team: i64, key: &str) -> Option<(i64, &MemberEntry)> {
        let id = *self.teams.get(&team)?.members.get(key)?;
        Some((id, self.members.get(&id)?))
    }

    pub fn member(&self, id: i64) -> Option<Member> {
        let m = self.members.get(&id)?;
        let status = m.status.as_ref();
        Some(Member {
            id,
            name: m.name.clone(),
            state: status.map(|s| s.state),
            since: status.map(|s| s.since),
            until: status.and_then(|s| s.until),
            intent: status.and_then(|s| s.intent.clone()),
            seq: status.map_or(0, |s| s.seq.max(0) as u64),
            online: m.online > 0,
        })
    }

    pub fn fan_out_member(&self, id: i64) {
        let (Some(member), Some(team)) = (
            self.member(id),
            self.members.get(&id).and_then(|m| self.teams.get(&m.team)),
        ) else {
            return;
        };
        team.publish(Published::to_team(SyncEvent::Member(member)));
    }

    pub fn team_view(&self, caller: Caller) -> Result<TeamView, Error> {
        let team = self
            .teams
            .get(&caller.team)
            .ok_or_else(|| Error::NotFound("this team no longer exists".into()))?;
        Ok(TeamView {
            team: TeamRef {
                id: caller.team,
                name: team.name.clone(),
            },
            instance: self.instance.clone(),
            me: caller.member,
            members: team
                .members
                .values()
                .filter_map(|id| self.member(*id))
                .collect(),
        })
    }
}

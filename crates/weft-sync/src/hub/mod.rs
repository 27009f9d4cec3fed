//! The server's memory: teams, members, token hashes, statuses, who is online, and one
//! bounded broadcast channel per team.
//!
//! Reads and auth are answered from here without a query. Writes go through the store first
//! (under the store's lock, on a blocking thread) and only then change memory and fan out, so
//! whatever is acknowledged or sent on a stream is committed. Each team's channel carries
//! plain typed events ([`Published`]); the streams ([`crate::events`]) frame each one once and
//! share the frame. A member removed by the admin CLI while the server runs is noticed by
//! [`Hub::reconcile`].

mod channel;
mod view;

pub use channel::{OnlineGuard, Published, Subscription};

use crate::error::Error;
use crate::limit::Limiter;
use crate::secret;
use crate::store::{NewPing, PingRecord, Store, TeamRecord};
use crate::validate::{self, name_key, ValidStatus};
use chrono::{TimeZone, Utc};
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use view::View;
use weft_proto::sync::{
    Joined, Ping, PingOutcome, PingRequest, PingSent, StatusAck, SyncEvent, TeamRef, TeamView,
    DEFAULT_URGENT_BUDGET,
};

/// How long the server keeps pings for recipients that are away.
pub const PING_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Urgent pings per sender, recipient and UTC day.
    pub urgent_budget: u32,
    /// Sustained requests per second per token (the burst is twice this); 0 turns it off.
    pub rate_per_second: u32,
    /// Sustained joins per second per client IP address (an IPv6 /64 counts as one; the
    /// burst is twice this); 0 turns it off.
    pub join_rate_per_second: u32,
    /// Open streams one member may have at once; one more is answered 429.
    pub max_streams_per_member: u32,
    /// How often an idle stream gets a keep-alive comment (at most 15 s: clients take 45 s of
    /// silence for a dead server).
    pub keep_alive: Duration,
    /// How long a connection's socket may accept no bytes before the connection is dropped
    /// (a client that never reads, or a peer that vanished).
    pub stall_timeout: Duration,
    /// Events a team's channel holds for a subscriber that is behind; past it, the
    /// subscriber's stream is ended.
    pub channel_capacity: usize,
    /// How often the server looks for changes another process (the admin CLI) committed.
    pub reconcile_every: Duration,
}

impl Default for Config {
    fn default() -> Self {
        let keep_alive = Duration::from_secs(15);
        Config {
            urgent_budget: DEFAULT_URGENT_BUDGET,
            rate_per_second: 20,
            join_rate_per_second: 5,
            max_streams_per_member: 4,
            keep_alive,
            stall_timeout: keep_alive * 3,
            channel_capacity: 256,
            reconcile_every: Duration::from_secs(5),
        }
    }
}

/// Who a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub member: i64,
    pub team: i64,
}

/// The shared state of a running server.
pub struct Hub {
    store: Mutex<Box<dyn Store>>,
    view: RwLock<View>,
    limiter: Limiter<i64>,
    join_limiter: Limiter<IpAddr>,
    config: Config,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Loads everything from the store.
    pub fn new(mut store: Box<dyn Store>, config: Config) -> Result<Hub, Error> {
        let loaded = store.load()?;
        let mut view = View {
            instance: store.instance()?,
            ..View::default()
        };
        for team in loaded.teams {
            view.add_team(&team, config.channel_capacity);
        }
        for member in loaded.members {
            view.add_member(&member);
        }
        for (id, status) in loaded.statuses {
            if let Some(member) = view.members.get_mut(&id) {
                member.status = Some(status);
            }
        }
        Ok(Hub {
            store: Mutex::new(store),
            view: RwLock::new(view),
            limiter: Limiter::new(config.rate_per_second),
            join_limiter: Limiter::new(config.join_rate_per_second),
            config,
            shutdown: CancellationToken::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Cancelled when the server stops; open streams end then.
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }

    fn store(&self) -> MutexGuard<'_, Box<dyn Store>> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> RwLockReadGuard<'_, View> {
        self.view.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, View> {
        self.view.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The member a bearer token belongs to, after the token's rate limit.
    pub fn authenticate(&self, token: &str) -> Result<Caller, Error> {
        let caller = {
            let view = self.read();
            let member = view.tokens.get(&secret::hash(token)).copied();
            member.and_then(|id| {
                view.members.get(&id).map(|m| Caller {
                    member: id,
                    team: m.team,
                })
            })
        };
        let caller = caller.ok_or_else(|| {
            Error::Unauthorized("this token is not known to the server; join the team again".into())
        })?;
        self.limiter.check(caller.member)?;
        Ok(caller)
    }

    /// Takes one join from the bucket of this client address (an IPv6 /64 is one client).
    pub fn check_join_rate(&self, peer: IpAddr) -> Result<(), Error> {
        let key = match peer {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
            },
            v4 => v4,
        };
        self.join_limiter.check(key)
    }

    /// The caller's team.
    pub fn team_view(&self, caller: Caller) -> Result<TeamView, Error> {
        self.read().team_view(caller)
    }

    /// Creates a team while serving; returns it and its invite code (blocking).
    pub fn create_team(&self, name: &str) -> Result<(TeamRecord, String), Error> {
        let mut store = self.store();
        let (team, invite) = crate::admin::create_team(store.as_mut(), name)?;
        self.write().add_team(&team, self.config.channel_capacity);
        Ok((team, invite))
    }

    /// Trades an invite code for a new member (blocking: writes the store).
    pub fn join(&self, invite: &str, name: &str) -> Result<Joined, Error> {
        let name = validate::name("name", name)?;
        let token = secret::new_secret(secret::TOKEN_PREFIX)?;
        let token_hash = secret::hash(&token);
        let mut store = self.store();
        let team = store
            .team_by_invite(&secret::hash(invite))?
            .ok_or_else(|| {
                Error::Forbidden("this invite code is not valid (it may have been replaced)".into())
            })?;
        let member = store.add_member(team.id, &name, &token_hash, Utc::now().timestamp())?;
        let mut view = self.write();
        if !view.teams.contains_key(&team.id) {
            view.add_team(&team, self.config.channel_capacity);
        }
        view.add_member(&member);
        view.fan_out_member(member.id);
        Ok(Joined {
            token,
            team: TeamRef {
                id: team.id,
                name: team.name,
            },
            member_id: member.id,
            name: member.name,
        })
    }

    /// Removes a member: its token, status and pings to and from it are deleted, its name is
    /// free again, its streams end and its team is told (blocking).
    pub fn remove_member(&self, member: i64) -> Result<(), Error> {
        let mut store = self.store();
        store.remove_member(member)?;
        self.write().remove_member(member);
        self.limiter.forget(&member);
        Ok(())
    }

    /// Forgets members that another process (`weft-sync team remove-member`) deleted from the
    /// store since the last look; returns how many (blocking).
    pub fn reconcile(&self) -> Result<usize, Error> {
        let mut store = self.store();
        if !store.changed_elsewhere()? {
            return Ok(0);
        }
        let kept: HashSet<i64> = store.member_ids()?.into_iter().collect();
        let mut view = self.write();
        let gone: Vec<i64> = view
            .members
            .keys()
            .filter(|id| !kept.contains(id))
            .copied()
            .collect();
        for id in &gone {
            view.remove_member(*id);
            self.limiter.forget(id);
        }
        Ok(gone.len())
    }

    /// Stores a member's own status if its seq is the highest, then fans it out (blocking).
    pub fn put_status(&self, caller: Caller, status: ValidStatus) -> Result<StatusAck, Error> {
        let mut store = self.store();
        let applied = store.put_status(caller.member, &status, Utc::now().timestamp())?;
        let mut view = self.write();
        let member = view
            .members
            .get_mut(&caller.member)
            .ok_or_else(|| Error::NotFound("this member no longer exists".into()))?;
        let current = member.status.as_ref().map_or(0, |s| s.seq);
        if !applied || status.seq <= current {
            return Ok(StatusAck {
                applied: false,
                seq: current.max(0) as u64,
            });
        }
        let seq = status.seq as u64;
        member.status = Some(status);
        view.fan_out_member(caller.member);
        Ok(StatusAck { applied: true, seq })
    }

    /// Stores a ping, relays it to the recipient's streams and forecasts where it lands
    /// (blocking).
    pub fn ping(&self, caller: Caller, request: &PingRequest) -> Result<PingSent, Error> {
        let text = validate::ping_text(&request.text)?;
        let key = name_key(&request.to);
        let (from_name, to, to_name) = {
            let view = self.read();
            let from_name = view
                .members
                .get(&caller.member)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            let (to, entry) = view.member_named(caller.team, &key).ok_or_else(|| {
                Error::NotFound(format!(
                    "there is no member named \"{}\" in this team",
                    request.to.trim()
                ))
            })?;
            (from_name, to, entry.name.clone())
        };
        if to == caller.member {
            return Err(Error::BadRequest("you cannot ping yourself".into()));
        }
        let mut store = self.store();
        let now = Utc::now();
        let record = store.add_ping(&NewPing {
            team: caller.team,
            from: caller.member,
            from_name: &from_name,
            to,
            text: &text,
            urgent: request.urgent,
            sent_at: now.timestamp(),
            urgent_budget: self.config.urgent_budget,
        })?;
        let view = self.read();
        let recipient = view
            .members
            .get(&to)
            .ok_or_else(|| Error::NotFound("the recipient left".into()))?;
        let outcome = match (&recipient.status, recipient.online) {
            (_, 0) => PingOutcome::Queued,
            (Some(s), _) if s.state == weft_proto::State::Focus && !record.urgent => {
                PingOutcome::Held {
                    // A planned end already past says nothing about when the ping shows.
                    until: s.until.filter(|until| *until > now),
                    over_budget: request.urgent,
                }
            }
            _ => PingOutcome::Delivered,
        };
        if let Some(team) = view.teams.get(&caller.team) {
            team.publish(Published::to_member(
                to,
                SyncEvent::Ping(wire_ping(&record)),
            ));
        }
        Ok(PingSent {
            id: record.id,
            to: to_name,
            urgent: record.urgent,
            outcome,
        })
    }

    /// The member's kept pings after `after` (blocking).
    pub fn pings_after(&self, member: i64, after: i64) -> Result<Vec<Ping>, Error> {
        let since = Utc::now().timestamp() - PING_RETENTION.as_secs() as i64;
        Ok(self
            .store()
            .pings_for(member, after, since)?
            .iter()
            .map(wire_ping)
            .collect())
    }

    /// Deletes pings older than the retention (blocking).
    pub fn prune(&self) -> Result<usize, Error> {
        let before = Utc::now().timestamp() - PING_RETENTION.as_secs() as i64;
        self.store().prune_pings(before)
    }

    /// Opens a stream for the caller: marks it online, subscribes to its team and returns
    /// the snapshot that begins the stream. A member with
    /// [`Config::max_streams_per_member`] streams open gets [`Error::TooManyStreams`].
    pub fn subscribe(self: &Arc<Self>, caller: Caller) -> Result<Subscription, Error> {
        let mut view = self.write();
        let rx = view
            .teams
            .get(&caller.team)
            .map(|t| t.tx.subscribe())
            .ok_or_else(|| Error::NotFound("this team no longer exists".into()))?;
        let member = view
            .members
            .get_mut(&caller.member)
            .ok_or_else(|| Error::NotFound("this member no longer exists".into()))?;
        let limit = self.config.max_streams_per_member.max(1);
        if member.online >= limit {
            return Err(Error::TooManyStreams(limit));
        }
        member.online += 1;
        if member.online == 1 {
            view.fan_out_member(caller.member);
        }
        let snapshot = view.team_view(caller)?;
        Ok(Subscription {
            rx,
            snapshot,
            guard: OnlineGuard {
                hub: Arc::clone(self),
                member: caller.member,
            },
        })
    }
}

fn wire_ping(p: &PingRecord) -> Ping {
    Ping {
        id: p.id,
        from: p.from_name.clone(),
        text: p.text.clone(),
        urgent: p.urgent,
        sent_at: Utc.timestamp_opt(p.sent_at, 0).single().unwrap_or_default(),
    }
}

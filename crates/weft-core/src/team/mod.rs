//! The team client: shares this Weft's status with a sync server and follows the team.
//!
//! Two kinds of threads do the talking, so no switch ever waits on the network:
//! - the pusher sends the latest status whenever a switch marks it due, with a per-member
//!   sequence number kept in the log (`team.seq`), and retries with backoff while the server
//!   is down; it always sends the status of the moment, not a queue of old ones;
//! - one stream thread per membership follows the live stream: the snapshot, members'
//!   changes, and pings, which enter through [`Weft::notify`] like any notification, so the
//!   hold policy decides. The last committed ping id (`team.ping_cursor`) is where a
//!   reconnect resumes. After a reconnect the status is pushed again if the server's
//!   snapshot shows it missed the last one (or a push was still due).
//!
//! Lock order: the [`Weft`] lock may be held while calling into [`Team`]
//! ([`Team::status_changed`]), never the other way round.

pub mod membership;
mod worker;

use crate::service::{Incoming, Weft};
use crate::{Error, Result};
use membership::Stored;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Instant;
use weft_proto::sync::{Member, PingRequest, PingSent};
use weft_proto::{Connection, TeamInfo};
use weft_sync_client::Client;

/// The log key of the last sequence number sent.
const SEQ: &str = "team.seq";
/// The log key of the id of the last ping committed.
const PING_CURSOR: &str = "team.ping_cursor";
/// The log key of the server database's id the cursor belongs to.
const INSTANCE: &str = "team.instance";

/// This Weft's membership and what it knows of the team.
pub struct Team {
    file: PathBuf,
    weft: Weak<Weft>,
    shared: Mutex<Shared>,
    wake: Condvar,
    /// Held while the membership file is written or removed, so writes never interleave
    /// (taken before `shared`, never while holding it).
    file_lock: Mutex<()>,
}

#[derive(Default)]
struct Shared {
    membership: Option<Stored>,
    /// Bumped by every join and leave: threads of an older membership stop.
    generation: u64,
    connection: Option<Connection>,
    members: Vec<Member>,
    /// A status push is due.
    push_due: bool,
    /// The pusher waits until then (backoff or the server's Retry-After).
    push_not_before: Option<Instant>,
    /// The server refused this membership: nothing is sent until a new join.
    refused: bool,
    /// A join is under way (its network call runs without the lock).
    joining: bool,
    stopping: bool,
    /// Why there is no membership although a file was there (it was unreadable).
    problem: Option<String>,
}

impl std::fmt::Debug for Team {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Team").field("file", &self.file).finish()
    }
}

impl Team {
    /// Reads the membership file and starts sharing (if this Weft is in a team). A damaged
    /// file is set aside (never deleted) and reported as the connection's message.
    pub fn start(file: PathBuf, weft: &Arc<Weft>) -> Arc<Team> {
        let (membership, problem) = match membership::load(&file) {
            Ok(m) => (m, None),
            // Not a membership file at all: keep it, but out of the way of a new join.
            Err(e @ Error::Invalid(_)) => {
                let kept = match membership::set_aside(&file, chrono::Utc::now()) {
                    Ok(aside) => format!("it was kept as {}", aside.display()),
                    Err(moved) => format!("it could not be set aside either: {moved}"),
                };
                (None, Some(format!("{e}; {kept}. Join the team again")))
            }
            // Unreadable for now (permissions, I/O): left in place for the next start.
            Err(e) => (
                None,
                Some(format!("the team membership could not be read: {e}")),
            ),
        };
        let joined = membership.is_some();
        let team = Arc::new(Team {
            file,
            weft: Arc::downgrade(weft),
            shared: Mutex::new(Shared {
                membership,
                push_due: joined,
                problem,
                ..Shared::default()
            }),
            wake: Condvar::new(),
            file_lock: Mutex::new(()),
        });
        weft.attach_team(team.clone());
        worker::spawn_pusher(&team);
        if joined {
            worker::spawn_stream(&team, 0);
        }
        team
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The team as this Weft knows it now.
    pub fn info(&self) -> TeamInfo {
        self.lock().info()
    }

    /// A switch was committed: the pusher sends the new status. Returns at once.
    pub fn status_changed(&self) {
        let mut shared = self.lock();
        if shared.membership.is_some() {
            shared.push_due = true;
            self.wake.notify_all();
        }
    }

    /// Joins a team on a sync server (a network call: never made with a lock held).
    pub fn join(
        self: &Arc<Self>,
        server: &str,
        invite: &str,
        name: &str,
        share_intent: bool,
    ) -> Result<TeamInfo> {
        {
            let mut shared = self.lock();
            if let Some(current) = &shared.membership {
                return Err(Error::Team(format!(
                    "this Weft is already in the team {:?} on {} as {:?}; leave it first",
                    current.team.name, current.server, current.name
                )));
            }
            if shared.joining {
                return Err(Error::Team("this Weft is joining a team already".into()));
            }
            shared.joining = true;
        }
        let joined = self.join_unlocked(server, invite, name, share_intent);
        self.lock().joining = false;
        let generation = joined?;
        worker::spawn_stream(self, generation);
        Ok(self.changed())
    }

    /// The network call and the membership file; returns the new generation.
    fn join_unlocked(
        &self,
        server: &str,
        invite: &str,
        name: &str,
        share_intent: bool,
    ) -> Result<u64> {
        let client = Client::new(server).map_err(team_error)?;
        let joined = client
            .join(invite.trim(), name.trim())
            .map_err(team_error)?;
        let stored = Stored {
            server: client.server().to_owned(),
            token: joined.token,
            team: joined.team,
            member_id: joined.member_id,
            name: joined.name,
            share_intent,
        };
        let weft = self.weft()?;
        // A new member starts its sequence and its pings afresh.
        weft.remember(SEQ, None)?;
        weft.remember(PING_CURSOR, None)?;
        weft.remember(INSTANCE, None)?;
        let _file = self.file_lock.lock().unwrap_or_else(|p| p.into_inner());
        membership::save(&self.file, &stored)?;
        log::info!(
            "joined the team {:?} on {} as {:?}",
            stored.team.name,
            stored.server,
            stored.name
        );
        let mut shared = self.lock();
        shared.membership = Some(stored);
        shared.generation += 1;
        shared.connection = Some(Connection::Connecting);
        shared.members.clear();
        shared.refused = false;
        shared.problem = None;
        shared.push_due = true;
        shared.push_not_before = None;
        self.wake.notify_all();
        Ok(shared.generation)
    }

    /// Changes whether the intent is shared, and shares the status again. The file is written
    /// without the state lock held, so a switch never waits for the disk here.
    pub fn share(&self, share_intent: bool) -> Result<TeamInfo> {
        {
            let _file = self.file_lock.lock().unwrap_or_else(|p| p.into_inner());
            let mut stored = self.lock().membership.clone().ok_or_else(not_joined)?;
            stored.share_intent = share_intent;
            membership::save(&self.file, &stored)?;
            let mut shared = self.lock();
            if let Some(current) = shared.membership.as_mut() {
                current.share_intent = share_intent;
            }
            shared.push_due = true;
            self.wake.notify_all();
        }
        Ok(self.changed())
    }

    /// Leaves the team: the server forgets the member (its token, last status and pings), then
    /// this machine forgets the membership and nothing more is shared. If the server cannot
    /// be told, nothing changes and the error says so, unless `force` leaves on this machine
    /// anyway (the server then keeps the last status until its admin removes the member).
    pub fn leave(&self, force: bool) -> Result<TeamInfo> {
        let stored = self.lock().membership.clone().ok_or_else(not_joined)?;
        let told = Client::new(&stored.server)
            .map(|c| c.with_token(&stored.token))
            .and_then(|c| c.leave(stored.team.id, stored.member_id));
        match told {
            Ok(()) => log::info!("left the team {:?}", stored.team.name),
            // Already gone from the server (removed by its admin): leave here too.
            Err(e) if e.is_auth() => log::info!("the server had already let us go: {e}"),
            Err(e) if force => log::warn!(
                "left the team {:?} on this machine only; the server was not told: {e}",
                stored.team.name
            ),
            Err(e) => {
                return Err(Error::Team(format!(
                    "{e}. You are still in the team; try again, or leave on this machine only with `weft team leave --force` (the server then shows your last status until its admin runs `weft-sync team remove-member`)"
                )))
            }
        }
        {
            let _file = self.file_lock.lock().unwrap_or_else(|p| p.into_inner());
            {
                let mut shared = self.lock();
                shared.membership = None;
                shared.generation += 1;
                shared.connection = None;
                shared.members.clear();
                shared.push_due = false;
                shared.refused = false;
                self.wake.notify_all();
            }
            membership::remove(&self.file)?;
        }
        Ok(self.changed())
    }

    /// Sends a ping to a teammate by name (a network call: never made with a lock held).
    pub fn ping(&self, to: &str, text: &str, urgent: bool) -> Result<PingSent> {
        let stored = self.lock().membership.clone().ok_or_else(not_joined)?;
        let client = Client::new(&stored.server)
            .map_err(team_error)?
            .with_token(&stored.token);
        let request = PingRequest {
            to: to.trim().to_owned(),
            text: text.trim().to_owned(),
            urgent,
        };
        let sent = client.ping(stored.team.id, &request).map_err(team_error)?;
        log::info!("ping {} sent to {:?}: {:?}", sent.id, sent.to, sent.outcome);
        // The ping is sent whatever happens here; the log only feeds the summary.
        if let Err(e) = self.weft()?.ping_sent(&sent) {
            log::error!("the sent ping was not logged: {e}");
        }
        Ok(sent)
    }

    /// Stops the threads (they finish their current network call and exit).
    pub fn stop(&self) {
        let mut shared = self.lock();
        shared.stopping = true;
        self.wake.notify_all();
    }

    fn weft(&self) -> Result<Arc<Weft>> {
        self.weft.upgrade().ok_or(Error::ShuttingDown)
    }

    /// Tells watchers and the shell what the team looks like now. Never call with a lock held.
    fn changed(&self) -> TeamInfo {
        let info = self.info();
        if let Some(weft) = self.weft.upgrade() {
            weft.team_changed(&info);
        }
        info
    }

    /// Files a teammate's ping through the hold policy (once, however often it is relayed).
    fn receive(
        &self,
        weft: &Weft,
        stored: &Stored,
        instance: &str,
        ping: &weft_proto::sync::Ping,
    ) -> Result<()> {
        let title = format!("Ping from {}", ping.from);
        // The sending time too: a server restored from a backup keeps its database id but
        // hands out ping ids again. Written as the server wrote it before times were typed
        // (whole seconds, no fraction), so a ping filed then is still known by its key.
        let key = format!(
            "{}#{instance}#{}#{}#{}",
            stored.server,
            stored.team.id,
            ping.id,
            ping.sent_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        );
        weft.notify(&Incoming {
            title: &title,
            body: Some(&ping.text),
            urgency: if ping.urgent {
                weft_proto::Urgency::Critical
            } else {
                weft_proto::Urgency::Normal
            },
            from: Some(&ping.from),
            opens: None,
            ping: Some(&key),
        })?;
        Ok(())
    }
}

impl Shared {
    /// True while `generation`'s membership is the current one, not refused by the server,
    /// and Weft is not stopping: only then may its threads change anything.
    fn is_live(&self, generation: u64) -> bool {
        !self.stopping
            && !self.refused
            && self.generation == generation
            && self.membership.is_some()
    }

    fn info(&self) -> TeamInfo {
        let connection = match (&self.membership, &self.connection, &self.problem) {
            (Some(_), Some(c), _) => c.clone(),
            (Some(_), None, _) => Connection::Connecting,
            (None, _, Some(problem)) => Connection::Offline {
                message: problem.clone(),
                retry_at: None,
            },
            (None, _, None) => Connection::NotJoined,
        };
        TeamInfo {
            membership: self.membership.as_ref().map(Stored::public),
            connection,
            members: self.members.clone(),
        }
    }
}

fn not_joined() -> Error {
    Error::Team(
        "this Weft is not in a team. Join one with `weft team join SERVER_URL INVITE --name NAME`, or in Settings"
            .into(),
    )
}

fn team_error(e: weft_sync_client::Error) -> Error {
    Error::Team(e.to_string())
}

/// What a sender is told about a ping: "Delivered to Ana." or "Held until about 10:55 (Ana
/// is focusing)." Times are shown in `tz`.
pub fn describe<Tz: chrono::TimeZone>(sent: &PingSent, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    use weft_proto::sync::PingOutcome;
    let to = &sent.to;
    match &sent.outcome {
        PingOutcome::Delivered if sent.urgent => format!("Delivered to {to} now (urgent)."),
        PingOutcome::Delivered => format!("Delivered to {to}."),
        PingOutcome::Held { until, over_budget } => {
            let about = until.map(|t| t.with_timezone(tz).format("%H:%M").to_string());
            let held = match about {
                Some(hhmm) => format!("Held until about {hhmm}"),
                None => format!("Held until {to} switches to coordination"),
            };
            if *over_budget {
                format!("{held}: your urgent pings to {to} for today are used up, so it waits like any other ({to} is focusing).")
            } else {
                format!("{held} ({to} is focusing).")
            }
        }
        PingOutcome::Queued => format!(
            "Queued: {to}'s Weft is offline; the server keeps the ping and {to} gets it on reconnecting."
        ),
    }
}

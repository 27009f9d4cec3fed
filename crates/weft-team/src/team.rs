//! The team client: shares this Weft's status with a sync server and follows the team.
//!
//! Two kinds of threads do the talking, so no switch ever waits on the network:
//! - the pusher sends the host's status of the moment whenever a push is due (a followed
//!   status whose shared part changed, a join, a change of sharing), with a per-member
//!   sequence number committed to the log first, and retries with backoff while the server
//!   is down; it always sends the status of the moment, not a queue of old ones;
//! - one stream thread per membership follows the live stream: the snapshot, members'
//!   changes, and pings, which the host files through the hold policy like any notification.
//!   The last committed ping id is where a reconnect resumes. After a reconnect the status is
//!   pushed again if the server's snapshot shows it missed the last one (or a push was due).
//!
//! The team knows its host only as a [`Host`], and only weakly: once the host is gone, its
//! threads end. It publishes its own changes to subscribers ([`Team::subscribe`]). It never
//! calls into its host with a lock of its own held, and the host never calls into it, so there
//! is no lock order to keep.

use crate::membership::{self, Stored};
use crate::{Error, Host, Result};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Instant;
use weft_core::service::Incoming;
use weft_proto::sync::{Member, PingRequest, PingSent};
use weft_proto::{Connection, State, Status, TeamInfo};
use weft_sync_client::Client;

/// This Weft's membership and what it knows of the team.
pub struct Team {
    file: PathBuf,
    host: Weak<dyn Host>,
    pub(crate) shared: Mutex<Shared>,
    pub(crate) wake: Condvar,
    /// Who hears of the team's changes ([`Team::subscribe`]).
    subscribers: Mutex<Vec<Listener>>,
    /// Held while the membership file is written or removed, so writes never interleave
    /// (taken before `shared`, never while holding it).
    file_lock: Mutex<()>,
}

/// A subscriber to the team's changes.
type Listener = Box<dyn Fn(&TeamInfo) + Send + Sync>;

/// The part of a status that is shared: a change of it is pushed.
type SharedPart = (
    State,
    chrono::DateTime<chrono::Utc>,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<String>,
);

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) membership: Option<Stored>,
    /// Bumped by every join and leave: threads of an older membership stop.
    pub(crate) generation: u64,
    pub(crate) connection: Option<Connection>,
    pub(crate) members: Vec<Member>,
    /// A status push is due.
    pub(crate) push_due: bool,
    /// The pusher waits until then (backoff or the server's Retry-After).
    pub(crate) push_not_before: Option<Instant>,
    /// The server refused this membership: nothing is sent until a new join.
    pub(crate) refused: bool,
    /// A join is under way (its network call runs without the lock).
    pub(crate) joining: bool,
    pub(crate) stopping: bool,
    /// Why there is no membership although a file was there (it was unreadable).
    pub(crate) problem: Option<String>,
    /// The shared part of the last status followed.
    pub(crate) followed: Option<SharedPart>,
}

impl std::fmt::Debug for Team {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Team").field("file", &self.file).finish()
    }
}

impl Team {
    /// Reads the membership file and starts sharing (if this Weft is in a team). A damaged
    /// file is set aside (never deleted) and reported as the connection's message. A push is
    /// due at once for a member; after that, a push follows every change of the shared part
    /// of a status given to [`Team::status_changed`].
    pub fn start<H: Host + 'static>(file: PathBuf, host: &Arc<H>) -> Arc<Team> {
        let host: Weak<H> = Arc::downgrade(host);
        let host: Weak<dyn Host> = host;
        let (membership, problem) = match membership::load(&file) {
            Ok(m) => (m, None),
            // Not a membership file at all: keep it, but out of the way of a new join.
            Err(e @ Error::NotAMembership { .. }) => {
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
        let team = Arc::new(Team::new(file, host, membership, problem));
        crate::worker::spawn_pusher(&team);
        if joined {
            crate::worker::spawn_stream(&team, 0);
        }
        team
    }

    /// A team client with no threads yet; a member has a push due.
    pub(crate) fn new(
        file: PathBuf,
        host: Weak<dyn Host>,
        membership: Option<Stored>,
        problem: Option<String>,
    ) -> Team {
        // The status of the moment is what the first push sends: the host's first published
        // status (the same one) does not make a second push due.
        let followed = host.upgrade().map(|host| shared_part(&host.status()));
        Team {
            file,
            host,
            shared: Mutex::new(Shared {
                push_due: membership.is_some(),
                membership,
                problem,
                followed,
                ..Shared::default()
            }),
            wake: Condvar::new(),
            subscribers: Mutex::new(Vec::new()),
            file_lock: Mutex::new(()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The team as this Weft knows it now.
    pub fn info(&self) -> TeamInfo {
        self.lock().info()
    }

    /// The host, while it is there.
    ///
    /// # Errors
    /// [`weft_core::Error::ShuttingDown`] once the host is gone.
    pub(crate) fn host(&self) -> weft_core::Result<Arc<dyn Host>> {
        self.host.upgrade().ok_or(weft_core::Error::ShuttingDown)
    }

    /// Calls `listener` with the whole [`TeamInfo`] at every change of the team (a member's
    /// status, the connection, the membership), in order, before the call that made the
    /// change returns. It runs on the thread that made the change, with no lock of the team
    /// held: it must return at once and never call back into the team.
    pub fn subscribe(&self, listener: impl Fn(&TeamInfo) + Send + Sync + 'static) {
        self.subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(listener));
    }

    /// The host published a status: when its shared part (state, since, planned end,
    /// intent) changed, the pusher sends the status of the moment. Returns at once.
    pub fn status_changed(&self, status: &Status) {
        let part = shared_part(status);
        let mut shared = self.lock();
        if shared.followed.as_ref() == Some(&part) {
            return;
        }
        shared.followed = Some(part);
        if shared.membership.is_some() {
            shared.push_due = true;
            self.wake.notify_all();
        }
    }

    /// Joins a team on a sync server (a network call: never made with a lock held).
    ///
    /// # Errors
    /// [`Error::AlreadyJoined`], [`Error::JoinUnderWay`], the server's refusal or silence as
    /// [`Error::Client`], or the membership file or log not written.
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
                return Err(Error::AlreadyJoined {
                    team: current.team.name.clone(),
                    server: current.server.clone(),
                    name: current.name.clone(),
                });
            }
            if shared.joining {
                return Err(Error::JoinUnderWay);
            }
            shared.joining = true;
        }
        let joined = self.join_unlocked(server, invite, name, share_intent);
        self.lock().joining = false;
        let generation = joined?;
        crate::worker::spawn_stream(self, generation);
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
        let client = Client::new(server)?;
        let joined = client.join(invite.trim(), name.trim())?;
        let stored = Stored {
            server: client.server().to_owned(),
            token: joined.token,
            team: joined.team,
            member_id: joined.member_id,
            name: joined.name,
            share_intent,
        };
        // A new member starts its sequence and its pings afresh.
        self.host()?.reset_cursors()?;
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
            let mut stored = self.lock().membership.clone().ok_or(Error::NotJoined)?;
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
    /// be told, nothing changes and the error says so ([`Error::LeaveNotTold`]), unless
    /// `force` leaves on this machine anyway (the server then keeps the last status until its
    /// admin removes the member).
    pub fn leave(&self, force: bool) -> Result<TeamInfo> {
        let stored = self.lock().membership.clone().ok_or(Error::NotJoined)?;
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
            Err(cause) => return Err(Error::LeaveNotTold { cause }),
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
    /// Logging it for the summary is the caller's (the dispatcher's) part.
    pub fn ping(&self, to: &str, text: &str, urgent: bool) -> Result<PingSent> {
        let stored = self.lock().membership.clone().ok_or(Error::NotJoined)?;
        let client = Client::new(&stored.server)?.with_token(&stored.token);
        let request = PingRequest {
            to: to.trim().to_owned(),
            text: text.trim().to_owned(),
            urgent,
        };
        let sent = client.ping(stored.team.id, &request)?;
        log::info!("ping {} sent to {:?}: {:?}", sent.id, sent.to, sent.outcome);
        Ok(sent)
    }

    /// Whether [`Team::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        self.lock().stopping
    }

    /// Stops the threads (they finish their current network call and exit).
    pub fn stop(&self) {
        let mut shared = self.lock();
        shared.stopping = true;
        self.wake.notify_all();
    }

    /// Tells subscribers what the team looks like now, and returns it. Never call with a lock
    /// held. The team is read and told under the subscribers' lock, so two changes on two
    /// threads are told in the order they were read: the last told is the latest.
    pub(crate) fn changed(&self) -> TeamInfo {
        let subscribers = self.subscribers.lock().unwrap_or_else(|p| p.into_inner());
        let info = self.info();
        for listener in subscribers.iter() {
            listener(&info);
        }
        info
    }

    /// Files a teammate's ping through the host's hold policy (once, however often it is
    /// relayed).
    pub(crate) fn receive(
        &self,
        stored: &Stored,
        instance: &str,
        ping: &weft_proto::sync::Ping,
    ) -> weft_core::Result<()> {
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
        self.host()?.file_ping(&Incoming {
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
        })
    }
}

/// The shared part of a status.
fn shared_part(status: &Status) -> SharedPart {
    (
        status.state,
        status.since,
        status.until,
        status.intent.clone(),
    )
}

impl Shared {
    /// True while `generation`'s membership is the current one, not refused by the server,
    /// and Weft is not stopping: only then may its threads change anything.
    pub(crate) fn is_live(&self, generation: u64) -> bool {
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

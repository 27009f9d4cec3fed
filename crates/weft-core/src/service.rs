//! The one dispatcher. Every surface (tray, hotkey, CLI over the socket, UI through its Tauri
//! command, tests) turns its input into a [`Request`] or a call here, so there is exactly one
//! path from "switch" to "committed in the log".
//!
//! A switch is proposed by the [`Machine`], committed by the [`Store`], and only then applied
//! and reported: nothing reports a switch that a crash could lose.

use crate::clock::Clock;
use crate::hold;
use crate::machine::{Machine, Plan};
use crate::store::{AppEvent, NewNotification, Popup, PopupKey, ReleaseReason, Released, Store};
use crate::team::Team;
use crate::time::Deadline;
use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use weft_proto::{
    Disposition, ErrorKind, Event, InboxItem, NotifyOutcome, Request, Response, Source, State,
    Status, SwitchOutcome, Target, TeamInfo, Urgency,
};

/// How many delivered or released notifications the Inbox lists besides the held ones.
pub const INBOX_RECENT: u32 = 50;

/// Events a watcher may fall behind by before it is dropped (its connection then ends).
const WATCH_BACKLOG: usize = 64;

/// What the dispatcher asks of the app around it (the tray, windows). Tests record calls.
pub trait Shell: Send + Sync {
    /// A switch was committed. Called with the dispatcher's lock held, so that calls arrive in
    /// commit order: it must return at once (post to the UI thread) and never call back into
    /// [`Weft`].
    fn state_changed(&self, status: &Status);
    /// Opens or raises the window. Must not block on the UI thread.
    fn open_window(&self) -> std::result::Result<(), String>;
    /// Closes every window (the app stays in the tray). Must not block on the UI thread.
    fn close_window(&self) -> std::result::Result<(), String>;
    /// Popups are owed to the desktop (see [`Weft::owed_popups`]). Called with the lock held:
    /// must return at once (wake a delivery worker).
    fn popups_owed(&self);
    /// The team changed (a member's status, the connection, the membership). Called with the
    /// lock held: must return at once (post to the UI thread).
    fn team_changed(&self, _info: &TeamInfo) {}
}

/// A notification as it arrives, before the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming<'a> {
    pub title: &'a str,
    pub body: Option<&'a str>,
    pub urgency: Urgency,
    pub from: Option<&'a str>,
    /// The window view a click on it opens (`"today"`).
    pub opens: Option<&'a str>,
    /// A teammate's ping: its key, so a ping relayed twice is filed once.
    pub ping: Option<&'a str>,
}

/// The running Weft: the state machine and its log, behind one lock.
///
/// Reads never wait for a writer: the status of the moment is kept beside the lock (set in
/// commit order by every announce), and the log, the summary and the inbox are read through a
/// read-only connection of their own, which SQLite's WAL lets read while another connection
/// (this one, or another program) holds the write lock.
pub struct Weft {
    inner: Mutex<Inner>,
    /// The last status announced: what `status` answers without taking `inner`.
    current: RwLock<Status>,
    /// A read-only connection to the same file (none for an in-memory store).
    reader: Option<Mutex<Store>>,
    clock: Arc<dyn Clock>,
    shell: OnceLock<Arc<dyn Shell>>,
    team: OnceLock<Arc<Team>>,
    stopped: AtomicBool,
}

struct Inner {
    store: Store,
    machine: Machine,
    watchers: Vec<SyncSender<Event>>,
    /// Mirrors the store's held count, so a status costs no query.
    held: u32,
    /// The optional desktop parts not working now (see [`Weft::set_degraded`]), sorted.
    degraded: Vec<weft_proto::DesktopPart>,
    /// Wall-clock time that did not pass at the desk (see `gap.rs`).
    gaps: gap::Gaps,
}

impl Inner {
    fn status(&self) -> Status {
        Status {
            degraded: self.degraded.clone(),
            ..self.machine.status(self.held)
        }
    }

    /// Files one of Weft's own notes, shown at once even on a silenced desktop (it is what the
    /// person asked for, not an interruption).
    fn file_note(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
        title: &str,
        body: &str,
    ) -> Result<()> {
        self.store
            .record_notification(&NewNotification {
                received: now,
                title,
                body,
                urgency: Urgency::Normal,
                from: None,
                disposition: Disposition::Delivered,
                shows_in_focus: true,
                opens: None,
                ping: None,
            })
            .map(drop)
    }

    /// Releases every held item, with a digest if any `normal` one was held.
    fn release(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
        reason: ReleaseReason,
    ) -> Result<Released> {
        // Nothing held (the common switch): no query.
        let held = if self.held == 0 {
            Vec::new()
        } else {
            self.store.held()?
        };
        if held.is_empty() {
            return Ok(Released {
                items: 0,
                digest: None,
            });
        }
        let digest = hold::digest(&held);
        let released = self.store.release_held(now, reason, digest.as_ref())?;
        self.held = 0;
        log::info!(
            "released {} held notification(s){}",
            released.items,
            if released.digest.is_some() {
                " with a digest"
            } else {
                ""
            }
        );
        Ok(released)
    }

    /// Sends to every watcher without waiting; drops those that are gone or too far behind.
    /// A team event is skipped, not fatal, for a watcher that is behind: a burst of them (a
    /// whole team reconnecting) must not close a window, and the next one carries the whole
    /// team again.
    fn broadcast(&mut self, event: &Event) -> usize {
        let skippable = matches!(event, Event::Team(_));
        self.watchers.retain(|w| match w.try_send(event.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) if skippable => true,
            Err(TrySendError::Full(_)) => {
                log::warn!("a watcher fell {WATCH_BACKLOG} events behind; dropping it");
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
        self.watchers.len()
    }
}

impl std::fmt::Debug for Weft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Weft").finish_non_exhaustive()
    }
}

impl Weft {
    /// Logs the app's start and restores the state from the log.
    pub fn start(mut store: Store, clock: Arc<dyn Clock>) -> Result<Weft> {
        let now = clock.now();
        let last = store.last_switch()?;
        close_crashed_run(&mut store)?;
        store.record_app_event(AppEvent::Start, now)?;
        let machine = Machine::restore(last.as_ref(), store.last_stash()?, now);
        let held = store.held_count()?;
        // A second connection for reads; without one (a store in memory, or a file that will
        // not open twice) reads share the writer's connection and may wait for it.
        let reader = match store.path() {
            Some(path) => match Store::open_read_only(path) {
                Ok(reader) => Some(Mutex::new(reader)),
                Err(e) => {
                    log::warn!("reads will share the writer's connection: {e}");
                    None
                }
            },
            None => None,
        };
        let mut inner = Inner {
            store,
            machine,
            watchers: Vec::new(),
            held,
            degraded: Vec::new(),
            gaps: gap::Gaps::new(clock.as_ref()),
        };
        // Held items in coordination: a crash came between a switch and its digest.
        if inner.machine.state() == State::Coordination {
            inner.release(now, ReleaseReason::Coordination)?;
        }
        Ok(Weft {
            current: RwLock::new(inner.status()),
            inner: Mutex::new(inner),
            reader,
            clock,
            shell: OnceLock::new(),
            team: OnceLock::new(),
            stopped: AtomicBool::new(false),
        })
    }

    /// Connects the app around the dispatcher. Only the first call has an effect.
    pub fn attach_shell(&self, shell: Arc<dyn Shell>) {
        let _ = self.shell.set(shell);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the store half-written (SQLite is
        // transactional), so the data behind a poisoned lock is still sound.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The status of the moment, from memory: it never waits for the store.
    pub fn status(&self) -> Status {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs a read on the read-only connection (or, without one, on the writer's). Never
    /// waits for a write in progress when there is a reader.
    fn read<T>(&self, read: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        match &self.reader {
            Some(reader) => read(&reader.lock().unwrap_or_else(|p| p.into_inner())),
            None => read(&self.lock().store),
        }
    }

    /// Switches state. Returns once the switch is committed (or was a no-op).
    pub fn switch(
        &self,
        to: Target,
        source: Source,
        intent: Option<&str>,
    ) -> Result<SwitchOutcome> {
        self.switch_with(&Plan {
            intent,
            ..Plan::to(to, source)
        })
    }

    /// Switches state as planned (intent, planned length, stash). Returns once the switch is
    /// committed (or was a no-op).
    pub fn switch_with(&self, plan: &Plan<'_>) -> Result<SwitchOutcome> {
        self.switch_at(plan, None)
    }

    /// Switches state as planned, logged at `at` (when the person asked for it) or now. A
    /// switch that could not be committed at once (the store was locked) is retried with the
    /// time it was asked for, so the log says when it happened, not when the disk allowed it.
    pub fn switch_at(
        &self,
        plan: &Plan<'_>,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<SwitchOutcome> {
        self.commit_switch(plan, at, None)
    }

    /// A switch whose sender waits only until `deadline`: committed before it, or not at all
    /// ([`Error::Expired`]), whether the time went waiting for the dispatcher or for a
    /// database another program holds locked.
    fn commit_switch(
        &self,
        plan: &Plan<'_>,
        at: Option<chrono::DateTime<chrono::Utc>>,
        deadline: Option<Deadline>,
    ) -> Result<SwitchOutcome> {
        let mut inner = self.lock();
        if self.stopped.load(Ordering::SeqCst) {
            return Err(Error::ShuttingDown);
        }
        not_expired(deadline)?;
        let now = self.mind_the_gap(&mut inner);
        // Never before the current block began: the log stays in time order.
        let now = at.map_or(now, |at| at.min(now).max(inner.machine.since()));
        let Some(switch) = inner.machine.propose(plan, now)? else {
            return Ok(SwitchOutcome {
                switched: false,
                status: inner.status(),
            });
        };
        inner
            .store
            .within(deadline.map(Deadline::left), |store| {
                store.record_switch(&switch)
            })
            .map_err(|e| expired_instead(e, deadline))?;
        inner.machine.apply(&switch);
        let mut popups = false;
        if switch.to == State::Focus {
            // Where you left off last time, shown as focus resumes.
            if let Some(stash) = inner.machine.last_stash().map(str::to_owned) {
                match inner.file_note(now, "Where you left off", &stash) {
                    Ok(()) => popups = true,
                    Err(e) => log::error!("the stash note was not filed: {e}"),
                }
            }
        }
        if switch.to == State::Coordination {
            // The switch stands even if this fails: the items stay held for the next digest.
            match inner.release(now, ReleaseReason::Coordination) {
                Ok(released) => popups = released.digest.is_some(),
                Err(e) => log::error!("held notifications were not released: {e}"),
            }
        }
        let status = self.announce(&mut inner, popups);
        if let Some(team) = self.team.get() {
            team.status_changed();
        }
        log::info!("switched to {} ({})", switch.to, switch.source);
        Ok(SwitchOutcome {
            switched: true,
            status,
        })
    }

    /// Tells watchers and the shell about the new status (and owed popups), and returns it.
    /// Lock held.
    fn announce(&self, inner: &mut Inner, popups: bool) -> Status {
        let status = inner.status();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = status.clone();
        inner.broadcast(&Event::Status(status.clone()));
        if let Some(shell) = self.shell.get() {
            shell.state_changed(&status);
            if popups {
                shell.popups_owed();
            }
        }
        status
    }

    /// Files a notification by the hold policy. Returns once it is committed.
    pub fn notify(&self, incoming: &Incoming<'_>) -> Result<NotifyOutcome> {
        self.notify_within(incoming, None)
    }

    /// Files a notification whose sender waits only until `deadline`: committed before it, or
    /// not at all ([`Error::Expired`]).
    fn notify_within(
        &self,
        incoming: &Incoming<'_>,
        deadline: Option<Deadline>,
    ) -> Result<NotifyOutcome> {
        let prepared = hold::prepare(incoming.title, incoming.body, incoming.from)?;
        let mut inner = self.lock();
        not_expired(deadline)?;
        if let Some(key) = incoming.ping {
            if let Some((id, disposition)) = inner.store.ping_filed(key)? {
                log::info!("ping {key} was filed before (notification {id}); not again");
                return Ok(NotifyOutcome {
                    id,
                    disposition,
                    truncated: prepared.truncated,
                    queued: false,
                });
            }
        }
        let now = self.clock.now();
        let disposition = hold::decide(inner.machine.state(), incoming.urgency);
        let filed = NewNotification {
            received: now,
            title: &prepared.title,
            body: &prepared.body,
            urgency: incoming.urgency,
            from: prepared.from.as_deref(),
            disposition,
            shows_in_focus: false,
            opens: incoming.opens,
            ping: incoming.ping,
        };
        let id = inner
            .store
            .within(deadline.map(Deadline::left), |store| {
                store.record_notification(&filed)
            })
            .map_err(|e| expired_instead(e, deadline))?;
        if disposition == Disposition::Held {
            inner.held += 1;
            self.announce(&mut inner, false);
        } else if let Some(shell) = self.shell.get() {
            shell.popups_owed();
        }
        log::info!("notification {id}: {}", disposition.as_str());
        Ok(NotifyOutcome {
            id,
            disposition,
            truncated: prepared.truncated,
            // A popup is owed, and no notification server takes popups now.
            queued: disposition != Disposition::Held
                && inner
                    .degraded
                    .contains(&weft_proto::DesktopPart::Notifications),
        })
    }

    /// A configured release time came: during focus, the held items go out as a digest.
    /// Returns how many were released.
    pub fn release_held_now(&self) -> Result<usize> {
        let mut inner = self.lock();
        if inner.machine.state() != State::Focus || inner.held == 0 {
            return Ok(0);
        }
        let now = self.clock.now();
        let released = inner.release(now, ReleaseReason::ReleaseTime)?;
        self.announce(&mut inner, released.digest.is_some());
        Ok(released.items)
    }

    /// Shows one of Weft's own notes at once, whatever the state (e.g. "the planned focus
    /// block is over").
    pub fn note(&self, title: &str, body: &str) -> Result<()> {
        let mut inner = self.lock();
        let now = self.clock.now();
        inner.file_note(now, title, body)?;
        if let Some(shell) = self.shell.get() {
            shell.popups_owed();
        }
        Ok(())
    }

    /// Marks an optional desktop part as not working (`true`) or working again. A change is
    /// announced like a switch (watchers, the shell), so `status` lists it at once. Returns
    /// whether anything changed.
    pub fn set_degraded(&self, part: weft_proto::DesktopPart, degraded: bool) -> bool {
        let mut inner = self.lock();
        let listed = inner.degraded.contains(&part);
        if listed == degraded {
            return false;
        }
        if degraded {
            inner.degraded.push(part);
            inner.degraded.sort();
        } else {
            inner.degraded.retain(|p| *p != part);
        }
        self.announce(&mut inner, false);
        true
    }

    /// Popups the desktop has not taken yet.
    pub fn owed_popups(&self) -> Result<Vec<Popup>> {
        self.lock().store.owed_popups()
    }

    /// Records that the desktop took a popup.
    pub fn popup_shown(&self, key: PopupKey) -> Result<()> {
        let now = self.clock.now();
        self.lock().store.popup_shown(key, now)
    }

    /// Stops trying to show a popup that waited too long; it stays in the Inbox.
    pub fn popup_given_up(&self, key: PopupKey, why: &str) -> Result<()> {
        self.lock().store.popup_given_up(key, why)
    }

    /// Records that the desktop did not take a popup; it stays owed.
    pub fn popup_failed(&self, key: PopupKey, error: &str) -> Result<()> {
        self.lock().store.popup_failed(key, error)
    }

    /// A fact remembered across crashes (e.g. a desktop setting to restore).
    pub fn recall(&self, key: &str) -> Result<Option<String>> {
        self.lock().store.recall(key)
    }

    /// Remembers (or, with `None`, forgets) a fact across crashes.
    pub fn remember(&self, key: &str, value: Option<&str>) -> Result<()> {
        self.lock().store.remember(key, value)
    }

    /// The summary of a local day (`None`: today), or of the week ending with it.
    pub fn summary(&self, date: Option<&str>, week: bool) -> Result<Vec<weft_proto::DaySummary>> {
        let now = self.clock.now();
        let today = now.with_timezone(&chrono::Local).date_naive();
        let date = match date {
            None => today,
            Some(text) => crate::summary::parse_date(text, today).map_err(Error::Invalid)?,
        };

        let fragment = chrono::Duration::minutes(crate::summary::DEFAULT_FRAGMENT_MINUTES);
        self.read(|store| {
            crate::summary::from_store(store, date, week, &chrono::Local, now, fragment)
        })
    }

    /// Held notifications, then the most recent others.
    pub fn inbox(&self) -> Result<Vec<InboxItem>> {
        self.read(|store| store.inbox(INBOX_RECENT))
    }

    /// Answers one control request. Never panics on bad input: errors become
    /// [`Response::Error`] with a kind and a sentence.
    pub fn dispatch(&self, request: Request) -> Response {
        self.dispatch_within(request, None)
    }

    /// Answers one control request whose sender waits only until `deadline`: a switch or a
    /// notification is committed before it or not at all.
    pub fn dispatch_within(&self, request: Request, deadline: Option<Deadline>) -> Response {
        match request {
            Request::Status => Response::Status(self.status()),
            Request::Switch {
                to,
                source,
                intent,
                minutes,
                stash,
            } => {
                let plan = Plan {
                    to,
                    source,
                    intent: intent.as_deref(),
                    minutes,
                    stash: stash.as_deref(),
                };
                match self.commit_switch(&plan, None, deadline) {
                    Ok(outcome) => Response::Switched(outcome),
                    Err(e) => error_response(&e),
                }
            }
            Request::Log { since } => {
                let since = match since.as_deref().map(|s| (s, weft_proto::time::parse(s))) {
                    None => None,
                    Some((_, Ok(t))) => Some(t),
                    Some((text, Err(_))) => {
                        return Response::error(
                            ErrorKind::Invalid,
                            format!(
                                "{text:?} is not an RFC 3339 time such as 2026-11-24T09:00:00Z"
                            ),
                        )
                    }
                };
                match self.read(|store| store.switches(since)) {
                    Ok(switches) => Response::Log(switches.iter().map(|s| s.to_entry()).collect()),
                    Err(e) => error_response(&e),
                }
            }
            Request::Notify {
                title,
                body,
                urgency,
                from,
            } => {
                let incoming = Incoming {
                    title: &title,
                    body: body.as_deref(),
                    urgency,
                    from: from.as_deref(),
                    opens: None,
                    ping: None,
                };
                match self.notify_within(&incoming, deadline) {
                    Ok(outcome) => Response::Notified(outcome),
                    Err(e) => error_response(&e),
                }
            }
            Request::Summary { date, week } => match self.summary(date.as_deref(), week) {
                Ok(days) => Response::Summary(days),
                Err(e) => error_response(&e),
            },
            Request::Markdown { date } => match self.summary(date.as_deref(), false) {
                Ok(days) => Response::Text(
                    days.iter()
                        .map(|d| crate::summary::markdown(d, &chrono::Local))
                        .collect(),
                ),
                Err(e) => error_response(&e),
            },
            Request::Inbox => match self.inbox() {
                Ok(items) => Response::Inbox(items),
                Err(e) => error_response(&e),
            },
            Request::OpenWindow => self.with_shell(|shell| shell.open_window()),
            Request::CloseWindow => self.with_shell(|shell| shell.close_window()),
            Request::Watch => Response::error(
                ErrorKind::BadRequest,
                "watch needs a control-socket connection of its own",
            ),
            Request::Team => self.with_team(|team| Ok(Response::Team(team.info()))),
            Request::TeamJoin {
                server,
                invite,
                name,
                share_intent,
            } => self.with_team(|team| {
                team.join(&server, &invite, &name, share_intent)
                    .map(Response::Team)
            }),
            Request::TeamShare { share_intent } => {
                self.with_team(|team| team.share(share_intent).map(Response::Team))
            }
            Request::TeamLeave { force } => {
                self.with_team(|team| team.leave(force).map(Response::Team))
            }
            Request::Ping { to, text, urgent } => {
                self.with_team(|team| team.ping(&to, &text, urgent).map(Response::PingSent))
            }
        }
    }

    /// Gives the team its calls; they may wait on the network, so no lock is held.
    fn with_team(&self, act: impl FnOnce(&Arc<Team>) -> Result<Response>) -> Response {
        match self.team.get() {
            Some(team) => act(team).unwrap_or_else(|e| error_response(&e)),
            None => Response::error(ErrorKind::NotReady, "Weft is still starting; try again"),
        }
    }

    /// Connects the team client (once, at start).
    pub fn attach_team(&self, team: Arc<Team>) {
        if self.team.set(team).is_err() {
            log::warn!("a team client was already attached");
        }
    }

    /// The team client, once attached.
    pub fn team(&self) -> Option<&Arc<Team>> {
        self.team.get()
    }

    /// Logs a ping this Weft sent (the summary counts them).
    pub fn ping_sent(&self, sent: &weft_proto::sync::PingSent) -> Result<()> {
        use weft_proto::sync::PingOutcome;
        let outcome = match sent.outcome {
            PingOutcome::Delivered => "delivered",
            PingOutcome::Held { .. } => "held",
            PingOutcome::Queued => "queued",
        };
        let now = self.clock.now();
        self.lock()
            .store
            .record_ping_sent(now, &sent.to, sent.urgent, outcome)
    }

    /// Tells watchers and the shell that the team changed.
    pub fn team_changed(&self, info: &TeamInfo) {
        let mut inner = self.lock();
        inner.broadcast(&Event::Team(info.clone()));
        if let Some(shell) = self.shell.get() {
            shell.team_changed(info);
        }
    }

    /// Follows the app: the receiver gets the current status at once, then every event.
    pub fn watch(&self) -> Receiver<Event> {
        let (tx, rx) = mpsc::sync_channel(WATCH_BACKLOG);
        let mut inner = self.lock();
        // Cannot fail: the channel is new and has room.
        let _ = tx.try_send(Event::Status(inner.status()));
        inner.watchers.push(tx);
        rx
    }

    /// Sends an event (e.g. [`Event::Raise`]) to every watcher; returns how many there are.
    pub fn broadcast(&self, event: &Event) -> usize {
        self.lock().broadcast(event)
    }

    fn with_shell(
        &self,
        act: impl FnOnce(&dyn Shell) -> std::result::Result<(), String>,
    ) -> Response {
        match self.shell.get() {
            Some(shell) => match act(shell.as_ref()) {
                Ok(()) => Response::Done,
                Err(message) => Response::error(ErrorKind::Unavailable, message),
            },
            None => Response::error(ErrorKind::NotReady, "Weft is still starting; try again"),
        }
    }

    /// Notes that the app is alive (the app calls this every minute). After a crash, the next
    /// start logs the run's stop at the last heartbeat, so the summary counts the run up to
    /// then instead of only up to its last switch.
    pub fn heartbeat(&self) -> Result<()> {
        let mut inner = self.lock();
        let now = self.mind_the_gap(&mut inner);
        inner
            .store
            .remember(HEARTBEAT, Some(&crate::time::to_ms(now).to_string()))
    }

    /// Logs the app's stop; from then on switches are refused, so none lands after the stop.
    /// Safe to call more than once; only the first call logs.
    pub fn stop(&self) -> Result<()> {
        let mut inner = self.lock();
        if self.stopped.load(Ordering::SeqCst) {
            return Ok(());
        }
        // A gap since the last reading (a quit right after a wake) is logged before the stop;
        // `stopped` is set after it, or the gap would be skipped and the stop would count the
        // suspend as tracked. The lock keeps another stop or a switch from coming between.
        let now = self.mind_the_gap(&mut inner);
        self.stopped.store(true, Ordering::SeqCst);
        inner.store.record_app_event(AppEvent::Stop, now)
    }

    /// Runs a read against the store (for tests and the app's own diagnostics).
    pub fn with_store<T>(&self, read: impl FnOnce(&Store) -> T) -> T {
        read(&self.lock().store)
    }
}

impl crate::control::Handler for Weft {
    fn handle(&self, request: Request, deadline: Option<Deadline>) -> Response {
        self.dispatch_within(request, deadline)
    }

    fn watch(&self) -> Receiver<Event> {
        Weft::watch(self)
    }
}

/// The store key of the last heartbeat (Unix milliseconds).
const HEARTBEAT: &str = "alive";

/// If the last run ended without a stop (a crash), logs its stop at its last heartbeat.
fn close_crashed_run(store: &mut Store) -> Result<()> {
    let Some((started, AppEvent::Start)) = store.last_app_event()? else {
        return Ok(());
    };
    let alive = store
        .recall(HEARTBEAT)?
        .and_then(|ms| ms.parse::<i64>().ok())
        .map(crate::time::from_ms);
    if let Some(alive) = alive.filter(|alive| *alive > started) {
        store.record_app_event(AppEvent::Stop, alive)?;
        log::info!(
            "the last run ended without a stop; its last heartbeat was {}",
            weft_proto::time::format(alive)
        );
    }
    Ok(())
}

/// Refuses to start a change whose sender has stopped waiting.
fn not_expired(deadline: Option<Deadline>) -> Result<()> {
    match deadline.and_then(Deadline::passed_by_ms) {
        Some(late_ms) => {
            log::warn!(
                "a request was not carried out: its sender stopped waiting {late_ms} ms ago"
            );
            Err(Error::Expired { late_ms })
        }
        None => Ok(()),
    }
}

/// A write that failed because its deadline ran out while it waited for a lock is reported as
/// expired (its sender has gone), not as a storage fault.
fn expired_instead(e: Error, deadline: Option<Deadline>) -> Error {
    match deadline.and_then(Deadline::passed_by_ms) {
        Some(late_ms) if e.storage_hint().is_some() => Error::Expired { late_ms },
        _ => e,
    }
}

/// Maps a core error to the wire.
pub fn error_response(e: &Error) -> Response {
    let kind = match e {
        Error::Invalid(_) => ErrorKind::Invalid,
        Error::NotRunning { .. }
        | Error::Timeout { .. }
        | Error::ShuttingDown
        | Error::Expired { .. } => ErrorKind::Unavailable,
        Error::Protocol { .. } => ErrorKind::BadRequest,
        Error::Team(_) => ErrorKind::Team,
        _ => ErrorKind::Storage,
    };
    Response::error(kind, e.to_string())
}

mod gap;
#[cfg(test)]
mod tests;

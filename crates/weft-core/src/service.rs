//! The dispatcher's state transitions. Every surface (tray, hotkey, CLI over the socket, UI
//! through its Tauri command, tests) ends up in a call here, so there is exactly one path from
//! "switch" to "committed in the log". Translating requests into these calls is
//! [`crate::dispatch`]'s job; what happened is published to watchers ([`Weft::watch`]).
//!
//! A switch is proposed by the [`Machine`], committed by the [`Store`], and only then applied
//! and reported: nothing reports a switch that a crash could lose.

use crate::clock::Clock;
use crate::machine::{Machine, Plan};
use crate::store::{AppEvent, Facts, ReleaseReason, Store};
use crate::summary::Period;
use crate::time::Deadline;
use crate::{Error, Result};
use inner::{close_crashed_run, expired_instead, not_expired, Inner, WATCH_BACKLOG};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use weft_proto::{Event, Source, State, Status, SwitchEntry, SwitchOutcome, Target, TeamInfo};

pub use desktop::{DesktopPolicy, Observation, Observed};
pub use notify::{Incoming, INBOX_RECENT};
pub use shell::{Shell, ShellError};

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
    stopped: AtomicBool,
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
            hotkey: None,
            hotkey_changeable: false,
            gaps: gap::Gaps::new(clock.as_ref()),
            desktop: DesktopPolicy::default(),
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
            stopped: AtomicBool::new(false),
        })
    }

    /// Connects the app around the dispatcher. Only the first call has an effect.
    pub fn attach_shell(&self, shell: Arc<dyn Shell>) {
        if self.shell.set(shell).is_err() {
            log::warn!("a shell was already attached");
        }
    }

    /// The app around the dispatcher, once attached.
    pub fn shell(&self) -> Option<&Arc<dyn Shell>> {
        self.shell.get()
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
        self.switch_at(
            &Plan {
                intent,
                ..Plan::to(to, source)
            },
            None,
        )
    }

    /// Switches state as planned (intent, planned length, stash), logged at `at` (when the
    /// person asked for it) or now. A switch that could not be committed at once (the store was
    /// locked) is retried with the time it was asked for, so the log says when it happened,
    /// not when the disk allowed it. Returns once the switch is committed (or was a no-op).
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
    pub(crate) fn commit_switch(
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
        log::info!("switched to {} ({})", switch.to, switch.source);
        Ok(SwitchOutcome {
            switched: true,
            status,
        })
    }

    /// Publishes the new status (and owed popups) to watchers and the shell, and returns it.
    /// Lock held, so every watcher sees statuses in commit order.
    ///
    /// A status that differs from the last only in its held count (a flood of other apps'
    /// notifications during focus) may be skipped by a watcher that is behind, rather than
    /// costing it its connection: the next status carries the count.
    fn announce(&self, inner: &mut Inner, popups: bool) -> Status {
        let status = inner.status();
        let previous = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(|p| p.into_inner()),
            status.clone(),
        );
        let count_only = Status {
            held: previous.held,
            ..status.clone()
        } == previous;
        inner.broadcast_skippable(&Event::Status(status.clone()), count_only);
        if let Some(shell) = self.shell.get() {
            shell.state_changed(&status);
            if popups {
                shell.popups_owed();
            }
        }
        status
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

    /// Sets the global hotkey in effect (`None`: there is none), as the desktop or the grab
    /// reports it. A change is announced like a switch, so `status` shows it at once. Returns
    /// whether anything changed.
    pub fn set_hotkey(&self, hotkey: Option<String>) -> bool {
        let mut inner = self.lock();
        if inner.hotkey == hotkey {
            return false;
        }
        if hotkey.is_none() {
            // No hotkey, nothing to change.
            inner.hotkey_changeable = false;
        }
        inner.hotkey = hotkey;
        self.announce(&mut inner, false);
        true
    }

    /// Sets whether the desktop can show its dialog to change the hotkey in effect
    /// (`Status::hotkey_changeable`); only while there is one. Announced like
    /// [`Weft::set_hotkey`]; returns whether anything changed.
    pub fn set_hotkey_changeable(&self, changeable: bool) -> bool {
        let mut inner = self.lock();
        let changeable = changeable && inner.hotkey.is_some();
        if inner.hotkey_changeable == changeable {
            return false;
        }
        inner.hotkey_changeable = changeable;
        self.announce(&mut inner, false);
        true
    }

    /// Reads or writes the facts kept across crashes ([`Facts`]), on the writing connection.
    pub fn facts<T>(&self, act: impl FnOnce(&mut Facts<'_>) -> Result<T>) -> Result<T> {
        act(&mut self.lock().store.facts())
    }

    /// The switches logged since `since` (all of them with `None`), oldest first.
    pub fn log(&self, since: Option<chrono::DateTime<chrono::Utc>>) -> Result<Vec<SwitchEntry>> {
        self.read(|store| store.switches(since))
    }

    /// Today, the local date by this dispatcher's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.now().with_timezone(&chrono::Local).date_naive()
    }

    /// The summary of a local day, or of the week ending with one: one [`DaySummary`] a day,
    /// oldest first, in the local time zone, up to now.
    ///
    /// [`DaySummary`]: weft_proto::DaySummary
    pub fn summary(&self, period: Period) -> Result<Vec<weft_proto::DaySummary>> {
        let now = self.clock.now();
        let fragment = chrono::Duration::minutes(crate::summary::DEFAULT_FRAGMENT_MINUTES);
        self.read(|store| store.summary(period, &chrono::Local, now, fragment))
    }

    /// Publishes a change of the team (from the team client) to watchers and the shell.
    pub fn team_changed(&self, info: &TeamInfo) {
        let mut inner = self.lock();
        inner.broadcast(&Event::Team(info.clone()));
        if let Some(shell) = self.shell.get() {
            shell.team_changed(info);
        }
    }

    /// Follows the app: the receiver gets the current status at once, then every event in
    /// the order it happened. A receiver that falls [`WATCH_BACKLOG`] events behind is dropped.
    pub fn watch(&self) -> Receiver<Event> {
        let (tx, rx) = mpsc::sync_channel(WATCH_BACKLOG);
        let mut inner = self.lock();
        if tx.try_send(Event::Status(inner.status())).is_ok() {
            inner.watchers.push(tx);
        }
        rx
    }

    /// Sends an event (e.g. [`Event::Raise`]) to every watcher; returns how many there are.
    pub fn broadcast(&self, event: &Event) -> usize {
        self.lock().broadcast(event)
    }

    /// Notes that the app is alive (the app calls this every minute). After a crash, the next
    /// start logs the run's stop at the last heartbeat, so the summary counts the run up to
    /// then instead of only up to its last switch.
    pub fn heartbeat(&self) -> Result<()> {
        let mut inner = self.lock();
        let now = self.mind_the_gap(&mut inner);
        inner.store.facts().set_alive(now)
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

mod desktop;
mod gap;
mod inner;
mod notify;
mod shell;
#[cfg(test)]
mod tests;

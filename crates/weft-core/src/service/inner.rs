//! What the dispatcher's lock guards: the store's writing connection, the state machine, the
//! watchers and the figures a status needs, with the steps a switch or a notification takes
//! while that lock is held.

use super::gap;
use crate::hold;
use crate::machine::Machine;
use crate::store::{AppEvent, NewNotification, ReleaseReason, Released, Store};
use crate::time::Deadline;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use std::sync::mpsc::{SyncSender, TrySendError};
use weft_proto::{DesktopPart, Disposition, Event, Status, Urgency};

/// Events a watcher may fall behind by before it is dropped (its connection then ends).
pub(super) const WATCH_BACKLOG: usize = 64;

pub(super) struct Inner {
    pub(super) store: Store,
    pub(super) machine: Machine,
    pub(super) watchers: Vec<SyncSender<Event>>,
    /// Mirrors the store's held count, so a status costs no query.
    pub(super) held: u32,
    /// The optional desktop parts not working now (see `Weft::set_degraded`), sorted.
    pub(super) degraded: Vec<DesktopPart>,
    /// The hotkey in effect (see `Weft::set_hotkey`).
    pub(super) hotkey: Option<String>,
    /// Whether the desktop can change it (see `Weft::set_hotkey_changeable`).
    pub(super) hotkey_changeable: bool,
    /// Wall-clock time that did not pass at the desk (see `gap.rs`).
    pub(super) gaps: gap::Gaps,
    /// How other apps' notifications are filed (see `desktop.rs`).
    pub(super) desktop: super::DesktopPolicy,
}

impl Inner {
    pub(super) fn status(&self) -> Status {
        Status {
            degraded: self.degraded.clone(),
            hotkey: self.hotkey.clone(),
            hotkey_changeable: self.hotkey_changeable,
            ..self.machine.status(self.held)
        }
    }

    /// Files one of Weft's own notes, shown at once even on a silenced desktop (it is what the
    /// person asked for, not an interruption).
    pub(super) fn file_note(&mut self, now: DateTime<Utc>, title: &str, body: &str) -> Result<()> {
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
                desktop: None,
            })
            .map(drop)
    }

    /// Releases every held item, with a digest if any `normal` one was held.
    pub(super) fn release(
        &mut self,
        now: DateTime<Utc>,
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
    pub(super) fn broadcast(&mut self, event: &Event) -> usize {
        self.broadcast_skippable(event, matches!(event, Event::Team(_)))
    }

    /// [`Inner::broadcast`], with `skippable` saying whether a watcher that is behind may miss
    /// this event (the next one of its kind carries everything it says).
    pub(super) fn broadcast_skippable(&mut self, event: &Event, skippable: bool) -> usize {
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

/// If the last run ended without a stop (a crash), logs its stop at its last heartbeat.
pub(super) fn close_crashed_run(store: &mut Store) -> Result<()> {
    let Some((started, AppEvent::Start)) = store.last_app_event()? else {
        return Ok(());
    };
    if let Some(alive) = store.facts().alive()?.filter(|alive| *alive > started) {
        store.record_app_event(AppEvent::Stop, alive)?;
        log::info!(
            "the last run ended without a stop; its last heartbeat was {}",
            weft_proto::time::format(alive)
        );
    }
    Ok(())
}

/// Refuses to start a change whose sender has stopped waiting.
pub(super) fn not_expired(deadline: Option<Deadline>) -> Result<()> {
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

/// SQLite's busy handler sleeps in steps of up to this long, and gives up when the next step
/// would pass its timeout: a wait bounded by a deadline may end this much before it.
const BUSY_STEP: std::time::Duration = std::time::Duration::from_millis(100);

/// A write that failed because its deadline ran out while it waited for a lock is reported as
/// expired (its sender has gone), not as a storage fault. A lock still held when SQLite gave up
/// waiting, with less than one of its sleeps left before the deadline, is that case too.
pub(super) fn expired_instead(e: Error, deadline: Option<Deadline>) -> Error {
    let Some(deadline) = deadline else {
        return e;
    };
    let late_ms = deadline.passed_by_ms();
    let ran_out = late_ms.is_some() || (e.is_busy() && deadline.left() <= BUSY_STEP);
    if ran_out && e.storage_hint().is_some() {
        Error::Expired {
            late_ms: late_ms.unwrap_or(0),
        }
    } else {
        e
    }
}

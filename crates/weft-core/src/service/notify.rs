//! Notifications through the dispatcher: filed by the hold policy, released as a digest,
//! handed to the desktop as owed popups, and listed in the Inbox.

use super::inner::{expired_instead, not_expired};
use super::Weft;
use crate::hold;
use crate::store::{NewNotification, Popup, PopupKey, ReleaseReason};
use crate::time::Deadline;
use crate::Result;
use weft_proto::{DesktopPart, Disposition, InboxItem, NotifyOutcome, State, Urgency, View};

/// How many delivered or released notifications the Inbox lists besides the held ones.
pub const INBOX_RECENT: u32 = 50;

/// A notification as it arrives, before the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming<'a> {
    pub title: &'a str,
    pub body: Option<&'a str>,
    pub urgency: Urgency,
    pub from: Option<&'a str>,
    /// The window view a click on it opens.
    pub opens: Option<View>,
    /// A teammate's ping: its key, so a ping relayed twice is filed once.
    pub ping: Option<&'a str>,
}

impl Weft {
    /// Files a notification by the hold policy. Returns once it is committed.
    ///
    /// # Errors
    /// [`Error::Refused`](crate::Error::Refused) when the policy refuses it as it is (no
    /// title, a text too long); a storage error when it could not be committed.
    pub fn notify(&self, incoming: &Incoming<'_>) -> Result<NotifyOutcome> {
        self.notify_within(incoming, None)
    }

    /// Files a notification whose sender waits only until `deadline`: committed before it, or
    /// not at all ([`Error::Expired`](crate::Error::Expired)).
    pub(crate) fn notify_within(
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
            desktop: None,
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
                && inner.degraded.contains(&DesktopPart::Notifications),
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

    /// Held notifications, then the most recent others.
    pub fn inbox(&self) -> Result<Vec<InboxItem>> {
        self.read(|store| store.inbox(INBOX_RECENT))
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
}

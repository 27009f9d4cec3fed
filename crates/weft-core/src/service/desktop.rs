//! Other apps' notifications, seen on the desktop (the session bus's `Notify` calls), filed
//! through the hold policy: held during focus, broken through when critical or from an app in
//! `[apps] always`, recorded as delivered in coordination (the desktop showed them, so Weft owes
//! no popup), not filed at all from an app in `[apps] ignore`. A `transient` one is counted,
//! not kept; one whose `replaces_id` names a stored one from the same app updates it. Like
//! [`Weft::notify`], each is committed before [`Weft::observe`] returns.

use super::inner::{expired_instead, not_expired};
use super::Weft;
use crate::config::{Apps, Capture, Config};
use crate::hold::{self, clean_observed};
use crate::store::{DesktopOrigin, NewNotification};
use crate::time::Deadline;
use crate::Result;
use chrono::{DateTime, Utc};
use weft_proto::{Disposition, Urgency};

/// Another app's notification as the desktop's bus carried it (no D-Bus types: the monitor
/// turns a `Notify` call and its reply into this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// `app_name`, or the sending process's name when that was empty.
    pub app: String,
    /// `summary`.
    pub title: String,
    /// `body` as sent, markup and all: the core removes the markup and cuts it.
    pub body: String,
    /// The `urgency` hint (normal when absent).
    pub urgency: Urgency,
    /// The `transient` hint: counted, not kept.
    pub transient: bool,
    /// `replaces_id`: 0 for a new notification, else the server's id of the one it updates.
    pub replaces_id: u32,
    /// The id the server assigned (from its reply), when the reply was seen.
    pub server_id: Option<u32>,
    /// When it was seen.
    pub at: DateTime<Utc>,
}

/// How Weft files other apps' notifications: the part of the config the dispatcher needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopPolicy {
    pub capture: Capture,
    pub apps: Apps,
    /// The desktop's popups are silent (Weft silenced them during focus), so a break-through
    /// (critical, or an `[apps] always` app) is shown again by Weft itself; otherwise the
    /// desktop showed it and a copy would show it twice. Starts false; the app's quiet worker
    /// sets it when it has silenced the desktop ([`Weft::set_desktop_silenced`]).
    pub copies: bool,
}

/// The config's defaults: everything kept, no apps named, and no copies until the desktop is
/// silenced.
impl Default for DesktopPolicy {
    fn default() -> DesktopPolicy {
        DesktopPolicy::from_config(&Config::default())
    }
}

impl DesktopPolicy {
    /// The policy a config asks for.
    pub fn from_config(config: &Config) -> DesktopPolicy {
        DesktopPolicy {
            capture: config.desktop_capture,
            apps: config.apps.clone(),
            // Silent only once the quiet worker says it silenced the desktop.
            copies: false,
        }
    }
}

/// What [`Weft::observe`] did with a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// Not filed: capture is off, or the app is in `[apps] ignore`.
    NotFiled,
    /// A transient notification: counted (app, time, disposition), not kept.
    Counted(Disposition),
    /// An Inbox item: a new one, or (`replaced`) the stored one it updates.
    Filed {
        id: i64,
        disposition: Disposition,
        replaced: bool,
    },
}

impl Weft {
    /// The server ids of other apps' notifications seen at or after `since` (the start of
    /// the focus block that just ended): what to close on the server before the desktop's
    /// setting is given back, so it does not replay them (`desktop_replay = "digest"`).
    pub fn desktop_ids_since(&self, since: DateTime<Utc>) -> Result<Vec<u32>> {
        self.read(|store| store.desktop_ids_since(since))
    }

    /// The desktop's popups are silent now (Weft silenced them, or found them silent), or show
    /// again: another app's break-through is shown again by Weft only while they are silent.
    pub fn set_desktop_silenced(&self, silent: bool) {
        self.lock().desktop.copies = silent;
    }

    /// Sets how other apps' notifications are filed (from the config; the default keeps
    /// everything and names no apps).
    pub fn set_desktop_policy(&self, policy: DesktopPolicy) {
        self.lock().desktop = policy;
    }

    /// Files another app's notification by the hold policy. Returns once it is committed.
    ///
    /// # Errors
    /// A storage error when it could not be committed.
    pub fn observe(&self, observed: &Observed) -> Result<Observation> {
        self.observe_within(observed, None)
    }

    /// [`Weft::observe`], committed before `deadline` or not at all
    /// ([`Error::Expired`](crate::Error::Expired)).
    pub(crate) fn observe_within(
        &self,
        observed: &Observed,
        deadline: Option<Deadline>,
    ) -> Result<Observation> {
        let clean = clean_observed(&observed.app, &observed.title, &observed.body);
        let mut inner = self.lock();
        not_expired(deadline)?;
        let capture = inner.desktop.capture;
        if capture == Capture::Off {
            return Ok(Observation::NotFiled);
        }
        let rule = inner.desktop.apps.rule(&clean.app);
        let Some(disposition) =
            hold::decide_observed(inner.machine.state(), observed.urgency, rule)
        else {
            return Ok(Observation::NotFiled);
        };
        let limit = deadline.map(Deadline::left);
        let origin = DesktopOrigin {
            app: &clean.app,
            server_id: observed.server_id,
            copy: inner.desktop.copies,
        };
        if observed.transient {
            inner
                .store
                .within(limit, |store| {
                    store.record_transient(observed.at, origin, disposition)
                })
                .map_err(|e| expired_instead(e, deadline))?;
            log::debug!("a transient notification from {}: counted", clean.app);
            return Ok(Observation::Counted(disposition));
        }
        let (title, body) = match capture {
            Capture::Count => ("", ""),
            Capture::Full | Capture::Off => (clean.title.as_str(), clean.body.as_str()),
        };
        let filed = NewNotification {
            received: observed.at,
            title,
            body,
            urgency: observed.urgency,
            from: None,
            disposition,
            shows_in_focus: false,
            opens: None,
            ping: None,
            desktop: Some(origin),
        };
        let replaces = observed.replaces_id;
        let (id, was_held) = inner
            .store
            .within(limit, |store| {
                let replaced = match replaces {
                    0 => None,
                    replaces => store.replace_desktop(replaces, &filed)?,
                };
                match replaced {
                    Some(r) => Ok((r.id, Some(r.was_held))),
                    None => store.record_notification(&filed).map(|id| (id, None)),
                }
            })
            .map_err(|e| expired_instead(e, deadline))?;
        let held_before = u32::from(was_held == Some(true));
        let held_now = u32::from(disposition == Disposition::Held);
        if held_now != held_before {
            inner.held = (inner.held + held_now).saturating_sub(held_before);
            self.announce(&mut inner, false);
        }
        if disposition == Disposition::BreakThrough && origin.copy {
            if let Some(shell) = self.shell.get() {
                shell.popups_owed();
            }
        }
        log::debug!(
            "notification {id} from {}: {}{}",
            clean.app,
            disposition.as_str(),
            if was_held.is_some() {
                " (replaced)"
            } else {
                ""
            }
        );
        Ok(Observation::Filed {
            id,
            disposition,
            replaced: was_held.is_some(),
        })
    }
}

#[cfg(test)]
mod tests;

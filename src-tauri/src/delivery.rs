//! Delivers owed popups (notifications shown at once, digests) to the desktop with notify-rust,
//! on a worker thread of its own: a missing or hung notification server never delays a switch.
//!
//! A popup stays owed in the store until the desktop takes it. Each attempt is bounded by
//! [`SHOW_TIMEOUT`]; a failed one is retried with backoff (at most [`MAX_BACKOFF`] apart), so
//! items reach a notification daemon soon after one appears. An attempt that timed out but
//! then succeeded is recorded as shown (never shown twice). A popup still owed after
//! [`GIVE_UP_AFTER`] is no longer pushed; it stays in the Inbox.
//!
//! After each pass the worker tells [`Health`] whether popups are failing (an attempt failed
//! and popups are still owed), which lists `notifications` as degraded until one is shown; when
//! a notification server appears, every owed popup is retried at once, backoffs forgotten.

use crate::degraded::Health;
use crate::quiet::Quiet;
use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};
use weft_core::service::Weft;
use weft_core::store::{Popup, PopupKey};
use weft_proto::Urgency;

/// How long one popup may take before the server counts as hung (the item stays owed).
pub const SHOW_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest wait between two attempts at one popup.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A popup owed longer than this is left to the Inbox.
pub const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::hours(24);

/// The quiet worker, once it runs: lifted around popups that must show during focus.
pub type QuietSlot = Arc<OnceLock<Quiet>>;

/// Opens a window view ("today") when a popup that names one is clicked.
pub type OpenView = Arc<dyn Fn(weft_proto::View) + Send + Sync>;

/// Starts the worker and wakes it once, for popups owed from an earlier run. A message on the
/// returned sender says "popups are owed".
pub fn start(weft: &Arc<Weft>, open_view: OpenView, health: Health) -> (Sender<()>, QuietSlot) {
    let (tx, rx) = mpsc::channel();
    let quiet: QuietSlot = Arc::new(OnceLock::new());
    let worker = Worker {
        weft: Arc::downgrade(weft),
        quiet: quiet.clone(),
        open_view,
        retry_at: HashMap::new(),
        in_flight: None,
        server_seen: health.server_generation(),
        failing: None,
        health,
    };
    let spawned = std::thread::Builder::new()
        .name("weft-delivery".into())
        .spawn(move || worker.run(&rx));
    if let Err(e) = spawned {
        log::error!("cannot start the notification delivery thread: {e}");
    }
    let _ = tx.send(());
    (tx, quiet)
}

/// An attempt that timed out and may still answer.
struct InFlight {
    key: PopupKey,
    answer: Receiver<Result<(), String>>,
}

struct Worker {
    weft: Weak<Weft>,
    quiet: QuietSlot,
    open_view: OpenView,
    retry_at: HashMap<PopupKey, Instant>,
    in_flight: Option<InFlight>,
    health: Health,
    /// The [`Health::server_generation`] the backoffs were computed under.
    server_seen: u64,
    /// Why the last attempt failed, while popups are still owed.
    failing: Option<String>,
}

/// The key under which a failed read of the store waits for its retry.
const STORE_RETRY: PopupKey = PopupKey::Notification(i64::MIN);

impl Worker {
    fn run(mut self, wake: &Receiver<()>) {
        loop {
            let Some(weft) = self.weft.upgrade() else {
                return;
            };
            let server = self.health.server_generation();
            if server != self.server_seen {
                // A notification server appeared: what failed before may work now.
                self.server_seen = server;
                self.retry_at.clear();
            }
            self.pass(&weft);
            drop(weft);
            self.report();
            let next = self.retry_at.values().min().copied();
            let woke = match next {
                Some(at) => wake.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => wake.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            if let Err(RecvTimeoutError::Disconnected) = woke {
                return;
            }
            // Coalesce a burst of wake-ups into one pass.
            while wake.try_recv().is_ok() {}
        }
    }

    /// One pass over the owed popups.
    fn pass(&mut self, weft: &Weft) {
        // A timed-out attempt: one at a time, and its late answer counts.
        if let Some(flight) = &self.in_flight {
            match flight.answer.try_recv() {
                Err(TryRecvError::Empty) => {
                    self.retry_at
                        .insert(flight.key, Instant::now() + Duration::from_secs(1));
                    return;
                }
                Ok(Ok(())) => {
                    log::info!("a popup that timed out was shown after all");
                    if let Err(e) = weft.popup_shown(flight.key) {
                        log::error!("a popup was shown but not recorded: {e}");
                    }
                }
                Ok(Err(_)) | Err(TryRecvError::Disconnected) => {}
            }
            self.in_flight = None;
        }
        let owed = match weft.owed_popups() {
            Ok(owed) => owed,
            Err(e) => {
                log::error!("cannot read owed popups: {e}; trying again shortly");
                self.retry_at.clear();
                self.retry_at
                    .insert(STORE_RETRY, Instant::now() + Duration::from_secs(5));
                return;
            }
        };
        self.retry_at
            .retain(|key, _| owed.iter().any(|p| p.key == *key));
        let now = Instant::now();
        let oldest_kept = chrono::Utc::now() - GIVE_UP_AFTER;
        for popup in &owed {
            if self.retry_at.get(&popup.key).is_some_and(|at| *at > now) {
                continue;
            }
            if popup.created < oldest_kept {
                log::warn!(
                    "gave up showing a popup owed for more than a day: {}",
                    popup.summary
                );
                if let Err(e) = weft.popup_given_up(popup.key, "owed for more than a day") {
                    log::error!("{e}");
                }
                continue;
            }
            match self.show(popup) {
                Ok(()) => {
                    self.retry_at.remove(&popup.key);
                    self.failing = None;
                    if let Err(e) = weft.popup_shown(popup.key) {
                        log::error!("a popup was shown but not recorded: {e}");
                    }
                }
                Err(Failure { message, pending }) => {
                    if popup.attempts % 10 == 0 {
                        log::warn!(
                            "a notification could not be shown ({message}); is a notification daemon running? It stays owed and is retried."
                        );
                    } else {
                        log::debug!("popup attempt {} failed: {message}", popup.attempts + 1);
                    }
                    if let Err(e) = weft.popup_failed(popup.key, &message) {
                        log::error!("cannot record the failed popup: {e}");
                    }
                    self.failing = Some(message);
                    let backoff = Duration::from_millis(500 * 2u64.pow(popup.attempts.min(8)))
                        .min(MAX_BACKOFF);
                    self.retry_at.insert(popup.key, Instant::now() + backoff);
                    if let Some(answer) = pending {
                        self.in_flight = Some(InFlight {
                            key: popup.key,
                            answer,
                        });
                        return;
                    }
                }
            }
        }
    }

    /// Tells [`Health`] whether popups are failing: an attempt failed and some are still
    /// owed (waiting for a retry or for a late answer).
    fn report(&mut self) {
        let waiting = self.in_flight.is_some() || self.retry_at.keys().any(|k| *k != STORE_RETRY);
        if !waiting {
            self.failing = None;
        }
        self.health.popups_failing(self.failing.clone());
    }

    fn show(&self, popup: &Popup) -> Result<(), Failure> {
        let quiet = self.quiet.get().filter(|_| popup.breaks_focus);
        if let Some(quiet) = quiet {
            quiet.lift();
        }
        let shown = show_bounded(popup, &self.open_view);
        if let Some(quiet) = quiet {
            quiet.relift();
        }
        shown
    }
}

struct Failure {
    message: String,
    /// The helper thread of a timed-out attempt, still waiting on D-Bus.
    pending: Option<Receiver<Result<(), String>>>,
}

/// Bodies are plain text, but servers that support body markup (GNOME, dunst) would read
/// `<b>` or `<a href>` in a teammate's ping as markup: escape the three characters it uses.
fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn show_bounded(popup: &Popup, open_view: &OpenView) -> Result<(), Failure> {
    let (tx, rx) = mpsc::sync_channel(1);
    let summary = popup.summary.clone();
    let body = popup.body.clone();
    let opens = popup.opens;
    let open_view = open_view.clone();
    let urgency = match popup.urgency {
        Urgency::Low => notify_rust::Urgency::Low,
        Urgency::Normal => notify_rust::Urgency::Normal,
        Urgency::Critical => notify_rust::Urgency::Critical,
    };
    let spawned = std::thread::Builder::new()
        .name("weft-notify".into())
        .spawn(move || {
            let mut notification = notify_rust::Notification::new();
            notification
                .appname("Weft")
                .hint(crate::monitor::own_hint())
                .summary(&summary)
                .body(&escape_markup(&body))
                .urgency(urgency);
            if opens.is_some() {
                notification.action("default", "Open");
            }
            match notification.show() {
                Ok(handle) => {
                    let _ = tx.send(Ok(()));
                    // A popup that opens a view waits (on this thread) for its click.
                    if let Some(view) = opens {
                        handle.wait_for_action(|action| {
                            if action == "default" {
                                open_view(view);
                            }
                        });
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
        });
    if let Err(e) = spawned {
        return Err(Failure {
            message: format!("cannot start a thread: {e}"),
            pending: None,
        });
    }
    match rx.recv_timeout(SHOW_TIMEOUT) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(message)) => Err(Failure {
            message,
            pending: None,
        }),
        Err(_) => Err(Failure {
            message: format!(
                "the notification server did not answer within {} s",
                SHOW_TIMEOUT.as_secs()
            ),
            pending: Some(rx),
        }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_in_a_body_is_shown_not_obeyed() {
        assert_eq!(
            super::escape_markup("<b>fire</b> & <a href=\"x\">go</a>"),
            "&lt;b&gt;fire&lt;/b&gt; &amp; &lt;a href=\"x\"&gt;go&lt;/a&gt;"
        );
    }
}

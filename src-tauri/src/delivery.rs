//! Delivers owed popups (notifications shown at once, digests) to the desktop with notify-rust,
//! on a worker thread of its own: a missing or hung notification server never delays a switch.
//!
//! A popup stays owed in the store until the desktop takes it. Each attempt is bounded by
//! [`SHOW_TIMEOUT`]; a failed one is retried with backoff (at most [`MAX_BACKOFF`] apart), so
//! items reach a notification daemon soon after one appears. Nothing is dropped.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use weft_core::service::Weft;
use weft_core::store::{Popup, PopupKey};
use weft_proto::Urgency;

/// How long one popup may take before the server counts as hung (the item stays owed).
pub const SHOW_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest wait between two attempts at one popup.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Starts the worker; a message on the returned sender says "popups are owed".
pub fn spawn(weft: Weak<Weft>) -> Sender<()> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("weft-delivery".into())
        .spawn(move || run(&weft, &rx));
    if let Err(e) = spawned {
        log::error!("cannot start the notification delivery thread: {e}");
    }
    tx
}

fn run(weft: &Weak<Weft>, wake: &Receiver<()>) {
    let mut retry_at: HashMap<PopupKey, Instant> = HashMap::new();
    // A show() that timed out may still be blocked inside D-Bus; one at a time.
    let mut in_flight: Option<Receiver<Result<(), String>>> = None;
    loop {
        let Some(weft) = weft.upgrade() else { return };
        let owed = match weft.owed_popups() {
            Ok(owed) => owed,
            Err(e) => {
                log::error!("cannot read owed popups: {e}");
                Vec::new()
            }
        };
        retry_at.retain(|key, _| owed.iter().any(|p| p.key == *key));
        let now = Instant::now();
        for popup in &owed {
            if retry_at.get(&popup.key).is_some_and(|at| *at > now) {
                continue;
            }
            if let Some(stuck) = &in_flight {
                if let Err(mpsc::TryRecvError::Empty) = stuck.try_recv() {
                    retry_at.insert(popup.key, now + Duration::from_secs(1));
                    continue;
                }
                in_flight = None;
            }
            match show_bounded(popup) {
                Ok(()) => {
                    retry_at.remove(&popup.key);
                    if let Err(e) = weft.popup_shown(popup.key) {
                        log::error!("a popup was shown but not recorded: {e}");
                    }
                }
                Err(Failure { message, pending }) => {
                    in_flight = pending;
                    log::warn!(
                        "a notification could not be shown ({message}); is a notification daemon running? It stays owed and is retried."
                    );
                    if let Err(e) = weft.popup_failed(popup.key, &message) {
                        log::error!("cannot record the failed popup: {e}");
                    }
                    let backoff = Duration::from_millis(500 * 2u64.pow(popup.attempts.min(8)))
                        .min(MAX_BACKOFF);
                    retry_at.insert(popup.key, Instant::now() + backoff);
                }
            }
        }
        drop(weft);
        let next = retry_at.values().min().copied();
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

struct Failure {
    message: String,
    /// The helper thread of a timed-out attempt, still waiting on D-Bus.
    pending: Option<Receiver<Result<(), String>>>,
}

fn show_bounded(popup: &Popup) -> Result<(), Failure> {
    let (tx, rx) = mpsc::sync_channel(1);
    let summary = popup.summary.clone();
    let body = popup.body.clone();
    let urgency = match popup.urgency {
        Urgency::Low => notify_rust::Urgency::Low,
        Urgency::Normal => notify_rust::Urgency::Normal,
        Urgency::Critical => notify_rust::Urgency::Critical,
    };
    let spawned = std::thread::Builder::new()
        .name("weft-notify".into())
        .spawn(move || {
            let shown = notify_rust::Notification::new()
                .appname("Weft")
                .summary(&summary)
                .body(&body)
                .urgency(urgency)
                .show()
                .map(drop)
                .map_err(|e| e.to_string());
            let _ = tx.send(shown);
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

/// Starts the worker and wakes it once, for popups owed from an earlier run.
pub fn start(weft: &Arc<Weft>) -> Sender<()> {
    let wake = spawn(Arc::downgrade(weft));
    let _ = wake.send(());
    wake
}

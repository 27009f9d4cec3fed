//! Weft's own notices (a config problem, a log that had to be set aside, a hotkey that is
//! taken). Each one is logged, listed in the tray menu, and sent as a desktop notification
//! from a worker thread: notify-rust blocks on D-Bus (25 s with a hung daemon), so it never
//! runs on the path of a switch, and a missing daemon only costs a log line.

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The notices of this run.
#[derive(Default, Clone)]
pub struct Notices {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    lines: Vec<String>,
    undelivered: Vec<String>,
}

impl Notices {
    /// Records a notice; it is delivered by [`Notices::deliver_pending`].
    pub fn add(&self, text: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.lines.push(text.to_owned());
        inner.undelivered.push(text.to_owned());
    }

    /// Every notice so far, for the tray menu.
    pub fn lines(&self) -> Vec<String> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .lines
            .clone()
    }

    /// Hands undelivered notices to the desktop-notification worker.
    pub fn deliver_pending(&self) {
        let pending = std::mem::take(
            &mut self
                .inner
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .undelivered,
        );
        for text in pending {
            send_desktop_notification(text);
        }
    }
}

fn worker() -> Option<&'static Sender<String>> {
    static WORKER: OnceLock<Option<Sender<String>>> = OnceLock::new();
    WORKER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<String>();
            std::thread::Builder::new()
                .name("weft-notices".into())
                .spawn(move || {
                    for body in rx {
                        show(&body);
                    }
                })
                .map_err(|e| log::error!("cannot start the notice worker: {e}"))
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

fn send_desktop_notification(body: String) {
    if let Some(tx) = worker() {
        let _ = tx.send(body);
    }
}

fn show(body: &str) -> bool {
    let result = notify_rust::Notification::new()
        .appname("Weft")
        .summary("Weft")
        .body(body)
        .show();
    match result {
        Ok(_) => true,
        Err(e) => {
            log::warn!(
                "a desktop notice could not be shown ({e}); is a notification daemon running? The notice: {body}"
            );
            false
        }
    }
}

/// Best effort for an error that stops the app: a desktop notification, waited on for at
/// most three seconds (the message is on stderr already).
pub fn fatal(message: &str) {
    let body = format!("Weft could not start: {message}");
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("weft-fatal-notice".into())
        .spawn(move || {
            let _ = tx.send(show(&body));
        });
    if spawned.is_ok() {
        let _ = rx.recv_timeout(Duration::from_secs(3));
    }
}

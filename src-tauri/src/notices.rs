//! Weft's own notices (a config problem, a log that had to be set aside, a hotkey that is
//! taken, an optional desktop part that does not work). Each one is logged where it is raised, listed in the tray menu, and filed as a notification through
//! the hold policy like any other, so it is delivered, held or retried by the same rules.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft_core::service::{Incoming, Weft};
use weft_proto::Urgency;

/// The notices of this run.
#[derive(Default, Clone)]
pub struct Notices {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    lines: Vec<String>,
    unfiled: Vec<String>,
}

impl Notices {
    /// Records a notice; it is filed by [`Notices::file_pending`].
    pub fn add(&self, text: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.lines.push(text.to_owned());
        inner.unfiled.push(text.to_owned());
    }

    /// Lists a line in the tray menu without filing it as a notification.
    pub fn add_to_menu(&self, text: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if !inner.lines.iter().any(|l| l == text) {
            inner.lines.push(text.to_owned());
        }
    }

    /// Takes a line off the tray menu (what it said is no longer true).
    pub fn remove_from_menu(&self, text: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.lines.retain(|l| l != text);
    }

    /// Every notice so far, for the tray menu.
    pub fn lines(&self) -> Vec<String> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .lines
            .clone()
    }

    /// Files the notices not yet filed as notifications.
    pub fn file_pending(&self, weft: &Weft) {
        let pending =
            std::mem::take(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()).unfiled);
        for text in pending {
            let incoming = Incoming {
                title: "Weft",
                body: Some(&text),
                urgency: Urgency::Normal,
                from: None,
                opens: None,
                ping: None,
            };
            if let Err(e) = weft.notify(&incoming) {
                log::error!("could not file a notice ({e}): {text}");
            }
        }
    }
}

/// Best effort for an error that stops the app (there is no store to file it in): a desktop
/// notification, waited on for at most three seconds. The message is on stderr already.
pub fn fatal(message: &str) {
    if let Some(shown) = popup(format!("Weft could not start: {message}")) {
        let _ = shown.recv_timeout(Duration::from_secs(3));
    }
}

/// A popup straight to the desktop, for what the store cannot file because it is the store
/// that fails (a switch waiting for a locked database). Best effort, on a thread of its own so
/// the caller never waits on D-Bus; a failure is only logged.
pub fn show_now(body: &str) {
    popup(body.to_owned());
}

/// Shows `body` on the desktop from a thread of its own (notify-rust blocks on D-Bus); the
/// receiver hears when it was shown or failed, `None` when the thread could not start.
fn popup(body: String) -> Option<mpsc::Receiver<()>> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("weft-direct-notice".into())
        .spawn(move || {
            let shown = notify_rust::Notification::new()
                .appname("Weft")
                .hint(crate::monitor::own_hint())
                .summary("Weft")
                .body(&body)
                .show();
            if let Err(e) = shown {
                log::warn!("could not show a notice on the desktop ({e}): {body}");
            }
            let _ = tx.send(());
        });
    match spawned {
        Ok(_) => Some(rx),
        Err(e) => {
            log::warn!("could not start the notice thread: {e}");
            None
        }
    }
}

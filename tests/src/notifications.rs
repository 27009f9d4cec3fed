//! A notification server that records every `Notify` call: what a desktop's notification daemon
//! would show as a popup.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use zbus::zvariant::OwnedValue;

/// One notification the app sent.
#[derive(Debug, Clone)]
pub struct Captured {
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub urgency: Option<u8>,
    pub at: Instant,
}

#[derive(Default, Clone)]
struct Log {
    calls: Arc<Mutex<Vec<Captured>>>,
    inhibitions: Arc<Mutex<Vec<Inhibition>>>,
}

/// A call to KDE's `Inhibit` (with the cookie handed out) or `UnInhibit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inhibition {
    Inhibit(u32),
    UnInhibit(u32),
}

struct Server {
    log: Log,
    /// The name `GetServerInformation` reports ("dunst", "gnome-shell", "Plasma", ...).
    name: String,
    /// Never answer `Notify` (a hung notification daemon).
    hang: bool,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        _replaces_id: u32,
        _app_icon: &str,
        summary: &str,
        body: &str,
        _actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        if self.hang {
            // Blocks this connection's executor: the caller gets no answer.
            std::thread::sleep(std::time::Duration::from_secs(120));
        }
        let urgency = hints.get("urgency").and_then(|v| u8::try_from(v).ok());
        let Ok(mut calls) = self.log.calls.lock() else {
            return 0;
        };
        calls.push(Captured {
            app_name: app_name.to_owned(),
            summary: summary.to_owned(),
            body: body.to_owned(),
            urgency,
            at: Instant::now(),
        });
        calls.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (self.name.clone(), "weft".into(), "1.0".into(), "1.2".into())
    }

    /// KDE Plasma's do-not-disturb request.
    fn inhibit(
        &self,
        _desktop_entry: &str,
        _reason: &str,
        _hints: HashMap<String, OwnedValue>,
    ) -> u32 {
        let Ok(mut inhibitions) = self.log.inhibitions.lock() else {
            return 0;
        };
        let cookie = 41 + inhibitions.len() as u32;
        inhibitions.push(Inhibition::Inhibit(cookie));
        cookie
    }

    fn un_inhibit(&self, cookie: u32) {
        if let Ok(mut inhibitions) = self.log.inhibitions.lock() {
            inhibitions.push(Inhibition::UnInhibit(cookie));
        }
    }

    fn close_notification(&self, _id: u32) {}
}

/// The capture server, owning `org.freedesktop.Notifications` for as long as it lives.
pub struct NotificationCapture {
    log: Log,
    _conn: zbus::blocking::Connection,
}

impl NotificationCapture {
    pub fn start(bus_address: &str) -> anyhow::Result<NotificationCapture> {
        NotificationCapture::serve(bus_address, false, "weft-capture")
    }

    /// A server that takes the name but never answers `Notify`.
    pub fn start_hanging(bus_address: &str) -> anyhow::Result<NotificationCapture> {
        NotificationCapture::serve(bus_address, true, "weft-capture")
    }

    /// A server that says it is `name` (e.g. "gnome-shell" or "Plasma").
    pub fn start_as(bus_address: &str, name: &str) -> anyhow::Result<NotificationCapture> {
        NotificationCapture::serve(bus_address, false, name)
    }

    /// KDE inhibitions asked for and released, in order.
    pub fn inhibitions(&self) -> Vec<Inhibition> {
        self.log
            .inhibitions
            .lock()
            .map(|i| i.clone())
            .unwrap_or_default()
    }

    fn serve(bus_address: &str, hang: bool, name: &str) -> anyhow::Result<NotificationCapture> {
        let log = Log::default();
        let conn = zbus::blocking::connection::Builder::address(bus_address)?
            .serve_at(
                "/org/freedesktop/Notifications",
                Server {
                    log: log.clone(),
                    name: name.to_owned(),
                    hang,
                },
            )?
            .name("org.freedesktop.Notifications")?
            .build()?;
        Ok(NotificationCapture { log, _conn: conn })
    }

    /// Every notification received so far.
    pub fn received(&self) -> Vec<Captured> {
        self.log.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

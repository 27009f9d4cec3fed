//! Other apps on the test desktop: a `Notify` call sent the way Slack or a mail client sends
//! one (from a process that is not Weft, with `gdbus`), and what the bus says about monitors,
//! so a test can tell whether Weft is watching; and reading what Weft filed (its Inbox, what it
//! showed, its database).

use crate::notifications::NotificationCapture;
use crate::{wait_for, App, Desktop};
use anyhow::Context;
use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;
use zbus::zvariant::OwnedValue;

/// How long a notification may take to be filed, or the bus to settle (it bounds a hang).
const FILED: Duration = Duration::from_secs(30);

/// A notification as an app sends it (freedesktop Desktop Notifications `Notify`).
#[derive(Debug, Clone)]
pub struct AppNotification {
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub replaces_id: u32,
    /// The `urgency` hint: 0 low, 1 normal, 2 critical.
    pub urgency: u8,
    /// The `transient` hint.
    pub transient: bool,
    /// `expire_timeout` in milliseconds; 0 never expires.
    pub expire_timeout: i32,
}

impl AppNotification {
    /// A normal notification from `app_name`, titled `summary`, with no body.
    pub fn new(app_name: &str, summary: &str) -> AppNotification {
        AppNotification {
            app_name: app_name.to_owned(),
            summary: summary.to_owned(),
            body: String::new(),
            replaces_id: 0,
            urgency: 1,
            transient: false,
            expire_timeout: 5000,
        }
    }

    pub fn body(mut self, body: &str) -> AppNotification {
        self.body = body.to_owned();
        self
    }

    pub fn critical(mut self) -> AppNotification {
        self.urgency = 2;
        self
    }

    /// Updates the notification the server gave `id`.
    pub fn replacing(mut self, id: u32) -> AppNotification {
        self.replaces_id = id;
        self
    }

    pub fn transient(mut self) -> AppNotification {
        self.transient = true;
        self
    }

    /// Stays on screen until it is closed (`expire_timeout` 0).
    pub fn persistent(mut self) -> AppNotification {
        self.expire_timeout = 0;
        self
    }

    /// Sends it with `gdbus call` (its own process, as another app would) to whatever owns
    /// `org.freedesktop.Notifications` on `desktop`, and returns the id the server gave it.
    pub fn send(&self, desktop: &Desktop) -> anyhow::Result<u32> {
        let mut hints = format!("{{'urgency': <byte {}>", self.urgency);
        if self.transient {
            hints.push_str(", 'transient': <true>");
        }
        hints.push('}');
        let output = desktop
            .command("gdbus")
            .args([
                "call",
                "--session",
                "--timeout",
                "20",
                "--dest",
                "org.freedesktop.Notifications",
                "--object-path",
                "/org/freedesktop/Notifications",
                "--method",
                "org.freedesktop.Notifications.Notify",
            ])
            .arg(&self.app_name)
            .arg(self.replaces_id.to_string())
            .arg("")
            .arg(&self.summary)
            .arg(&self.body)
            .arg("[]")
            .arg(&hints)
            .arg(self.expire_timeout.to_string())
            .stdin(Stdio::null())
            .output()
            .context("cannot run gdbus")?;
        let printed = String::from_utf8_lossy(&output.stdout);
        anyhow::ensure!(
            output.status.success(),
            "gdbus Notify failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // `(uint32 7,)`
        printed
            .trim()
            .trim_start_matches("(uint32 ")
            .trim_end_matches(",)")
            .parse()
            .with_context(|| format!("no id in gdbus's answer {printed:?}"))
    }
}

impl AppNotification {
    /// Sends it over `bus`, a connection the caller keeps open (so the bus can still say
    /// which process sent it), and returns the id the server gave it.
    pub fn send_over(&self, bus: &zbus::blocking::Connection) -> anyhow::Result<u32> {
        let mut hints: HashMap<&str, zbus::zvariant::Value<'_>> = HashMap::new();
        hints.insert("urgency", self.urgency.into());
        if self.transient {
            hints.insert("transient", true.into());
        }
        let reply = bus.call_method(
            Some("org.freedesktop.Notifications"),
            "/org/freedesktop/Notifications",
            Some("org.freedesktop.Notifications"),
            "Notify",
            &(
                self.app_name.as_str(),
                self.replaces_id,
                "",
                self.summary.as_str(),
                self.body.as_str(),
                Vec::<&str>::new(),
                hints,
                self.expire_timeout,
            ),
        )?;
        Ok(reply.body().deserialize()?)
    }
}

/// How many connections on `desktop`'s bus are monitors: the bus's active connections
/// (`org.freedesktop.DBus.Debug.Stats`) less those with a unique name, since a connection
/// gives up its names when it becomes a monitor. `None` when a connection came or went while
/// counting (the unique names read before and after differ): ask again.
pub fn count_monitors(desktop: &Desktop) -> anyhow::Result<Option<u32>> {
    let bus = desktop.bus()?;
    let driver = zbus::blocking::fdo::DBusProxy::new(&bus)?;
    let unique = || -> anyhow::Result<Vec<String>> {
        let mut names: Vec<String> = driver
            .list_names()?
            .iter()
            .filter(|name| name.starts_with(':'))
            .map(|name| name.to_string())
            .collect();
        names.sort();
        Ok(names)
    };
    let before = unique()?;
    let stats: HashMap<String, OwnedValue> = bus
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus.Debug.Stats"),
            "GetStats",
            &(),
        )?
        .body()
        .deserialize()?;
    if unique()? != before {
        return Ok(None);
    }
    let active = stats
        .get("ActiveConnections")
        .and_then(|v| u32::try_from(v).ok())
        .context("the bus's stats have no ActiveConnections")?;
    Ok(Some(active.saturating_sub(u32::try_from(before.len())?)))
}

/// `weft inbox --json`, every item.
pub fn inbox(desktop: &Desktop) -> anyhow::Result<Vec<serde_json::Value>> {
    let json: serde_json::Value = serde_json::from_str(&desktop.weft_ok(&["inbox", "--json"])?)?;
    json.as_array()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the inbox is not a list: {json}"))
}

/// The Inbox items other apps sent.
pub fn from_apps(desktop: &Desktop) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(inbox(desktop)?
        .into_iter()
        .filter(|i| i["source"] == "desktop")
        .collect())
}

/// Waits until an Inbox item passes `test`, and returns the whole Inbox then.
pub fn inbox_once(
    desktop: &Desktop,
    what: &str,
    test: impl Fn(&serde_json::Value) -> bool,
) -> anyhow::Result<Vec<serde_json::Value>> {
    wait_for(what, FILED, || {
        let items = inbox(desktop).ok()?;
        items.iter().any(&test).then_some(items)
    })
}

/// Waits until `n` items from other apps are in the Inbox, and returns them.
pub fn apps_filed(desktop: &Desktop, n: usize) -> anyhow::Result<Vec<serde_json::Value>> {
    wait_for(&format!("{n} apps' notifications filed"), FILED, || {
        from_apps(desktop).ok().filter(|items| items.len() >= n)
    })
}

pub fn item<'a>(
    items: &'a [serde_json::Value],
    title: &str,
) -> anyhow::Result<&'a serde_json::Value> {
    items
        .iter()
        .find(|i| i["title"] == title)
        .ok_or_else(|| anyhow::anyhow!("no item {title:?} in {items:?}"))
}

/// What Weft itself showed (the apps' own calls reach the capture server too).
pub fn weft_popups(capture: &NotificationCapture) -> Vec<String> {
    capture
        .received()
        .into_iter()
        .filter(|n| n.app_name == "Weft")
        .map(|n| n.summary)
        .collect()
}

/// The database's files (with its write-ahead log), as text.
pub fn database_text(desktop: &Desktop) -> String {
    let mut stored = Vec::new();
    for suffix in ["", "-wal", "-journal"] {
        let mut path = desktop.database().into_os_string();
        path.push(suffix);
        if let Ok(bytes) = std::fs::read(&path) {
            stored.extend(bytes);
        }
    }
    String::from_utf8_lossy(&stored).into_owned()
}

/// The number of monitors on the bus, once a count was not disturbed by a connection coming
/// or going.
/// The held count `weft status --json` gives.
pub fn held(desktop: &Desktop) -> anyhow::Result<u64> {
    let json: serde_json::Value = serde_json::from_str(&desktop.weft_ok(&["status", "--json"])?)?;
    json["held"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no held count in {json}"))
}

/// Starts `weft-app` with `args` and waits until it serves and watches the bus: the monitor
/// is set up on a thread of its own after the app starts, and what is sent before it watches
/// is not seen. One monitor on the test's private bus is Weft's.
pub fn start_watching(desktop: &Desktop, args: &[&str]) -> anyhow::Result<App> {
    let app = App::start(desktop, args)?;
    app.wait_until_serving(FILED)?;
    wait_for("Weft to watch the bus", FILED, || {
        (count_monitors(desktop).ok().flatten() == Some(1)).then_some(())
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))?;
    Ok(app)
}

pub fn monitors(desktop: &Desktop) -> anyhow::Result<u32> {
    wait_for("a steady count of the bus's monitors", FILED, || {
        count_monitors(desktop).ok().flatten()
    })
}

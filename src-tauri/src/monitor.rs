//! Sees the notifications other apps send, without standing in their way: a session-bus
//! connection of its own becomes a monitor (`org.freedesktop.DBus.Monitoring.BecomeMonitor`) for
//! `Notify` calls to `org.freedesktop.Notifications` and for the server's replies and errors. The
//! server keeps receiving and answering everything; the monitor only reads, and after
//! `BecomeMonitor` its connection sends nothing (the bus would drop it).
//!
//! Each call becomes an [`Event::Observed`] at once; the server's reply, paired with the call by
//! (reply's `destination` == call's sender, `reply_serial` == call's serial), becomes
//! [`Event::Assigned`] with the id the server gave it (or [`Event::Rejected`]). Calls whose reply
//! never comes are forgotten after [`PENDING_TTL`] or past [`MAX_PENDING`]. Only replies from
//! the current owner of `org.freedesktop.Notifications` are asked for (the bus matches the name
//! against its owner at each message, so a server that restarts is followed): an error the bus
//! itself sends (no server at all) is not seen, and that call is forgotten.
//!
//! An empty `app_name` is filled with the sending process's name: `GetConnectionUnixProcessID`
//! on a third, ordinary connection, then `/proc/<pid>/comm`, cached per unique name. A sender
//! that is already gone when asked (a short-lived `notify-send` whose reply came first) is named
//! by its `desktop-entry` hint when it gave one, and otherwise keeps the empty name. Weft's own calls are [`Origin::Weft`]: the sender's process is this one, or
//! the call carries [`OWN_HINT`] with this process's id (which holds even when notify-rust's
//! connection is closed before the monitor asks for its process).
//!
//! Running it: [`Monitor::start`] returns once the monitor is in place (so nothing sent after it
//! is missed), or a typed [`Error`]: [`Error::Refused`] when the bus will not let this user
//! monitor (say it once and do not retry), [`Error::Unavailable`] when there is no bus. A thread
//! owns the blocking loop (`zbus::block_on`, as the other bus watchers do) and delivers events
//! over the caller's bounded channel, waiting when it is full (the bus queues meanwhile, so a
//! flood is slowed, not dropped; the wait looks every 20 ms whether the monitor was stopped). [`Monitor::join`] gives the reason the loop ended:
//! [`Error::Disconnected`] when the bus connection dropped (back off and start again),
//! [`Error::Stopped`] when the receiver was dropped or [`Monitor::stop`] was called.

mod bus;
mod parse;
mod pending;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use weft_core::clock::{Clock, SystemClock};
use weft_proto::Urgency;

pub use pending::CallId;

/// The hint Weft puts on its own `Notify` calls (the string of its process id), so the monitor
/// knows them even when the connection that sent them is gone before the monitor could ask for
/// its process. Servers ignore hints they do not know (`x-` is the spec's vendor prefix).
pub const OWN_HINT: &str = "x-weft-pid";

/// The [`OWN_HINT`] for a notify-rust notification of this process (`.hint(own_hint())`).
pub fn own_hint() -> notify_rust::Hint {
    notify_rust::Hint::Custom(OWN_HINT.to_owned(), std::process::id().to_string())
}

/// How many calls wait for their reply at most.
pub const MAX_PENDING: usize = 4096;
/// How long a call waits for its reply before it is forgotten.
pub const PENDING_TTL: Duration = Duration::from_secs(60);
/// How many senders' processes are remembered.
pub const MAX_PEERS: usize = 512;

/// Who sent a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Weft itself (notify-rust in this process): already filed, not to be filed again.
    Weft,
    /// Another app.
    App,
}

/// One `Notify` call: its texts as sent (bounded by [`parse::MAX_RAW_BYTES`]); the core
/// cleans them when it files it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The sender's unique bus name (`:1.42`).
    pub sender: String,
    /// The sender's process, when the bus could still say.
    pub pid: Option<u32>,
    pub origin: Origin,
    /// The `app_name`, or when it was blank the process's name, or the `desktop-entry` hint;
    /// blank when none is known.
    pub app_name: String,
    /// The `summary`; may be empty.
    pub summary: String,
    /// The `body`, markup and all.
    pub body: String,
    /// From the `urgency` hint; `normal` when absent or unknown.
    pub urgency: Urgency,
    /// The `transient` hint.
    pub transient: bool,
    /// The id of the notification it replaces, 0 for a new one.
    pub replaces_id: u32,
    /// When the monitor saw the call.
    pub at: DateTime<Utc>,
}

/// What the monitor tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A call was seen; its reply may follow.
    Observed {
        call: CallId,
        notification: Observed,
    },
    /// The server answered `call` with this id (the one `CloseNotification` and a later
    /// `replaces_id` name).
    Assigned { call: CallId, id: u32 },
    /// The server answered `call` with an error: it shows nothing.
    Rejected { call: CallId, error: String },
}

/// Why the monitor could not start, or why it stopped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The bus will not let this connection monitor (another user's bus, a policy, a bus
    /// without the Monitoring interface). Trying again will not help.
    #[error("the session bus does not let Weft see other apps' notifications ({0})")]
    Refused(String),
    /// No session bus could be reached, or it did not answer.
    #[error("the session bus is not available: {0}")]
    Unavailable(String),
    /// The monitor's connection to the bus ended.
    #[error("the session bus connection of the notification monitor ended: {0}")]
    Disconnected(String),
    /// The receiver is gone or [`Monitor::stop`] was called.
    #[error("the notification monitor was stopped")]
    Stopped,
}

/// Which bus to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bus {
    /// `DBUS_SESSION_BUS_ADDRESS`.
    Session,
    /// A bus at this address (tests; the app watches the session bus).
    #[cfg_attr(not(test), allow(dead_code))]
    Address(String),
}

/// How the monitor runs.
#[derive(Clone)]
pub struct Config {
    pub bus: Bus,
    /// Calls from this process are [`Origin::Weft`].
    pub own_pid: u32,
    /// Stamps [`Observed::at`] and ages the waiting calls.
    pub clock: Arc<dyn Clock>,
    /// How long [`Monitor::start`] waits for the bus.
    pub start_timeout: Duration,
    /// How many [`Event::Observed`] were sent so far (counted before each is sent, and taken
    /// back when the receiver was gone): the receiver compares it with what it has handled.
    pub told: Arc<AtomicU64>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bus: Bus::Session,
            own_pid: std::process::id(),
            clock: Arc::new(SystemClock),
            start_timeout: Duration::from_secs(5),
            told: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bus", &self.bus)
            .field("own_pid", &self.own_pid)
            .field("start_timeout", &self.start_timeout)
            .finish_non_exhaustive()
    }
}

/// A running monitor. Dropping it stops it.
#[derive(Debug)]
pub struct Monitor {
    inner: Option<bus::Running>,
}

impl Monitor {
    /// Opens the connections, becomes a monitor and starts the thread that delivers to
    /// `events`. Returns once the monitor sees every later call.
    pub fn start(
        config: Config,
        events: std::sync::mpsc::SyncSender<Event>,
    ) -> Result<Monitor, Error> {
        bus::start(config, events).map(|running| Monitor {
            inner: Some(running),
        })
    }

    /// Waits until the loop ends, and says why.
    pub fn join(mut self) -> Error {
        match self.inner.take() {
            Some(running) => running.join(),
            None => Error::Stopped,
        }
    }

    /// Ends the loop and waits for its thread.
    pub fn stop(mut self) {
        if let Some(running) = self.inner.take() {
            running.stop();
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if let Some(running) = self.inner.take() {
            running.stop();
        }
    }
}

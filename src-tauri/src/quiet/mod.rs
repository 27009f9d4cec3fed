//! Desktop do-not-disturb while focused: other apps' popups are silenced when focus begins and
//! the user's own setting comes back when coordination begins, when Weft quits, and on the
//! next start after a crash. What to restore is remembered in the store *before* anything is
//! changed, and forgotten only once the restore has worked. Which switch to use depends on the
//! notification server:
//!
//! - dunst: its `paused` property (paused popups replay on resume: a digest of their own); a
//!   dunst the user had paused stays paused;
//! - GNOME Shell: the `show-banners` setting;
//! - KDE Plasma: `org.freedesktop.Notifications.Inhibit` (dropped by Plasma if Weft dies);
//! - anything else: nothing is changed, and the log and the tray menu say so.
//!
//! The notification server can restart, or another one can take over, during focus: a thread
//! ([`owner`]) follows the owner of `org.freedesktop.Notifications` (NameOwnerChanged), and the
//! worker silences the new owner too, with the adapter for what that server is. A server of a
//! kind silenced earlier in the block keeps the setting saved then, so coordination gives back
//! the user's setting, not the new server's default; a setting that lived in a server that is
//! gone (dunst's pause, KDE's inhibition) is not given back to anyone.
//!
//! One worker thread does all of it, and it also decides when the delivery worker may show
//! Weft's own popups: after a restore (so the coordination digest is not swallowed), and with
//! the silence lifted around a popup that must show during focus (a break-through, a digest at
//! a release time). A slow or hung server never delays a switch: every call is bounded.
//! Its decisions live in [`worker`], which sees the bus through the `Session` and `Desktop`
//! traits and the store through `Memory`; this module holds the real ones.

#[cfg(target_os = "linux")]
mod dunst;
#[cfg(target_os = "linux")]
mod gnome;
#[cfg(target_os = "linux")]
mod kde;
#[cfg(target_os = "linux")]
mod owner;
mod worker;

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Weak};
use std::time::Duration;
use weft_core::service::Weft;
use weft_proto::State;
use worker::{Memory, Message, Session, Worker};

/// How long quitting waits for the restore.
const QUIT_WAIT: Duration = Duration::from_secs(4);

/// How long the silence stays lifted after one of Weft's own popups, so it can be read (dunst,
/// for one, hides what is on screen again when it is paused).
const LIFT_HOLD: Duration = Duration::from_secs(8);

/// How long one call to the notification server (or gsettings) may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a call to the desktop, or to the store that remembers its setting, did not work.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing owns the notification server's name on the session bus, and nothing can be
    /// started for it: there is nothing to quiet.
    #[error("{0}")]
    NotRunning(String),
    /// The server (or gsettings) did not answer within [`CALL_TIMEOUT`].
    #[error("no answer within {} s", CALL_TIMEOUT.as_secs())]
    Timeout,
    /// A D-Bus call failed another way (no session bus, a refused call, a wrong reply).
    #[cfg(target_os = "linux")]
    #[error(transparent)]
    Bus(zbus::Error),
    /// The platform's notification call failed.
    #[cfg(not(target_os = "linux"))]
    #[error("{0}")]
    Platform(String),
    /// A helper program could not be run.
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    /// A helper program ran and refused (its command line, and what it said on stderr).
    #[error("{command}: {stderr}")]
    Refused { command: String, stderr: String },
    /// No thread could be started for the call.
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
    /// The store failed to read or write the setting to give back.
    #[error(transparent)]
    Store(Box<dyn std::error::Error + Send + Sync>),
    /// The app is shutting down: its store is gone.
    #[error("the app is shutting down")]
    Closed,
}

#[cfg(target_os = "linux")]
impl From<zbus::Error> for Error {
    /// A call to a name nobody owns (and nothing can be started for) is [`Error::NotRunning`].
    fn from(e: zbus::Error) -> Error {
        const ABSENT: [&str; 2] = [
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "org.freedesktop.DBus.Error.NameHasNoOwner",
        ];
        let absent = match &e {
            zbus::Error::MethodError(name, _, _) => ABSENT.contains(&name.as_str()),
            zbus::Error::FDO(fdo) => matches!(
                **fdo,
                zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
            ),
            _ => false,
        };
        if absent {
            Error::NotRunning(e.to_string())
        } else {
            Error::Bus(e)
        }
    }
}

/// Runs `call` on a helper thread and gives up after [`CALL_TIMEOUT`]: a hung server must not
/// wedge the worker.
fn bounded<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    bounded_for(CALL_TIMEOUT, call)
}

/// How long closing `count` notifications may take: one call's time, and 50 ms more for each.
fn close_budget(count: usize) -> Duration {
    CALL_TIMEOUT
        + Duration::from_millis(50).saturating_mul(u32::try_from(count).unwrap_or(u32::MAX))
}

/// [`bounded`], with its own `timeout`.
fn bounded_for<T: Send + 'static>(
    timeout: Duration,
    call: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("weft-quiet-call".into())
        .spawn(move || {
            // The worker gave up waiting: the answer is not wanted any more.
            let _ = tx.send(call());
        })
        .map_err(Error::Thread)?;
    // A call that panicked (Disconnected) gave no answer either.
    rx.recv_timeout(timeout)
        .unwrap_or_else(|_timeout_or_disconnected| Err(Error::Timeout))
}

/// A desktop whose popups Weft can silence.
trait Desktop: Send {
    /// Reads the current setting: `None` when popups are silent already (nothing to do), else
    /// what [`Desktop::restore`] will need.
    fn probe(&mut self) -> Result<Option<String>, Error>;
    /// Silences popups.
    fn silence(&mut self) -> Result<(), Error>;
    /// Puts back what [`Desktop::silence`] changed.
    fn restore(&mut self, saved: &str) -> Result<(), Error>;
}

/// The kinds of notification server Weft can quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Dunst,
    Gnome,
    Kde,
}

impl Kind {
    /// By the name the server gives in `GetServerInformation`.
    fn of_server(name: &str) -> Option<Kind> {
        match name {
            "dunst" => Some(Kind::Dunst),
            "gnome-shell" => Some(Kind::Gnome),
            "Plasma" => Some(Kind::Kde),
            _ => None,
        }
    }

    /// The name it has in the store and in the log.
    fn tag(self) -> &'static str {
        match self {
            Kind::Dunst => "dunst",
            Kind::Gnome => "gnome",
            Kind::Kde => "kde",
        }
    }

    fn from_tag(tag: &str) -> Option<Kind> {
        [Kind::Dunst, Kind::Gnome, Kind::Kde]
            .into_iter()
            .find(|kind| kind.tag() == tag)
    }

    /// The setting lives in the server process (dunst's pause, KDE's inhibition): it goes
    /// away with that process, and a new server starts with its own default. GNOME's lives
    /// in GSettings and outlasts the server.
    fn lives_in_server(self) -> bool {
        matches!(self, Kind::Dunst | Kind::Kde)
    }

    /// What Weft changed outlasts Weft, so a crashed run leaves it to give back. Plasma drops
    /// an inhibition when its client goes away.
    fn outlives_weft(self) -> bool {
        self != Kind::Kde
    }
}

/// Whether Weft can quiet a notification server that gives `server` as its name
/// (`GetServerInformation`). The app lists desktop do-not-disturb as degraded when not.
pub fn can_quiet(server: &str) -> bool {
    Kind::of_server(server).is_some_and(|kind| SessionBus.adapter(kind).is_some())
}

/// A notification server: the name it gives in `GetServerInformation`, and the unique bus
/// name that answered (which server process that is; empty where there is no bus).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Server {
    name: String,
    unique: String,
}

/// The real desktop session.
struct SessionBus;

#[cfg(target_os = "linux")]
impl Session for SessionBus {
    fn server(&self) -> Result<Server, Error> {
        bounded(|| {
            zbus::block_on(async {
                let conn = zbus::Connection::session().await?;
                let reply = conn
                    .call_method(
                        Some(owner::NAME),
                        owner::PATH,
                        Some(owner::NAME),
                        "GetServerInformation",
                        &(),
                    )
                    .await?;
                let (name, _vendor, _version, _spec): (String, String, String, String) =
                    reply.body().deserialize()?;
                let unique = reply
                    .header()
                    .sender()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                Ok::<_, zbus::Error>(Server { name, unique })
            })
            .map_err(Error::from)
        })
    }

    fn close(&self, ids: &[u32]) -> Result<(), Error> {
        let ids = ids.to_vec();
        bounded_for(close_budget(ids.len()), move || {
            zbus::block_on(async {
                let conn = zbus::Connection::session().await?;
                for id in ids {
                    // One that is gone already (expired, dismissed) is no failure.
                    let closed = conn
                        .call_method(
                            Some(owner::NAME),
                            owner::PATH,
                            Some(owner::NAME),
                            "CloseNotification",
                            &(id,),
                        )
                        .await;
                    if let Err(e) = closed {
                        log::debug!("notification {id} was not closed: {e}");
                    }
                }
                Ok::<_, zbus::Error>(())
            })
            .map_err(Error::from)
        })
    }

    fn adapter(&self, kind: Kind) -> Option<Box<dyn Desktop>> {
        Some(match kind {
            Kind::Dunst => Box::new(dunst::Dunst),
            Kind::Gnome => Box::new(gnome::Gnome),
            Kind::Kde => Box::new(kde::Kde::default()),
        })
    }
}

// Other platforms have their own do-not-disturb; no adapter for them yet.
#[cfg(not(target_os = "linux"))]
impl Session for SessionBus {
    fn server(&self) -> Result<Server, Error> {
        bounded(|| {
            notify_rust::get_server_information()
                .map(|info| Server {
                    name: info.name,
                    unique: String::new(),
                })
                .map_err(|e| Error::Platform(e.to_string()))
        })
    }

    fn adapter(&self, _kind: Kind) -> Option<Box<dyn Desktop>> {
        None
    }

    fn close(&self, _ids: &[u32]) -> Result<(), Error> {
        Ok(())
    }
}

/// The setting to give back, kept in Weft's store (`Facts::quiet_desktop`).
struct Store {
    weft: Weak<Weft>,
    /// Other apps' notifications seen but maybe not filed yet (`None`: none are watched).
    unfiled: Option<Arc<dyn Unfiled>>,
}

/// Other apps' notifications seen on the bus but not filed yet (capture's backlog).
pub trait Unfiled: Send + Sync {
    /// Waits until what was seen before this call is filed, for at most `timeout`; `false`
    /// when some is still unfiled then.
    fn settle(&self, timeout: Duration) -> bool;
}

/// How long coordination waits for what was sent during focus to be filed before it closes it:
/// a little more than a server's answer may take (capture files a call without its id after
/// one second).
const SETTLE_WAIT: Duration = Duration::from_secs(2);

impl Memory for Store {
    fn recall(&self) -> Result<Option<String>, Error> {
        let weft = self.weft.upgrade().ok_or(Error::Closed)?;
        weft.facts(|facts| facts.quiet_desktop())
            .map_err(|e| Error::Store(e.into()))
    }

    fn remember(&self, value: Option<&str>) -> Result<(), Error> {
        let weft = self.weft.upgrade().ok_or(Error::Closed)?;
        weft.facts(|facts| facts.set_quiet_desktop(value))
            .map_err(|e| Error::Store(e.into()))
    }

    fn seen_since(&self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<u32>, Error> {
        if let Some(unfiled) = &self.unfiled {
            if !unfiled.settle(SETTLE_WAIT) {
                log::info!("some notifications sent during focus are not filed yet");
            }
        }
        let weft = self.weft.upgrade().ok_or(Error::Closed)?;
        weft.desktop_ids_since(since)
            .map_err(|e| Error::Store(e.into()))
    }

    fn silenced(&self, silent: bool) {
        if let Some(weft) = self.weft.upgrade() {
            weft.set_desktop_silenced(silent);
        }
    }
}

/// The handle the app and the delivery worker keep.
#[derive(Clone)]
pub struct Quiet {
    tx: Sender<Message>,
}

impl Quiet {
    /// Starts the worker. It first restores what a crashed run left silenced, then follows
    /// `state`. With `enabled` false it only does that recovery. `unknown` is told (once) when
    /// the server is not one Weft can quiet; `deliveries` wakes the delivery worker. With
    /// `close_seen` (`desktop_replay = "digest"` while other apps' notifications are watched),
    /// what they sent during focus is closed on a server that would replay it, once it is filed.
    pub fn start(
        weft: Weak<Weft>,
        status: &weft_proto::Status,
        enabled: bool,
        close_seen: Option<Arc<dyn Unfiled>>,
        deliveries: Sender<()>,
        unknown: Box<dyn Fn(String) + Send>,
    ) -> Quiet {
        let (tx, rx) = mpsc::channel();
        // The receiver is in hand: these cannot fail.
        if status.state == State::Focus {
            let _ = tx.send(Message::Began(status.since));
        }
        let _ = tx.send(Message::State(status.state));
        #[cfg(target_os = "linux")]
        if enabled {
            owner::watch(tx.clone());
        }
        let worker = Worker::new(
            Box::new(SessionBus),
            Box::new(Store {
                weft,
                unfiled: close_seen.clone(),
            }),
            enabled,
            deliveries,
            unknown,
        )
        .closing_what_was_seen(close_seen.is_some());
        let spawned = std::thread::Builder::new()
            .name("weft-quiet".into())
            .spawn(move || worker.run(&rx));
        if let Err(e) = spawned {
            log::error!("desktop do-not-disturb will not work: {e}");
        }
        Quiet { tx }
    }

    /// The state now (sent after every status change; repeats are ignored). Returns at once.
    pub fn follow(&self, status: &weft_proto::Status) {
        if status.state == State::Focus {
            let _ = self.tx.send(Message::Began(status.since));
        }
        let _ = self.tx.send(Message::State(status.state));
    }

    /// Popups are owed; the delivery worker is woken after any pending restore.
    pub fn popups_owed(&self) {
        let _ = self.tx.send(Message::PopupsOwed);
    }

    /// Lifts the silence for a popup that must show during focus; waits a bounded time.
    pub fn lift(&self) {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(Message::Lift(ack)).is_ok() {
            let _ = done.recv_timeout(CALL_TIMEOUT * 2);
        }
    }

    /// The popup is shown: silence again if still in focus.
    pub fn relift(&self) {
        let _ = self.tx.send(Message::Relift);
    }

    /// Restores the desktop's setting before Weft quits (waits a few seconds at most).
    pub fn restore_for_quit(&self) {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(Message::Quit(ack)).is_err() {
            log::warn!("the desktop's notification setting could not be restored: the quiet worker is not running");
            return;
        }
        match done.recv_timeout(QUIT_WAIT) {
            Ok(()) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {
                log::warn!("the desktop's notification setting could not be restored in time")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => log::warn!(
                "the desktop's notification setting could not be restored: the quiet worker ended without answering"
            ),
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::Error;

    #[test]
    fn a_name_nobody_owns_is_no_server_and_other_bus_errors_are_bus_errors() {
        let unknown = zbus::fdo::Error::ServiceUnknown("org.freedesktop.Notifications".into());
        let absent = Error::from(zbus::Error::FDO(Box::new(unknown)));
        assert!(matches!(absent, Error::NotRunning(_)), "{absent:?}");
        let broken = Error::from(zbus::Error::InvalidReply);
        assert!(
            matches!(broken, Error::Bus(zbus::Error::InvalidReply)),
            "{broken:?}"
        );
    }

    #[test]
    fn only_known_servers_can_be_quieted() {
        for name in ["dunst", "gnome-shell", "Plasma"] {
            assert!(super::can_quiet(name), "{name}");
        }
        assert!(!super::can_quiet("xfce4-notifyd"));
    }
}

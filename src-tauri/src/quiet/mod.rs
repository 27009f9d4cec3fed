//! Desktop do-not-disturb while focused: other apps' popups are silenced when focus begins and
//! the user's own setting comes back when coordination begins, when Weft quits, and on the
//! next start after a crash (what to restore is remembered in the store before anything is
//! changed). Which switch to use depends on the notification server:
//!
//! - dunst: its `paused` property (paused popups replay on resume: a digest of their own); a
//!   dunst the user had paused stays paused;
//! - GNOME Shell: the `show-banners` setting;
//! - KDE Plasma: `org.freedesktop.Notifications.Inhibit` (dropped by Plasma if Weft dies);
//! - anything else: nothing is changed, and the log and the tray menu say so.
//!
//! All of it runs on one worker thread: a slow or hung server never delays a switch.

#[cfg(target_os = "linux")]
mod dunst;
#[cfg(target_os = "linux")]
mod gnome;
#[cfg(target_os = "linux")]
mod kde;

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Weak;
use std::time::Duration;
use weft_core::service::Weft;
use weft_proto::State;

/// The store key under which the setting to restore is remembered.
const KEY: &str = "quiet_desktop";

/// How long quitting waits for the restore.
const QUIT_WAIT: Duration = Duration::from_secs(3);

/// A desktop whose popups Weft can silence.
trait Desktop: Send {
    /// Silences popups. Returns what to pass to [`Desktop::restore`] (remembered across a
    /// crash), or `None` when there is nothing to restore (already silent).
    fn silence(&mut self) -> Result<Option<String>, String>;
    /// Puts back what [`Desktop::silence`] changed.
    fn restore(&mut self, saved: &str) -> Result<(), String>;
}

/// The server names Weft knows, with the adapter for each.
#[cfg(target_os = "linux")]
fn adapter_for(server: &str) -> Option<(&'static str, Box<dyn Desktop>)> {
    match server {
        "dunst" => Some(("dunst", Box::new(dunst::Dunst))),
        "gnome-shell" => Some(("gnome", Box::new(gnome::Gnome))),
        "Plasma" => Some(("kde", Box::new(kde::Kde::default()))),
        _ => None,
    }
}

#[cfg(target_os = "linux")]
fn adapter_by_tag(tag: &str) -> Option<Box<dyn Desktop>> {
    match tag {
        "dunst" => Some(Box::new(dunst::Dunst)),
        "gnome" => Some(Box::new(gnome::Gnome)),
        // Plasma drops an inhibition when its client goes away: nothing survives a crash.
        _ => None,
    }
}

// Other platforms have their own do-not-disturb; no adapter for them yet.
#[cfg(not(target_os = "linux"))]
fn adapter_for(_server: &str) -> Option<(&'static str, Box<dyn Desktop>)> {
    None
}

#[cfg(not(target_os = "linux"))]
fn adapter_by_tag(_tag: &str) -> Option<Box<dyn Desktop>> {
    None
}

enum Message {
    State(State),
    Quit(mpsc::SyncSender<()>),
}

/// The handle the app keeps: switches and quitting are sent to the worker.
pub struct Quiet {
    tx: Sender<Message>,
}

impl Quiet {
    /// Starts the worker. It first restores what a crashed run left silenced, then applies
    /// `state`. `unknown` is told (once) when the server is not one Weft can quiet.
    pub fn start(weft: Weak<Weft>, state: State, unknown: Box<dyn Fn(String) + Send>) -> Quiet {
        let (tx, rx) = mpsc::channel();
        let _ = tx.send(Message::State(state));
        let spawned = std::thread::Builder::new()
            .name("weft-quiet".into())
            .spawn(move || Worker::new(weft, unknown).run(&rx));
        if let Err(e) = spawned {
            log::error!("desktop do-not-disturb will not work: {e}");
        }
        Quiet { tx }
    }

    /// Focus began or ended. Returns at once.
    pub fn follow(&self, state: State) {
        let _ = self.tx.send(Message::State(state));
    }

    /// Restores the desktop's setting before Weft quits (waits a few seconds at most).
    pub fn restore_for_quit(&self) {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(Message::Quit(ack)).is_ok() && done.recv_timeout(QUIT_WAIT).is_err() {
            log::warn!("the desktop's notification setting could not be restored in time");
        }
    }
}

struct Active {
    tag: &'static str,
    desktop: Box<dyn Desktop>,
    saved: String,
}

struct Worker {
    weft: Weak<Weft>,
    unknown: Box<dyn Fn(String) + Send>,
    told_unknown: bool,
    active: Option<Active>,
}

impl Worker {
    fn new(weft: Weak<Weft>, unknown: Box<dyn Fn(String) + Send>) -> Worker {
        Worker {
            weft,
            unknown,
            told_unknown: false,
            active: None,
        }
    }

    fn run(mut self, rx: &Receiver<Message>) {
        self.recover();
        for message in rx {
            match message {
                Message::State(State::Focus) => self.silence(),
                Message::State(State::Coordination) => self.restore(),
                Message::Quit(ack) => {
                    self.restore();
                    let _ = ack.send(());
                    return;
                }
            }
        }
    }

    fn remember(&self, value: Option<&str>) {
        if let Some(weft) = self.weft.upgrade() {
            if let Err(e) = weft.remember(KEY, value) {
                log::error!("cannot remember the desktop setting to restore: {e}");
            }
        }
    }

    /// A previous run silenced the desktop and did not restore it (it crashed).
    fn recover(&mut self) {
        let Some(weft) = self.weft.upgrade() else {
            return;
        };
        let Ok(Some(saved)) = weft.recall(KEY) else {
            return;
        };
        drop(weft);
        if let Some((tag, value)) = saved.split_once(':') {
            if let Some(mut desktop) = adapter_by_tag(tag) {
                match desktop.restore(value) {
                    Ok(()) => {
                        log::info!("restored the {tag} notification setting a crash left behind")
                    }
                    Err(e) => log::warn!("could not restore the {tag} notification setting: {e}"),
                }
            }
        }
        self.remember(None);
    }

    fn silence(&mut self) {
        if self.active.is_some() {
            return;
        }
        let server = match notify_rust::get_server_information() {
            Ok(info) => info.name,
            Err(e) => {
                log::info!("no notification server to quiet ({e})");
                return;
            }
        };
        let Some((tag, mut desktop)) = adapter_for(&server) else {
            if !self.told_unknown {
                self.told_unknown = true;
                let text = format!(
                    "The notification server \"{server}\" is not one Weft can quiet (dunst, GNOME, KDE); other apps' popups still show during focus."
                );
                log::warn!("{text}");
                (self.unknown)(text);
            }
            return;
        };
        match desktop.silence() {
            Ok(Some(saved)) => {
                self.remember(Some(&format!("{tag}:{saved}")));
                log::info!("{server}: popups silenced for focus");
                self.active = Some(Active {
                    tag,
                    desktop,
                    saved,
                });
            }
            Ok(None) => log::info!("{server}: already silent; left as it is"),
            Err(e) => log::warn!("could not silence {server}: {e}"),
        }
    }

    fn restore(&mut self) {
        let Some(mut active) = self.active.take() else {
            log::debug!("quiet: nothing to restore");
            return;
        };
        match active.desktop.restore(&active.saved) {
            Ok(()) => log::info!("{}: popups restored", active.tag),
            Err(e) => log::warn!("could not restore {}: {e}", active.tag),
        }
        self.remember(None);
    }
}

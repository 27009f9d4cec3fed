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
//! One worker thread does all of it, and it also decides when the delivery worker may show
//! Weft's own popups: after a restore (so the coordination digest is not swallowed), and with
//! the silence lifted around a popup that must show during focus (a break-through, a digest at
//! a release time). A slow or hung server never delays a switch: every call is bounded.

#[cfg(target_os = "linux")]
mod dunst;
#[cfg(target_os = "linux")]
mod gnome;
#[cfg(target_os = "linux")]
mod kde;

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Weak;
use std::time::Duration;
use weft_core::service::Weft;
use weft_proto::State;

/// The store key under which the setting to restore is remembered.
const KEY: &str = "quiet_desktop";

/// How long quitting waits for the restore.
const QUIT_WAIT: Duration = Duration::from_secs(4);

/// How long the silence stays lifted after one of Weft's own popups, so it can be read (dunst,
/// for one, hides what is on screen again when it is paused).
const LIFT_HOLD: Duration = Duration::from_secs(8);

/// How long one call to the notification server (or gsettings) may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs `call` on a helper thread and gives up after [`CALL_TIMEOUT`]: a hung server must not
/// wedge the worker.
fn bounded<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("weft-quiet-call".into())
        .spawn(move || {
            let _ = tx.send(call());
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    rx.recv_timeout(CALL_TIMEOUT)
        .unwrap_or_else(|_| Err(format!("no answer within {} s", CALL_TIMEOUT.as_secs())))
}

/// A desktop whose popups Weft can silence.
trait Desktop: Send {
    /// Reads the current setting: `None` when popups are silent already (nothing to do), else
    /// what [`Desktop::restore`] will need.
    fn probe(&mut self) -> Result<Option<String>, String>;
    /// Silences popups.
    fn silence(&mut self) -> Result<(), String>;
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

fn server_name() -> Result<String, String> {
    bounded(|| {
        notify_rust::get_server_information()
            .map(|info| info.name)
            .map_err(|e| e.to_string())
    })
}

enum Message {
    State(State),
    /// Popups are owed: wake the delivery worker once the desktop can show them.
    PopupsOwed,
    /// Lift the silence for one popup that must show now; answer when lifted.
    Lift(SyncSender<()>),
    /// The popup was shown: silence again (after [`LIFT_HOLD`]) if focus goes on.
    Relift,
    Quit(SyncSender<()>),
}

/// The handle the app and the delivery worker keep.
#[derive(Clone)]
pub struct Quiet {
    tx: Sender<Message>,
}

impl Quiet {
    /// Starts the worker. It first restores what a crashed run left silenced, then follows
    /// `state`. With `enabled` false it only does that recovery. `unknown` is told (once) when
    /// the server is not one Weft can quiet; `deliveries` wakes the delivery worker.
    pub fn start(
        weft: Weak<Weft>,
        state: State,
        enabled: bool,
        deliveries: Sender<()>,
        unknown: Box<dyn Fn(String) + Send>,
    ) -> Quiet {
        let (tx, rx) = mpsc::channel();
        let _ = tx.send(Message::State(state));
        let worker = Worker {
            weft,
            enabled,
            unknown,
            told_unknown: false,
            deliveries,
            state: None,
            active: None,
            lifted: false,
            relift_at: None,
        };
        let spawned = std::thread::Builder::new()
            .name("weft-quiet".into())
            .spawn(move || worker.run(&rx));
        if let Err(e) = spawned {
            log::error!("desktop do-not-disturb will not work: {e}");
        }
        Quiet { tx }
    }

    /// The state now (sent after every status change; repeats are ignored). Returns at once.
    pub fn follow(&self, state: State) {
        let _ = self.tx.send(Message::State(state));
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
    enabled: bool,
    unknown: Box<dyn Fn(String) + Send>,
    told_unknown: bool,
    deliveries: Sender<()>,
    /// The last state followed; `None` before the first.
    state: Option<State>,
    active: Option<Active>,
    /// The silence is lifted for one of Weft's own popups.
    lifted: bool,
    /// When to silence again after a lift.
    relift_at: Option<std::time::Instant>,
}

impl Worker {
    fn run(mut self, rx: &Receiver<Message>) {
        self.recover();
        loop {
            let message = match self.relift_at {
                Some(at) => {
                    match rx.recv_timeout(at.saturating_duration_since(std::time::Instant::now())) {
                        Ok(message) => message,
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            self.relift_at = None;
                            self.silence_again();
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
                None => match rx.recv() {
                    Ok(message) => message,
                    Err(_) => return,
                },
            };
            match message {
                Message::State(state) if self.state == Some(state) => {}
                Message::State(state) => {
                    self.state = Some(state);
                    match state {
                        State::Focus if self.enabled => self.silence(),
                        State::Focus => log::debug!("quiet: off; focus leaves the desktop alone"),
                        State::Coordination => self.restore(),
                    }
                }
                Message::PopupsOwed => {
                    let _ = self.deliveries.send(());
                }
                Message::Lift(ack) => {
                    if let Some(active) = self.active.as_mut().filter(|_| !self.lifted) {
                        let saved = active.saved.clone();
                        match active.desktop.restore(&saved) {
                            Ok(()) => self.lifted = true,
                            Err(e) => log::warn!("could not lift {} for a popup: {e}", active.tag),
                        }
                    }
                    self.relift_at = None;
                    let _ = ack.send(());
                }
                Message::Relift => {
                    if self.lifted {
                        self.relift_at = Some(std::time::Instant::now() + LIFT_HOLD);
                    }
                }
                Message::Quit(ack) => {
                    self.restore();
                    let _ = ack.send(());
                    return;
                }
            }
        }
    }

    fn remember(&self, value: Option<&str>) -> bool {
        let Some(weft) = self.weft.upgrade() else {
            return false;
        };
        match weft.remember(KEY, value) {
            Ok(()) => true,
            Err(e) => {
                log::error!("cannot remember the desktop setting to restore: {e}");
                false
            }
        }
    }

    /// A previous run silenced the desktop and did not restore it (it crashed). Runs even
    /// when quieting is off now.
    fn recover(&mut self) {
        let saved = match self.weft.upgrade().map(|weft| weft.recall(KEY)) {
            Some(Ok(Some(saved))) => saved,
            _ => return,
        };
        let Some((tag, value)) = saved.split_once(':') else {
            self.remember(None);
            return;
        };
        let Some(mut desktop) = adapter_by_tag(tag) else {
            self.remember(None);
            return;
        };
        match desktop.restore(value) {
            Ok(()) => {
                log::info!("restored the {tag} notification setting a crash left behind");
                self.remember(None);
            }
            // Kept: the next start tries again.
            Err(e) => log::warn!("could not restore the {tag} notification setting: {e}"),
        }
    }

    fn silence(&mut self) {
        if self.active.is_some() {
            return;
        }
        let server = match server_name() {
            Ok(name) => name,
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
        let saved = match desktop.probe() {
            Ok(Some(saved)) => saved,
            Ok(None) => {
                log::info!("{server}: already silent; left as it is");
                return;
            }
            Err(e) => {
                log::warn!("could not read {server}'s setting: {e}");
                return;
            }
        };
        // Remember first: a crash right after silencing must still find what to restore.
        if !self.remember(Some(&format!("{tag}:{saved}"))) {
            return;
        }
        match desktop.silence() {
            Ok(()) => {
                log::info!("{server}: popups silenced for focus");
                self.active = Some(Active {
                    tag,
                    desktop,
                    saved,
                });
            }
            Err(e) => {
                log::warn!("could not silence {server}: {e}");
                self.remember(None);
            }
        }
    }

    /// Ends a lift: silences again, still in focus.
    fn silence_again(&mut self) {
        if !std::mem::take(&mut self.lifted) {
            return;
        }
        if let Some(active) = self.active.as_mut() {
            if let Err(e) = active.desktop.silence() {
                log::warn!("could not silence {} again: {e}", active.tag);
            }
        }
    }

    fn restore(&mut self) {
        self.lifted = false;
        self.relift_at = None;
        let Some(mut active) = self.active.take() else {
            log::debug!("quiet: nothing to restore");
            return;
        };
        match active.desktop.restore(&active.saved) {
            Ok(()) => {
                log::info!("{}: popups restored", active.tag);
                self.remember(None);
            }
            // Still remembered: the next start restores it.
            Err(e) => log::warn!("could not restore {}: {e}", active.tag),
        }
    }
}

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

#[cfg(target_os = "linux")]
mod dunst;
#[cfg(target_os = "linux")]
mod gnome;
#[cfg(target_os = "linux")]
mod kde;
#[cfg(target_os = "linux")]
mod owner;

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Weak;
use std::time::Duration;
use weft_core::service::Weft;
use weft_proto::State;

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
    /// The setting lives in the server process (dunst's pause, KDE's inhibition): it goes
    /// away with that process, and a new server starts with its own default. GNOME's lives
    /// in GSettings and outlasts the server.
    fn lives_in_server(&self) -> bool {
        false
    }
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

/// Whether Weft can quiet a notification server that gives `server` as its name
/// (`GetServerInformation`). The app lists desktop do-not-disturb as degraded when not.
pub fn can_quiet(server: &str) -> bool {
    adapter_for(server).is_some()
}

/// The notification server now: the name it gives in `GetServerInformation`, and the unique
/// bus name that answered (which server process that is).
#[cfg(target_os = "linux")]
fn server() -> Result<(String, String), String> {
    bounded(|| {
        zbus::block_on(async {
            let conn = zbus::Connection::session().await?;
            let reply = conn
                .call_method(
                    Some(owner::NAME),
                    "/org/freedesktop/Notifications",
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
            Ok::<_, zbus::Error>((name, unique))
        })
        .map_err(|e| e.to_string())
    })
}

#[cfg(not(target_os = "linux"))]
fn server() -> Result<(String, String), String> {
    bounded(|| {
        notify_rust::get_server_information()
            .map(|info| (info.name, String::new()))
            .map_err(|e| e.to_string())
    })
}

enum Message {
    State(State),
    /// A new owner of the notification server's bus name (`None`: nobody owns it now).
    Owner(Option<String>),
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
        #[cfg(target_os = "linux")]
        if enabled {
            owner::watch(tx.clone());
        }
        let worker = Worker {
            weft,
            enabled,
            unknown,
            told_unknown: false,
            deliveries,
            state: None,
            active: Vec::new(),
            owner: None,
            applied_to: None,
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

/// One server kind Weft silenced during this focus block.
struct Active {
    tag: &'static str,
    desktop: Box<dyn Desktop>,
    /// The user's own setting from before focus, to give back at coordination; `None` when the
    /// user had silenced it already (nothing to give back, and a restarted server of this kind
    /// is silenced to match).
    saved: Option<String>,
}

struct Worker {
    weft: Weak<Weft>,
    enabled: bool,
    unknown: Box<dyn Fn(String) + Send>,
    told_unknown: bool,
    deliveries: Sender<()>,
    /// The last state followed; `None` before the first.
    state: Option<State>,
    /// What this focus block silenced, one entry per kind of server (a server replaced by
    /// another kind during focus leaves its entry when its setting outlasts it).
    active: Vec<Active>,
    /// The owner of the notification server's name, as last reported (`None`: not known yet).
    owner: Option<Option<String>>,
    /// The server process (unique bus name) this focus block's silence was applied to.
    applied_to: Option<String>,
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
                Message::Owner(owner) => self.owner_changed(owner),
                Message::PopupsOwed => {
                    let _ = self.deliveries.send(());
                }
                Message::Lift(ack) => {
                    if !self.lifted {
                        for active in &mut self.active {
                            let Some(saved) = active.saved.clone() else {
                                continue;
                            };
                            match active.desktop.restore(&saved) {
                                Ok(()) => self.lifted = true,
                                Err(e) => {
                                    log::warn!("could not lift {} for a popup: {e}", active.tag)
                                }
                            }
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
        match weft.facts(|facts| facts.set_quiet_desktop(value)) {
            Ok(()) => true,
            Err(e) => {
                log::error!("cannot remember the desktop setting to restore: {e}");
                false
            }
        }
    }

    /// Remembers what every entry needs given back (one `tag:value` line each), or forgets.
    fn persist(&self) -> bool {
        let lines: Vec<String> = self
            .active
            .iter()
            .filter_map(|a| a.saved.as_ref().map(|saved| format!("{}:{saved}", a.tag)))
            .collect();
        if lines.is_empty() {
            self.remember(None)
        } else {
            self.remember(Some(&lines.join("\n")))
        }
    }

    /// A previous run silenced the desktop and did not restore it (it crashed). Runs even
    /// when quieting is off now.
    fn recover(&mut self) {
        let saved = match self
            .weft
            .upgrade()
            .map(|weft| weft.facts(|facts| facts.quiet_desktop()))
        {
            Some(Ok(Some(saved))) => saved,
            _ => return,
        };
        let mut kept = Vec::new();
        for line in saved.lines() {
            let Some((tag, value)) = line.split_once(':') else {
                continue;
            };
            let Some(mut desktop) = adapter_by_tag(tag) else {
                continue;
            };
            if desktop.lives_in_server() {
                // Such a setting lives as long as the server that holds it.
                let now = server().ok().and_then(|(name, _)| adapter_for(&name));
                if now.map(|(now, _)| now) != Some(tag) {
                    log::info!(
                        "the {tag} server a crash left silenced is gone; nothing to restore"
                    );
                    continue;
                }
            }
            match desktop.restore(value) {
                Ok(()) => {
                    log::info!("restored the {tag} notification setting a crash left behind")
                }
                // Kept: the next start tries again.
                Err(e) => {
                    log::warn!("could not restore the {tag} notification setting: {e}");
                    kept.push(line.to_owned());
                }
            }
        }
        if kept.is_empty() {
            self.remember(None);
        } else {
            self.remember(Some(&kept.join("\n")));
        }
    }

    /// The notification server's name changed hands. During focus, the new owner is silenced
    /// too: a restarted server starts with its own default, not with Weft's silence.
    fn owner_changed(&mut self, owner: Option<String>) {
        self.owner = Some(owner.clone());
        let Some(unique) = owner else {
            log::info!("the notification server left the session bus");
            return;
        };
        if self.state != Some(State::Focus)
            || !self.enabled
            || self.applied_to.as_deref() == Some(unique.as_str())
        {
            return;
        }
        log::info!("a new notification server ({unique}) appeared during focus; quieting it too");
        self.silence();
    }

    /// Silences whatever server owns the name now. The first time in a focus block, the
    /// user's setting is read and remembered first; for a server of a kind silenced earlier in
    /// the block (it restarted), what was remembered then is kept, so coordination gives back
    /// the user's setting, not the new server's default.
    fn silence(&mut self) {
        let (server, unique) = match server() {
            Ok(found) => found,
            Err(e) => {
                log::info!("no notification server to quiet ({e})");
                return;
            }
        };
        if !unique.is_empty() && self.applied_to.as_deref() == Some(unique.as_str()) {
            return;
        }
        self.applied_to = Some(unique);
        let adapter = adapter_for(&server);
        let tag = adapter.as_ref().map(|(tag, _)| *tag);
        // A setting that lived in a server that is gone went with it.
        let before = self.active.len();
        self.active.retain(|a| {
            let keep = !a.desktop.lives_in_server() || Some(a.tag) == tag;
            if !keep {
                log::info!("{}: that server is gone, and Weft's silence with it", a.tag);
            }
            keep
        });
        if self.active.len() != before {
            self.persist();
        }
        let Some((tag, mut desktop)) = adapter else {
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
        let lifted = self.lifted;
        if let Some(active) = self.active.iter_mut().find(|a| a.tag == tag) {
            // Silenced again after the lift, with the others.
            if lifted && active.saved.is_some() {
                return;
            }
            match active.desktop.silence() {
                Ok(()) => log::info!(
                    "{server}: popups silenced again (the server restarted); coordination gives back the setting saved at the start of focus"
                ),
                Err(e) => log::warn!("could not silence {server} again: {e}"),
            }
            return;
        }
        let saved = match desktop.probe() {
            Ok(Some(saved)) => saved,
            Ok(None) => {
                log::info!("{server}: already silent; left as it is");
                self.active.push(Active {
                    tag,
                    desktop,
                    saved: None,
                });
                return;
            }
            Err(e) => {
                log::warn!("could not read {server}'s setting: {e}");
                return;
            }
        };
        self.active.push(Active {
            tag,
            desktop,
            saved: Some(saved),
        });
        // Remember first: a crash right after silencing must still find what to restore.
        if !self.persist() {
            self.active.pop();
            return;
        }
        if lifted {
            // Silenced with the others when the lift ends.
            return;
        }
        let silenced = match self.active.last_mut() {
            Some(active) => active.desktop.silence(),
            None => return,
        };
        match silenced {
            Ok(()) => log::info!("{server}: popups silenced for focus"),
            Err(e) => {
                log::warn!("could not silence {server}: {e}");
                self.active.pop();
                self.persist();
            }
        }
    }

    /// Ends a lift: silences again, still in focus.
    fn silence_again(&mut self) {
        if !std::mem::take(&mut self.lifted) {
            return;
        }
        for active in self.active.iter_mut().filter(|a| a.saved.is_some()) {
            if let Err(e) = active.desktop.silence() {
                log::warn!("could not silence {} again: {e}", active.tag);
            }
        }
    }

    /// Gives back what this focus block silenced: the setting saved when each kind of server
    /// was first silenced.
    fn restore(&mut self) {
        self.lifted = false;
        self.relift_at = None;
        self.applied_to = None;
        let active = std::mem::take(&mut self.active);
        if active.iter().all(|a| a.saved.is_none()) {
            log::debug!("quiet: nothing to restore");
            return;
        }
        let server_gone = self.owner == Some(None);
        let mut kept = Vec::new();
        for mut active in active {
            let Some(saved) = active.saved.take() else {
                continue;
            };
            if server_gone && active.desktop.lives_in_server() {
                log::info!(
                    "{}: the notification server is gone, and Weft's silence with it",
                    active.tag
                );
                continue;
            }
            match active.desktop.restore(&saved) {
                Ok(()) => log::info!("{}: popups restored", active.tag),
                // Still remembered: the next start restores it.
                Err(e) => {
                    log::warn!("could not restore {}: {e}", active.tag);
                    kept.push(format!("{}:{saved}", active.tag));
                }
            }
        }
        if kept.is_empty() {
            self.remember(None);
        } else {
            self.remember(Some(&kept.join("\n")));
        }
    }
}

//! The quiet worker's decisions, apart from the bus and the store: what to silence when focus
//! begins or a new server takes over, what to remember first, and what to give back. It sees
//! the desktop through [`Session`] and [`Desktop`] and keeps the setting to give back through
//! [`Memory`], so its tests drive it with fakes and no session bus.

use super::{Desktop, Error, Kind, Server, LIFT_HOLD};
use std::collections::HashSet;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::time::{Duration, Instant};

/// The first wait before a failed restore is tried again; it doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(5);
const MAX_RETRY: Duration = Duration::from_secs(300);
use weft_proto::State;

/// What the worker asks of the desktop session: which notification server runs now, and an
/// adapter for a kind of server (`None`: none on this platform).
pub(super) trait Session: Send {
    fn server(&self) -> Result<Server, Error>;
    fn adapter(&self, kind: Kind) -> Option<Box<dyn Desktop>>;
    /// Closes these notifications on the server (`CloseNotification`), so it does not replay
    /// them when its setting is given back.
    fn close(&self, ids: &[u32]) -> Result<(), Error>;
}

/// Where the setting to give back is kept, so a crashed run's silence is undone at the next
/// start. One `kind:value` line per kind of server.
pub(super) trait Memory: Send {
    /// What a run left to give back (`None`: nothing).
    fn recall(&self) -> Result<Option<String>, Error>;
    /// Remembers `value`, or forgets with `None`.
    fn remember(&self, value: Option<&str>) -> Result<(), Error>;
    /// The server ids of other apps' notifications seen since `since` (the store knows them).
    fn seen_since(&self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<u32>, Error>;
    /// The desktop's popups are silent now (`true`) or show again: another app's break-through
    /// is shown again by Weft only while they are silent.
    fn silenced(&self, silent: bool);
}

pub(super) enum Message {
    State(State),
    /// The focus block that begins with the next `State(Focus)` began then.
    Began(chrono::DateTime<chrono::Utc>),
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

/// Whether the worker goes on after a message.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Stop,
}

/// One server kind Weft silenced during this focus block.
struct Active {
    kind: Kind,
    desktop: Box<dyn Desktop>,
    /// The user's own setting from before focus, to give back at coordination; `None` when the
    /// user had silenced it already (nothing to give back, and a restarted server of this kind
    /// is silenced to match).
    saved: Option<String>,
}

/// Told (once) the text to show when the server is not one Weft can quiet.
pub(super) type Unknown = Box<dyn Fn(String) + Send>;

pub(super) struct Worker {
    session: Box<dyn Session>,
    memory: Box<dyn Memory>,
    enabled: bool,
    unknown: Unknown,
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
    relift_at: Option<Instant>,
    /// `desktop_replay = "digest"`: other apps' notifications seen during focus are closed on
    /// the server before its setting is given back, so it does not replay them.
    close_seen: bool,
    /// When to try again to give back a setting whose restore failed (a server that did not
    /// answer in time), and how long to wait after that.
    retry_at: Option<(Instant, Duration)>,
    /// The server ids closed in this focus block: a second lift closes only what came since.
    closed: HashSet<u32>,
    /// When the focus block being followed began.
    began: Option<chrono::DateTime<chrono::Utc>>,
    /// What the next `State(Focus)` says began it.
    next_began: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the popups were silent when last told ([`Memory::silenced`]).
    told_silent: Option<bool>,
}

impl Worker {
    pub(super) fn new(
        session: Box<dyn Session>,
        memory: Box<dyn Memory>,
        enabled: bool,
        deliveries: Sender<()>,
        unknown: Unknown,
    ) -> Worker {
        Worker {
            session,
            memory,
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
            close_seen: false,
            closed: HashSet::new(),
            retry_at: None,
            began: None,
            next_began: None,
            told_silent: None,
        }
    }

    /// Closes other apps' notifications seen during focus before giving back the setting
    /// (`desktop_replay = "digest"`).
    pub(super) fn closing_what_was_seen(mut self, close: bool) -> Worker {
        self.close_seen = close;
        self
    }

    pub(super) fn run(mut self, rx: &Receiver<Message>) {
        self.recover();
        loop {
            let next = match (self.relift_at, self.retry_at.map(|(at, _)| at)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let message = match next {
                Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                    Ok(message) => message,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if self.relift_at.is_some_and(|at| at <= Instant::now()) {
                            self.relift_at = None;
                            self.silence_again();
                        }
                        if self.retry_at.is_some_and(|(at, _)| at <= Instant::now()) {
                            self.retry_restore();
                        }
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                },
                None => match rx.recv() {
                    Ok(message) => message,
                    Err(mpsc::RecvError) => return,
                },
            };
            if self.handle(message) == Flow::Stop {
                return;
            }
        }
    }

    /// Acts on one message, then tells the store whether popups are silent now.
    pub(super) fn handle(&mut self, message: Message) -> Flow {
        let flow = self.act(message);
        // Silent while this focus block silenced a server (or found it silent already), and
        // not lifted for one of Weft's own popups.
        let silent = !self.active.is_empty() && !self.lifted;
        if self.told_silent != Some(silent) {
            self.told_silent = Some(silent);
            self.memory.silenced(silent);
        }
        flow
    }

    fn act(&mut self, message: Message) -> Flow {
        match message {
            Message::State(state) if self.state == Some(state) => {}
            Message::Began(at) => self.next_began = Some(at),
            Message::State(state) => {
                self.state = Some(state);
                if state == State::Focus {
                    self.began = Some(self.next_began.take().unwrap_or_else(chrono::Utc::now));
                    self.closed.clear();
                    self.retry_at = None;
                }
                match state {
                    State::Focus if self.enabled => self.silence(),
                    State::Focus => log::debug!("quiet: off; focus leaves the desktop alone"),
                    State::Coordination => self.restore(),
                }
            }
            Message::Owner(owner) => self.owner_changed(owner),
            Message::PopupsOwed => {
                // A delivery worker that is gone has nothing to deliver.
                let _ = self.deliveries.send(());
            }
            Message::Lift(ack) => {
                self.lift();
                // The asker waits a bounded time and may have given up.
                let _ = ack.send(());
            }
            Message::Relift => {
                if self.lifted {
                    self.relift_at = Some(Instant::now() + LIFT_HOLD);
                }
            }
            Message::Quit(ack) => {
                self.restore();
                let _ = ack.send(());
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// Gives back the user's setting for one popup that must show during focus. With
    /// `desktop_replay = "digest"`, what the desktop queued from other apps is closed first, or
    /// the lift would let it all out with the one popup.
    fn lift(&mut self) {
        if !self.lifted && self.close_seen && replays(&self.active) {
            if let Some(began) = self.began {
                self.close_seen_since(began);
            }
        }
        if !self.lifted {
            for active in &mut self.active {
                let Some(saved) = active.saved.clone() else {
                    continue;
                };
                match active.desktop.restore(&saved) {
                    Ok(()) => self.lifted = true,
                    Err(e) => log::warn!("could not lift {} for a popup: {e}", active.kind.tag()),
                }
            }
        }
        self.relift_at = None;
    }

    fn remember(&self, value: Option<&str>) -> bool {
        match self.memory.remember(value) {
            Ok(()) => true,
            // The app is quitting: nothing is changed that would need remembering.
            Err(Error::Closed) => false,
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
            .filter_map(|a| {
                a.saved
                    .as_ref()
                    .map(|saved| format!("{}:{saved}", a.kind.tag()))
            })
            .collect();
        if lines.is_empty() {
            self.remember(None)
        } else {
            self.remember(Some(&lines.join("\n")))
        }
    }

    /// A previous run silenced the desktop and did not restore it (it crashed). Runs even
    /// when quieting is off now.
    /// Tries again to give back what a failed restore kept, outside focus; waits twice as long
    /// before the next try while some is still kept.
    pub(super) fn retry_restore(&mut self) {
        let Some((_, wait)) = self.retry_at.take() else {
            return;
        };
        if self.state == Some(State::Focus) {
            return;
        }
        self.recover();
        if matches!(self.memory.recall(), Ok(Some(_))) {
            let wait = (wait * 2).min(MAX_RETRY);
            self.retry_at = Some((Instant::now() + wait, wait));
        }
    }

    pub(super) fn recover(&mut self) {
        let saved = match self.memory.recall() {
            Ok(Some(saved)) => saved,
            Ok(None) | Err(Error::Closed) => return,
            Err(e) => {
                log::warn!("cannot read the desktop setting a previous run left to restore: {e}");
                return;
            }
        };
        let mut kept = Vec::new();
        for line in saved.lines() {
            let Some((tag, value)) = line.split_once(':') else {
                continue;
            };
            // Plasma drops an inhibition when its client goes away: nothing survives a crash.
            let Some(kind) = Kind::from_tag(tag).filter(|k| k.outlives_weft()) else {
                continue;
            };
            let Some(mut desktop) = self.session.adapter(kind) else {
                continue;
            };
            if kind.lives_in_server() {
                // Such a setting lives as long as the server that holds it.
                let now = self
                    .session
                    .server()
                    .ok()
                    .and_then(|s| Kind::of_server(&s.name));
                if now != Some(kind) {
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
            // Not only at the next start: a server that was busy answers again later.
            self.retry_at = Some((Instant::now() + FIRST_RETRY, FIRST_RETRY));
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
        let Server { name, unique } = match self.session.server() {
            Ok(found) => found,
            Err(e @ Error::NotRunning(_)) => {
                log::info!("no notification server to quiet ({e})");
                return;
            }
            Err(e) => {
                log::warn!("no notification server to quiet ({e})");
                return;
            }
        };
        if !unique.is_empty() && self.applied_to.as_deref() == Some(unique.as_str()) {
            return;
        }
        self.applied_to = Some(unique);
        let adapter = Kind::of_server(&name)
            .and_then(|kind| self.session.adapter(kind).map(|desktop| (kind, desktop)));
        let now = adapter.as_ref().map(|(kind, _)| *kind);
        // A setting that lived in a server that is gone went with it.
        let before = self.active.len();
        self.active.retain(|a| {
            let keep = !a.kind.lives_in_server() || Some(a.kind) == now;
            if !keep {
                log::info!(
                    "{}: that server is gone, and Weft's silence with it",
                    a.kind.tag()
                );
            }
            keep
        });
        if self.active.len() != before {
            self.persist();
        }
        let Some((kind, mut desktop)) = adapter else {
            if !self.told_unknown {
                self.told_unknown = true;
                let text = format!(
                    "The notification server \"{name}\" is not one Weft can quiet (dunst, GNOME, KDE); other apps' popups still show during focus."
                );
                log::warn!("{text}");
                (self.unknown)(text);
            }
            return;
        };
        let lifted = self.lifted;
        if let Some(active) = self.active.iter_mut().find(|a| a.kind == kind) {
            // Silenced again after the lift, with the others.
            if lifted && active.saved.is_some() {
                return;
            }
            match active.desktop.silence() {
                Ok(()) => log::info!(
                    "{name}: popups silenced again (the server restarted); coordination gives back the setting saved at the start of focus"
                ),
                Err(e) => log::warn!("could not silence {name} again: {e}"),
            }
            return;
        }
        let saved = match desktop.probe() {
            Ok(Some(saved)) => saved,
            Ok(None) => {
                log::info!("{name}: already silent; left as it is");
                self.active.push(Active {
                    kind,
                    desktop,
                    saved: None,
                });
                return;
            }
            Err(e) => {
                log::warn!("could not read {name}'s setting: {e}");
                return;
            }
        };
        self.active.push(Active {
            kind,
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
            Ok(()) => log::info!("{name}: popups silenced for focus"),
            Err(e) => {
                log::warn!("could not silence {name}: {e}");
                self.active.pop();
                self.persist();
            }
        }
    }

    /// Ends a lift: silences again, still in focus.
    pub(super) fn silence_again(&mut self) {
        if !std::mem::take(&mut self.lifted) {
            return;
        }
        for active in self.active.iter_mut().filter(|a| a.saved.is_some()) {
            if let Err(e) = active.desktop.silence() {
                log::warn!("could not silence {} again: {e}", active.kind.tag());
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
        let began = self.began.take();
        if active.iter().all(|a| a.saved.is_none()) {
            log::debug!("quiet: nothing to restore");
            return;
        }
        if self.close_seen && replays(&active) {
            if let Some(began) = began {
                self.close_seen_since(began);
            }
        }
        self.closed.clear();
        let server_gone = self.owner == Some(None);
        let mut kept = Vec::new();
        for mut active in active {
            let tag = active.kind.tag();
            let Some(saved) = active.saved.take() else {
                continue;
            };
            if server_gone && active.kind.lives_in_server() {
                log::info!("{tag}: the notification server is gone, and Weft's silence with it");
                continue;
            }
            match active.desktop.restore(&saved) {
                Ok(()) => log::info!("{tag}: popups restored"),
                // Still remembered: the next start restores it.
                Err(e) => {
                    log::warn!("could not restore {tag}: {e}");
                    kept.push(format!("{tag}:{saved}"));
                }
            }
        }
        if kept.is_empty() {
            self.remember(None);
        } else {
            self.remember(Some(&kept.join("\n")));
            // Not only at the next start: a server that was busy answers again later.
            self.retry_at = Some((Instant::now() + FIRST_RETRY, FIRST_RETRY));
        }
    }

    /// Closes the notifications other apps sent since `began` on the server, before the
    /// desktop's setting comes back: what it held would otherwise be replayed one by one,
    /// and Weft's digest already names them. Each id is closed once a focus block. A failure
    /// only means the desktop replays them.
    fn close_seen_since(&mut self, began: chrono::DateTime<chrono::Utc>) {
        let ids: Vec<u32> = match self.memory.seen_since(began) {
            Ok(ids) => ids
                .into_iter()
                .filter(|id| !self.closed.contains(id))
                .collect(),
            Err(e) => {
                log::warn!("the desktop will replay what it held: {e}");
                return;
            }
        };
        if ids.is_empty() {
            return;
        }
        let started = Instant::now();
        match self.session.close(&ids) {
            Ok(()) => {
                log::info!(
                    "closed {} notification(s) the digest names in {} ms",
                    ids.len(),
                    started.elapsed().as_millis()
                );
                self.closed.extend(ids);
            }
            Err(e) => log::warn!("the desktop will replay what it held: {e}"),
        }
    }
}

/// Whether a server this focus block silenced replays what it held when its setting comes
/// back (dunst shows its queue on resume). GNOME and KDE keep what came during focus in their
/// own lists and replay nothing, so nothing is closed there: the user still finds it in the
/// desktop's list, and Weft's digest says what arrived.
fn replays(active: &[Active]) -> bool {
    active
        .iter()
        .any(|a| a.saved.is_some() && a.kind == Kind::Dunst)
}

#[cfg(test)]
mod tests;

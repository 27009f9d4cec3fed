//! The quiet worker driven through fakes: a session whose notification server can change hands
//! and whose calls can fail, and a memory that can refuse to write. Every call lands in one
//! log, so a test sees the order (the setting is remembered before popups are silenced).

use super::{Flow, Memory, Message, Session, Worker};
use crate::quiet::{Desktop, Error, Kind, Server};
use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, MutexGuard};
use weft_proto::State;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    Probe(&'static str),
    Silence(&'static str),
    Restore(&'static str, String),
    Remember(Option<String>),
    /// `CloseNotification` for these ids.
    Close(Vec<u32>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Probe,
    Silence,
    Restore,
}

/// The desktop and the store as the worker finds them.
#[derive(Default)]
struct World {
    calls: Vec<Call>,
    /// The notification server now (`None`: none runs).
    server: Option<Server>,
    /// Each kind's setting: `Some` (what the user chose, what a probe reads) or `None`
    /// (silent). A kind not listed reads "on".
    settings: HashMap<Kind, Option<String>>,
    /// Calls that fail (a server that does not answer).
    failing: Vec<(Op, Kind)>,
    /// What the store holds under `quiet_desktop`.
    memory: Option<String>,
    /// Writes to the store fail.
    memory_fails: bool,
    /// What the worker told the app about a server it cannot quiet.
    told: Vec<String>,
    /// Other apps' notifications the store has seen: (when, server id).
    seen: Vec<(chrono::DateTime<chrono::Utc>, u32)>,
    /// What the worker last told the store: are popups silent?
    silent: Option<bool>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<World>>);

impl Fake {
    fn world(&self) -> MutexGuard<'_, World> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The calls since the last look.
    fn calls(&self) -> Vec<Call> {
        std::mem::take(&mut self.world().calls)
    }

    fn serve(&self, name: &str, unique: &str) {
        self.world().server = Some(Server {
            name: name.into(),
            unique: unique.into(),
        });
    }

    fn set(&self, kind: Kind, setting: Option<&str>) {
        self.world().settings.insert(kind, setting.map(Into::into));
    }

    fn setting(&self, kind: Kind) -> Option<String> {
        self.world()
            .settings
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| Some("on".into()))
    }

    fn fail(&self, op: Op, kind: Kind) {
        self.world().failing.push((op, kind));
    }

    fn heal(&self) {
        self.world().failing.clear();
    }

    fn memory(&self) -> Option<String> {
        self.world().memory.clone()
    }

    /// A worker on this fake, as `Quiet::start` makes one; the receiver is the delivery
    /// worker's wake-up.
    fn worker(&self, enabled: bool) -> (Worker, Receiver<()>) {
        let (deliveries, woken) = mpsc::channel();
        let told = self.clone();
        let unknown = Box::new(move |text: String| told.world().told.push(text));
        let worker = Worker::new(
            Box::new(self.clone()),
            Box::new(self.clone()),
            enabled,
            deliveries,
            unknown,
        );
        (worker, woken)
    }
}

struct FakeDesktop {
    kind: Kind,
    fake: Fake,
}

impl FakeDesktop {
    /// Logs the call; fails it when the test says so.
    fn call(&self, op: Op, call: Call) -> Result<(), Error> {
        let mut world = self.fake.world();
        world.calls.push(call);
        if world.failing.contains(&(op, self.kind)) {
            return Err(Error::Timeout);
        }
        Ok(())
    }
}

impl Desktop for FakeDesktop {
    fn probe(&mut self) -> Result<Option<String>, Error> {
        self.call(Op::Probe, Call::Probe(self.kind.tag()))?;
        Ok(self.fake.setting(self.kind))
    }

    fn silence(&mut self) -> Result<(), Error> {
        self.call(Op::Silence, Call::Silence(self.kind.tag()))?;
        self.fake.set(self.kind, None);
        Ok(())
    }

    fn restore(&mut self, saved: &str) -> Result<(), Error> {
        self.call(Op::Restore, Call::Restore(self.kind.tag(), saved.into()))?;
        self.fake.set(self.kind, Some(saved));
        Ok(())
    }
}

impl Session for Fake {
    fn close(&self, ids: &[u32]) -> Result<(), Error> {
        self.world().calls.push(Call::Close(ids.to_vec()));
        Ok(())
    }

    fn server(&self) -> Result<Server, Error> {
        self.world()
            .server
            .clone()
            .ok_or_else(|| Error::NotRunning("ServiceUnknown".into()))
    }

    fn adapter(&self, kind: Kind) -> Option<Box<dyn Desktop>> {
        Some(Box::new(FakeDesktop {
            kind,
            fake: self.clone(),
        }))
    }
}

impl Memory for Fake {
    fn silenced(&self, silent: bool) {
        self.world().silent = Some(silent);
    }

    fn seen_since(&self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<u32>, Error> {
        Ok(self
            .world()
            .seen
            .iter()
            .filter(|(at, _)| *at >= since)
            .map(|(_, id)| *id)
            .collect())
    }

    fn recall(&self) -> Result<Option<String>, Error> {
        Ok(self.memory())
    }

    fn remember(&self, value: Option<&str>) -> Result<(), Error> {
        let mut world = self.world();
        world.calls.push(Call::Remember(value.map(Into::into)));
        if world.memory_fails {
            return Err(Error::Store(std::io::Error::other("disk full").into()));
        }
        world.memory = value.map(Into::into);
        Ok(())
    }
}

fn remember(value: &str) -> Call {
    Call::Remember(Some(value.into()))
}

fn restore(tag: &'static str, saved: &str) -> Call {
    Call::Restore(tag, saved.into())
}

#[test]
fn focus_remembers_the_setting_then_silences_and_coordination_gives_it_back() {
    let fake = Fake::default();
    fake.serve("gnome-shell", ":1.5");
    fake.set(Kind::Gnome, Some("true"));
    let (mut worker, _woken) = fake.worker(true);
    worker.recover();
    assert_eq!(fake.calls(), [], "nothing was left to recover");

    worker.handle(Message::State(State::Focus));
    assert_eq!(
        fake.calls(),
        [
            Call::Probe("gnome"),
            remember("gnome:true"),
            Call::Silence("gnome")
        ]
    );
    assert_eq!(fake.setting(Kind::Gnome), None);
    worker.handle(Message::State(State::Focus));
    assert_eq!(fake.calls(), [], "a repeated state is ignored");

    worker.handle(Message::State(State::Coordination));
    assert_eq!(
        fake.calls(),
        [restore("gnome", "true"), Call::Remember(None)]
    );
    assert_eq!(fake.setting(Kind::Gnome).as_deref(), Some("true"));
    assert_eq!(fake.memory(), None);
}

#[test]
fn quiet_off_leaves_focus_alone_but_still_recovers() {
    let fake = Fake::default();
    fake.serve("gnome-shell", ":1.5");
    fake.world().memory = Some("gnome:true".into());
    fake.set(Kind::Gnome, None);
    let (mut worker, _woken) = fake.worker(false);
    worker.recover();
    assert_eq!(
        fake.calls(),
        [restore("gnome", "true"), Call::Remember(None)]
    );
    worker.handle(Message::State(State::Focus));
    worker.handle(Message::Owner(Some(":1.9".into())));
    assert_eq!(fake.calls(), []);
}

#[test]
fn a_desktop_silent_already_is_left_as_it_is() {
    let fake = Fake::default();
    fake.serve("gnome-shell", ":1.5");
    fake.set(Kind::Gnome, None);
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    assert_eq!(fake.calls(), [Call::Probe("gnome")]);
    worker.handle(Message::State(State::Coordination));
    assert_eq!(fake.calls(), [], "nothing to give back, nothing to forget");
    assert_eq!(fake.setting(Kind::Gnome), None);
}

#[test]
fn a_setting_that_cannot_be_remembered_is_not_changed() {
    let fake = Fake::default();
    fake.serve("dunst", ":1.5");
    fake.world().memory_fails = true;
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    assert_eq!(fake.calls(), [Call::Probe("dunst"), remember("dunst:on")]);
    assert_eq!(fake.setting(Kind::Dunst).as_deref(), Some("on"));
    worker.handle(Message::State(State::Coordination));
    assert_eq!(fake.calls(), []);
}

#[test]
fn a_failed_silence_is_forgotten() {
    let fake = Fake::default();
    fake.serve("dunst", ":1.5");
    fake.fail(Op::Silence, Kind::Dunst);
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    assert_eq!(
        fake.calls(),
        [
            Call::Probe("dunst"),
            remember("dunst:on"),
            Call::Silence("dunst"),
            Call::Remember(None)
        ]
    );
    worker.handle(Message::State(State::Coordination));
    assert_eq!(
        fake.calls(),
        [],
        "nothing was silenced, nothing to give back"
    );
}

#[test]
fn a_setting_that_could_not_be_read_is_not_changed() {
    let fake = Fake::default();
    fake.serve("gnome-shell", ":1.5");
    fake.fail(Op::Probe, Kind::Gnome);
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    assert_eq!(fake.calls(), [Call::Probe("gnome")]);
    assert_eq!(fake.memory(), None);
}

#[test]
fn a_failed_restore_is_kept_and_the_next_start_gives_it_back() {
    let fake = Fake::default();
    fake.serve("gnome-shell", ":1.5");
    fake.set(Kind::Gnome, Some("true"));
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    fake.calls();
    fake.fail(Op::Restore, Kind::Gnome);
    worker.handle(Message::State(State::Coordination));
    assert_eq!(
        fake.calls(),
        [restore("gnome", "true"), remember("gnome:true")]
    );
    assert_eq!(fake.setting(Kind::Gnome), None);

    // The next start fails too: still kept.
    let (mut next, _woken) = fake.worker(true);
    next.recover();
    assert_eq!(
        fake.calls(),
        [restore("gnome", "true"), remember("gnome:true")]
    );

    // And the one after gives it back, then forgets.
    fake.heal();
    let (mut last, _woken) = fake.worker(true);
    last.recover();
    assert_eq!(
        fake.calls(),
        [restore("gnome", "true"), Call::Remember(None)]
    );
    assert_eq!(fake.setting(Kind::Gnome).as_deref(), Some("true"));
    assert_eq!(fake.memory(), None);
}

#[test]
fn a_server_weft_cannot_quiet_is_reported_once() {
    let fake = Fake::default();
    fake.serve("xfce4-notifyd", ":1.5");
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    fake.serve("xfce4-notifyd", ":1.8");
    worker.handle(Message::Owner(Some(":1.8".into())));
    worker.handle(Message::State(State::Coordination));
    assert_eq!(fake.calls(), []);
    let told = fake.world().told.clone();
    assert_eq!(
        told,
        ["The notification server \"xfce4-notifyd\" is not one Weft can quiet (dunst, GNOME, KDE); other apps' popups still show during focus."]
    );
}

#[test]
fn no_server_means_nothing_to_quiet() {
    let fake = Fake::default();
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    worker.handle(Message::State(State::Coordination));
    assert_eq!(fake.calls(), []);
    assert!(fake.world().told.is_empty());
}

#[test]
fn a_restarted_server_is_silenced_again_and_coordination_gives_back_the_setting_saved_before() {
    let fake = Fake::default();
    fake.serve("gnome-shell", ":1.5");
    fake.set(Kind::Gnome, Some("true"));
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::Owner(Some(":1.5".into())));
    worker.handle(Message::State(State::Focus));
    fake.calls();
    worker.handle(Message::Owner(Some(":1.5".into())));
    assert_eq!(fake.calls(), [], "the server already silenced");

    // GNOME Shell restarts; its GSettings key still reads silent, which is not the user's.
    fake.serve("gnome-shell", ":1.9");
    worker.handle(Message::Owner(None));
    worker.handle(Message::Owner(Some(":1.9".into())));
    assert_eq!(
        fake.calls(),
        [Call::Silence("gnome")],
        "silenced, not probed"
    );
    assert_eq!(fake.memory().as_deref(), Some("gnome:true"));

    worker.handle(Message::State(State::Coordination));
    assert_eq!(
        fake.calls(),
        [restore("gnome", "true"), Call::Remember(None)]
    );
}

#[test]
fn a_server_that_takes_over_during_focus_is_silenced_too() {
    let fake = Fake::default();
    fake.serve("dunst", ":1.5");
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    fake.calls();

    // GNOME Shell takes the name: dunst's pause went with dunst.
    fake.serve("gnome-shell", ":1.7");
    fake.set(Kind::Gnome, Some("true"));
    worker.handle(Message::Owner(Some(":1.7".into())));
    assert_eq!(
        fake.calls(),
        [
            Call::Remember(None),
            Call::Probe("gnome"),
            remember("gnome:true"),
            Call::Silence("gnome")
        ]
    );

    // dunst comes back (unpaused, as a new dunst starts): GNOME's setting outlasts its
    // server and stays to give back.
    fake.serve("dunst", ":1.8");
    fake.set(Kind::Dunst, Some("on"));
    worker.handle(Message::Owner(Some(":1.8".into())));
    assert_eq!(
        fake.calls(),
        [
            Call::Probe("dunst"),
            remember("gnome:true\ndunst:on"),
            Call::Silence("dunst")
        ]
    );

    worker.handle(Message::State(State::Coordination));
    assert_eq!(
        fake.calls(),
        [
            restore("gnome", "true"),
            restore("dunst", "on"),
            Call::Remember(None)
        ]
    );
}

#[test]
fn a_server_that_left_took_its_silence_with_it() {
    let fake = Fake::default();
    fake.serve("dunst", ":1.5");
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    fake.calls();
    worker.handle(Message::Owner(None));
    worker.handle(Message::State(State::Coordination));
    assert_eq!(fake.calls(), [Call::Remember(None)]);
}

#[test]
fn a_crashed_run_is_given_back_only_where_its_setting_still_lives() {
    // GNOME's key outlasts everything; dunst's pause only its own server; KDE's inhibition
    // went with the crashed run's connection.
    let fake = Fake::default();
    fake.serve("gnome-shell", ":1.5");
    fake.world().memory = Some("dunst:on\ngnome:true\nkde:inhibit\nnot a line".into());
    let (mut worker, _woken) = fake.worker(true);
    worker.recover();
    assert_eq!(
        fake.calls(),
        [restore("gnome", "true"), Call::Remember(None)]
    );

    fake.serve("dunst", ":1.6");
    fake.world().memory = Some("dunst:on\nkde:inhibit".into());
    let (mut worker, _woken) = fake.worker(true);
    worker.recover();
    assert_eq!(fake.calls(), [restore("dunst", "on"), Call::Remember(None)]);
}

#[test]
fn a_lift_gives_the_setting_back_until_the_popup_has_been_read() {
    let fake = Fake::default();
    fake.serve("gnome-shell", ":1.5");
    fake.set(Kind::Gnome, Some("true"));
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    fake.calls();

    let (ack, lifted) = mpsc::sync_channel(1);
    worker.handle(Message::Lift(ack));
    assert_eq!(lifted.try_recv(), Ok(()), "the asker is answered");
    assert_eq!(fake.calls(), [restore("gnome", "true")]);

    // A restart during the lift is silenced with the others when it ends.
    fake.serve("gnome-shell", ":1.9");
    worker.handle(Message::Owner(Some(":1.9".into())));
    assert_eq!(fake.calls(), []);

    worker.handle(Message::Relift);
    assert!(worker.relift_at.is_some(), "silenced again after a while");
    worker.silence_again();
    assert_eq!(fake.calls(), [Call::Silence("gnome")]);
    worker.silence_again();
    assert_eq!(fake.calls(), [], "once");
}

#[test]
fn quitting_gives_the_setting_back_and_ends_the_worker() {
    let fake = Fake::default();
    fake.serve("dunst", ":1.5");
    let (mut worker, woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    fake.calls();
    worker.handle(Message::PopupsOwed);
    assert_eq!(woken.try_recv(), Ok(()), "the delivery worker is woken");

    let (ack, done) = mpsc::sync_channel(1);
    assert_eq!(worker.handle(Message::Quit(ack)), Flow::Stop);
    assert_eq!(done.try_recv(), Ok(()));
    assert_eq!(fake.calls(), [restore("dunst", "on"), Call::Remember(None)]);
}

#[test]
fn with_digest_replay_what_focus_held_is_closed_before_the_setting_comes_back() {
    let fake = Fake::default();
    fake.serve("dunst", ":1.5");
    fake.set(Kind::Dunst, Some("false"));
    let (worker, _woken) = fake.worker(true);
    let mut worker = worker.closing_what_was_seen(true);
    let began = chrono::Utc::now();
    // Seen before focus (shown then, never held) and during it.
    fake.world().seen = vec![
        (began - chrono::Duration::minutes(5), 3),
        (began + chrono::Duration::seconds(1), 7),
        (began + chrono::Duration::seconds(2), 8),
    ];
    worker.handle(Message::Began(began));
    worker.handle(Message::State(State::Focus));
    fake.calls();
    worker.handle(Message::State(State::Coordination));
    assert_eq!(
        fake.calls(),
        [
            Call::Close(vec![7, 8]),
            restore("dunst", "false"),
            Call::Remember(None)
        ],
        "closed first, so the desktop has nothing to replay"
    );
}

#[test]
fn with_desktop_replay_or_nothing_silenced_nothing_is_closed() {
    let fake = Fake::default();
    fake.serve("dunst", ":1.5");
    fake.set(Kind::Dunst, Some("false"));
    fake.world().seen = vec![(chrono::Utc::now() + chrono::Duration::seconds(1), 7)];
    // desktop_replay = "desktop": the server replays as before.
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    fake.calls();
    worker.handle(Message::State(State::Coordination));
    assert_eq!(
        fake.calls(),
        [restore("dunst", "false"), Call::Remember(None)]
    );

    // quiet_desktop off: the desktop showed them live, and nothing is replayed or closed.
    let (worker, _woken) = fake.worker(false);
    let mut worker = worker.closing_what_was_seen(true);
    worker.handle(Message::State(State::Focus));
    worker.handle(Message::State(State::Coordination));
    assert_eq!(fake.calls(), []);
}

/// A worker closing what focus held (`desktop_replay = "digest"`), in a focus block that began
/// then on dunst, which queued one notification, id 9, a second after.
fn dunst_closing_in_focus() -> (Fake, Worker, chrono::DateTime<chrono::Utc>) {
    let fake = Fake::default();
    fake.serve("dunst", ":1.5");
    fake.set(Kind::Dunst, Some("false"));
    let (worker, _woken) = fake.worker(true);
    let mut worker = worker.closing_what_was_seen(true);
    let began = chrono::Utc::now();
    fake.world().seen = vec![(began + chrono::Duration::seconds(1), 9)];
    worker.handle(Message::Began(began));
    worker.handle(Message::State(State::Focus));
    (fake, worker, began)
}

#[test]
fn the_store_is_told_when_popups_are_silent_and_a_lift_closes_what_was_queued() {
    let (fake, mut worker, _began) = dunst_closing_in_focus();
    assert_eq!(fake.world().silent, Some(true));
    fake.calls();
    // A break-through of Weft's own: what dunst queued is closed before the pause lifts.
    let (ack, _done) = mpsc::sync_channel(1);
    worker.handle(Message::Lift(ack));
    assert_eq!(
        fake.calls(),
        [Call::Close(vec![9]), restore("dunst", "false")],
        "closed first, so the lift shows the one popup"
    );
    assert_eq!(
        fake.world().silent,
        Some(false),
        "lifted: the desktop shows popups"
    );
    worker.handle(Message::State(State::Coordination));
    assert_eq!(fake.world().silent, Some(false));
}

#[test]
fn each_id_is_closed_once_a_block_and_only_on_a_server_that_replays() {
    let (fake, mut worker, began) = dunst_closing_in_focus();
    let (ack, _done) = mpsc::sync_channel(1);
    worker.handle(Message::Lift(ack));
    fake.calls();
    fake.world()
        .seen
        .push((began + chrono::Duration::seconds(2), 10));
    worker.handle(Message::State(State::Coordination));
    assert_eq!(
        fake.calls().first(),
        Some(&Call::Close(vec![10])),
        "9 was closed at the lift"
    );

    // GNOME keeps what came during focus in its list and replays nothing: nothing is closed.
    let fake = Fake::default();
    fake.serve("gnome-shell", ":1.6");
    fake.set(Kind::Gnome, Some("true"));
    let (worker, _woken) = fake.worker(true);
    let mut worker = worker.closing_what_was_seen(true);
    fake.world().seen = vec![(chrono::Utc::now() + chrono::Duration::seconds(1), 7)];
    worker.handle(Message::State(State::Focus));
    fake.calls();
    worker.handle(Message::State(State::Coordination));
    assert_eq!(
        fake.calls(),
        [restore("gnome", "true"), Call::Remember(None)]
    );
}

#[test]
fn a_restore_that_failed_is_tried_again_outside_focus() {
    let fake = Fake::default();
    fake.serve("dunst", ":1.5");
    fake.set(Kind::Dunst, Some("false"));
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    fake.fail(Op::Restore, Kind::Dunst);
    worker.handle(Message::State(State::Coordination));
    assert_eq!(fake.memory().as_deref(), Some("dunst:false"), "kept");
    fake.calls();
    // Still failing: kept, and tried again later.
    worker.retry_restore();
    assert_eq!(
        fake.calls(),
        [restore("dunst", "false"), remember("dunst:false")]
    );
    assert_eq!(fake.memory().as_deref(), Some("dunst:false"));
    fake.heal();
    worker.retry_restore();
    assert_eq!(
        fake.setting(Kind::Dunst).as_deref(),
        Some("false"),
        "given back"
    );
    assert_eq!(fake.memory(), None);
    // Nothing more to try.
    fake.calls();
    worker.retry_restore();
    assert_eq!(fake.calls(), []);
}

#[test]
fn a_server_weft_cannot_quiet_is_not_silent() {
    let fake = Fake::default();
    fake.serve("mako", ":1.5");
    let (mut worker, _woken) = fake.worker(true);
    worker.handle(Message::State(State::Focus));
    assert_eq!(fake.world().silent, Some(false));
}

//! Dispatcher tests: a real store file, a manual clock and a shell that records calls.

use super::*;
use crate::clock::ManualClock;
use crate::machine::Plan;
use crate::store::PopupKey;
use chrono::{DateTime, TimeZone, Utc};
use weft_proto::{Disposition, State, Urgency};
use weft_proto::{ErrorKind, NotifyOutcome, Request, Response};

#[derive(Default)]
struct RecordingShell {
    changes: Mutex<Vec<State>>,
    opened: Mutex<u32>,
    owed: Mutex<u32>,
}

impl Shell for RecordingShell {
    fn state_changed(&self, status: &Status) {
        if let Ok(mut changes) = self.changes.lock() {
            changes.push(status.state);
        }
    }
    fn open_window(&self) -> std::result::Result<(), ShellError> {
        if let Ok(mut opened) = self.opened.lock() {
            *opened += 1;
        }
        Ok(())
    }
    fn close_window(&self) -> std::result::Result<(), ShellError> {
        Err(ShellError::NoExecutable {
            cause: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
    }
    fn popups_owed(&self) {
        if let Ok(mut owed) = self.owed.lock() {
            *owed += 1;
        }
    }
}

fn nine() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The core's answer to a request, as the control socket gives it (no team client).
fn answer(weft: &Weft, request: Request) -> Response {
    answer_within(weft, request, None)
}

fn answer_within(weft: &Weft, request: Request, deadline: Option<Deadline>) -> Response {
    match crate::dispatch::route(weft, request, deadline) {
        crate::dispatch::Routed::Answered(response) => response,
        crate::dispatch::Routed::Team(_) => crate::dispatch::not_ready(),
    }
}

#[test]
fn a_switch_is_committed_reported_and_restored() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    let clock = Arc::new(ManualClock::new(nine()));
    let shell = Arc::new(RecordingShell::default());
    {
        let weft = Weft::start(Store::open(&path)?, clock.clone())?;
        weft.attach_shell(shell.clone());
        clock.advance(chrono::Duration::minutes(5));
        let outcome = weft.switch(Target::Focus, Source::Hotkey, Some("parser"))?;
        assert!(outcome.switched);
        assert_eq!(
            weft_proto::time::format(outcome.status.since),
            "2026-11-24T09:05:00.000Z"
        );
        // Committed before reported: a second connection already sees it.
        let reader = Store::open_read_only(&path)?;
        assert_eq!(reader.switches(None)?.len(), 1);
        // The same state again is a no-op and is not logged.
        let again = weft.switch(Target::Focus, Source::Tray, None)?;
        assert!(!again.switched);
        assert_eq!(reader.switches(None)?.len(), 1);
        // No stop is logged: this is a crash.
    }
    assert_eq!(
        *shell.changes.lock().map_err(|_| "poisoned")?,
        vec![State::Focus]
    );

    clock.advance(chrono::Duration::minutes(30));
    let weft = Weft::start(Store::open(&path)?, clock.clone())?;
    let status = weft.status();
    assert_eq!(status.state, State::Focus);
    assert_eq!(
        weft_proto::time::format(status.since),
        "2026-11-24T09:05:00.000Z"
    );
    assert_eq!(status.intent.as_deref(), Some("parser"));
    weft.stop()?;
    weft.stop()?;
    assert!(
        matches!(
            weft.switch(Target::Toggle, Source::Cli, None),
            Err(Error::ShuttingDown)
        ),
        "nothing is switched after the stop is logged"
    );
    let events = weft.with_store(|s| s.app_events())?;
    let kinds: Vec<_> = events.iter().map(|(_, e)| *e).collect();
    assert_eq!(
        kinds,
        vec![AppEvent::Start, AppEvent::Start, AppEvent::Stop]
    );
    Ok(())
}

#[test]
fn dispatch_answers_every_request() -> TestResult {
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open_in_memory()?, clock.clone())?;
    assert!(
        matches!(answer(&weft, Request::OpenWindow), Response::Error(_)),
        "no shell yet"
    );
    let shell = Arc::new(RecordingShell::default());
    weft.attach_shell(shell.clone());

    let Response::Status(status) = answer(&weft, Request::Status) else {
        return Err("expected a status".into());
    };
    assert_eq!(status.state, State::Coordination);

    clock.advance(chrono::Duration::minutes(1));
    let toggled = answer(
        &weft,
        Request::Switch {
            to: Target::Toggle,
            source: Source::Cli,
            intent: None,
            minutes: None,
            stash: None,
        },
    );
    assert!(matches!(
        toggled,
        Response::Switched(SwitchOutcome { switched: true, .. })
    ));

    let Response::Log(log) = answer(&weft, Request::Log { since: None }) else {
        return Err("expected a log".into());
    };
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].from, State::Coordination);
    assert_eq!(log[0].to, State::Focus);
    assert_eq!(
        weft_proto::time::format(log[0].at),
        "2026-11-24T09:01:00.000Z"
    );

    let Response::Log(later) = answer(
        &weft,
        Request::Log {
            since: Some("2026-11-24T10:00:00+00:00".into()),
        },
    ) else {
        return Err("expected a log".into());
    };
    assert!(later.is_empty());

    assert!(matches!(
        answer(
            &weft,
            Request::Log {
                since: Some("last tuesday".into())
            }
        ),
        Response::Error(weft_proto::ErrorReport {
            kind: ErrorKind::Invalid,
            ..
        })
    ));
    assert!(matches!(
        answer(
            &weft,
            Request::Switch {
                to: Target::Coordination,
                source: Source::Ui,
                intent: Some("x".into()),
                minutes: None,
                stash: None,
            }
        ),
        Response::Error(weft_proto::ErrorReport {
            kind: ErrorKind::Invalid,
            ..
        })
    ));
    assert_eq!(answer(&weft, Request::OpenWindow), Response::Done);
    assert_eq!(*shell.opened.lock().map_err(|_| "poisoned")?, 1);
    assert!(matches!(
        answer(&weft, Request::CloseWindow),
        Response::Error(weft_proto::ErrorReport {
            kind: ErrorKind::Unavailable,
            ..
        })
    ));
    // A shell that cannot change the hotkey says so, as `unavailable`.
    match answer(&weft, Request::ChangeHotkey) {
        Response::Error(report) => {
            assert_eq!(report.kind, ErrorKind::Unavailable);
            assert!(
                report.message.contains("cannot ask the desktop"),
                "{report:?}"
            );
        }
        other => return Err(format!("{other:?}").into()),
    }
    Ok(())
}

#[test]
fn watchers_get_the_status_then_every_switch_in_order() -> TestResult {
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open_in_memory()?, clock)?;
    let events = weft.watch();
    let gone = weft.watch();
    drop(gone);
    weft.switch(Target::Focus, Source::Cli, None)?;
    weft.switch(Target::Focus, Source::Cli, None)?; // a no-op sends nothing
    weft.switch(Target::Coordination, Source::Hotkey, None)?;
    assert_eq!(
        weft.broadcast(&weft_proto::Event::Raise),
        1,
        "the dropped watcher is gone"
    );
    let states: Vec<String> = events
        .try_iter()
        .map(|e| match e {
            weft_proto::Event::Status(s) => s.state.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(states, ["coordination", "focus", "coordination", "Raise"]);
    Ok(())
}

fn note<'a>(title: &'a str, urgency: Urgency, from: Option<&'a str>) -> Incoming<'a> {
    Incoming {
        title,
        body: None,
        urgency,
        from,
        opens: None,
        ping: None,
    }
}

#[test]
fn focus_holds_and_coordination_releases_one_digest() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    let clock = Arc::new(ManualClock::new(nine()));
    let shell = Arc::new(RecordingShell::default());
    {
        let weft = Weft::start(Store::open(&path)?, clock.clone())?;
        weft.attach_shell(shell.clone());
        let delivered = weft.notify(&note("lunch?", Urgency::Normal, Some("Ana")))?;
        assert_eq!(
            delivered.disposition,
            Disposition::Delivered,
            "coordination delivers"
        );
        weft.switch(Target::Focus, Source::Hotkey, None)?;
        for (title, from) in [("a", Some("Ana")), ("b", Some("CI")), ("c", Some("Ana"))] {
            let held = weft.notify(&note(title, Urgency::Normal, from))?;
            assert_eq!(held.disposition, Disposition::Held);
        }
        weft.notify(&note("fyi", Urgency::Low, None))?;
        let fire = weft.notify(&note("prod down", Urgency::Critical, Some("pager")))?;
        assert_eq!(fire.disposition, Disposition::BreakThrough);
        assert_eq!(weft.status().held, 4);
        let owed: Vec<String> = weft.owed_popups()?.into_iter().map(|p| p.summary).collect();
        assert_eq!(
            owed,
            ["Ana: lunch?", "pager: prod down"],
            "held items owe no popup"
        );
        // kill -9 here: nothing of this is lost.
    }
    let weft = Weft::start(Store::open(&path)?, clock.clone())?;
    weft.attach_shell(shell.clone());
    assert_eq!(weft.status().state, State::Focus);
    assert_eq!(weft.status().held, 4, "held items survive a restart");
    let inbox = weft.inbox()?;
    assert_eq!(inbox.len(), 6);
    assert_eq!(inbox[0].title, "a", "held first, oldest first");
    assert_eq!(inbox[4].title, "prod down", "then the others, newest first");

    clock.advance(chrono::Duration::minutes(50));
    weft.switch(Target::Coordination, Source::Tray, None)?;
    assert_eq!(weft.status().held, 0);
    let digests: Vec<(String, String)> = weft
        .owed_popups()?
        .into_iter()
        .filter(|p| matches!(p.key, PopupKey::Digest(_)))
        .map(|p| (p.summary, p.body))
        .collect();
    assert_eq!(
        digests,
        [(
            "3 held while you focused".to_owned(),
            "2 from Ana, 1 from CI\n+ 1 low-priority in the Inbox".to_owned()
        )]
    );
    assert!(*shell.owed.lock().map_err(|_| "poisoned")? >= 1);
    // A second switch into coordination releases nothing twice.
    weft.switch(Target::Focus, Source::Tray, None)?;
    weft.switch(Target::Coordination, Source::Tray, None)?;
    let digest_count = weft
        .owed_popups()?
        .iter()
        .filter(|p| matches!(p.key, PopupKey::Digest(_)))
        .count();
    assert_eq!(digest_count, 1);
    Ok(())
}

#[test]
fn popups_stay_owed_until_the_desktop_takes_them() -> TestResult {
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open_in_memory()?, clock)?;
    weft.notify(&note("build done", Urgency::Normal, Some("CI")))?;
    let owed = weft.owed_popups()?;
    assert_eq!(owed.len(), 1);
    weft.popup_failed(owed[0].key, "no notification daemon")?;
    let again = weft.owed_popups()?;
    assert_eq!(again[0].attempts, 1, "kept, with its attempts counted");
    assert!(!again[0].breaks_focus);
    weft.popup_shown(again[0].key)?;
    assert!(weft.owed_popups()?.is_empty());
    weft.notify(&note("stale", Urgency::Normal, None))?;
    let stale = weft.owed_popups()?;
    weft.popup_given_up(stale[0].key, "waited more than a day")?;
    assert!(weft.owed_popups()?.is_empty());
    assert_eq!(weft.inbox()?.len(), 2, "given up, still in the Inbox");
    Ok(())
}

#[test]
fn a_release_time_sends_the_digest_during_focus_only() -> TestResult {
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open_in_memory()?, clock)?;
    assert_eq!(weft.release_held_now()?, 0, "nothing held in coordination");
    weft.switch(Target::Focus, Source::Cli, None)?;
    weft.notify(&note("x", Urgency::Normal, None))?;
    weft.notify(&note("y", Urgency::Low, None))?;
    assert_eq!(weft.release_held_now()?, 2);
    assert_eq!(weft.status().held, 0);
    assert_eq!(weft.status().state, State::Focus, "focus goes on");
    let owed = weft.owed_popups()?;
    assert_eq!(owed.len(), 1, "one digest");
    assert!(owed[0].breaks_focus, "shown through a quiet desktop");
    Ok(())
}

#[test]
fn restarting_in_coordination_releases_what_a_crash_left_held() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    let clock = Arc::new(ManualClock::new(nine()));
    {
        let mut store = Store::open(&path)?;
        store.record_notification(&crate::store::NewNotification {
            received: nine(),
            title: "stuck",
            body: "",
            urgency: Urgency::Normal,
            from: None,
            disposition: Disposition::Held,
            shows_in_focus: false,
            opens: None,
            ping: None,
            desktop: None,
        })?;
    }
    let weft = Weft::start(Store::open(&path)?, clock)?;
    assert_eq!(weft.status().state, State::Coordination);
    assert_eq!(weft.status().held, 0);
    assert_eq!(weft.owed_popups()?.len(), 1);
    Ok(())
}

#[test]
fn bad_notifications_get_clear_errors() -> TestResult {
    let weft = Weft::start(Store::open_in_memory()?, Arc::new(ManualClock::new(nine())))?;
    let empty = answer(
        &weft,
        Request::Notify {
            title: "  ".into(),
            body: None,
            urgency: Urgency::Normal,
            from: None,
        },
    );
    assert!(
        matches!(&empty, Response::Error(e) if e.kind == ErrorKind::Invalid && e.message.contains("title")),
        "{empty:?}"
    );
    let long = answer(
        &weft,
        Request::Notify {
            title: "log".into(),
            body: Some("x".repeat(weft_proto::MAX_BODY_CHARS * 2)),
            urgency: Urgency::Normal,
            from: None,
        },
    );
    assert!(matches!(
        long,
        Response::Notified(NotifyOutcome {
            truncated: true,
            ..
        })
    ));
    Ok(())
}

#[test]
fn the_stash_is_shown_again_when_focus_resumes() -> TestResult {
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open_in_memory()?, clock)?;
    weft.switch(Target::Focus, Source::Cli, None)?;
    weft.switch_at(
        &Plan {
            stash: Some("was bisecting at abc"),
            ..Plan::to(Target::Coordination, Source::Cli)
        },
        None,
    )?;
    assert!(weft.owed_popups()?.is_empty());
    weft.switch(Target::Focus, Source::Hotkey, None)?;
    let owed = weft.owed_popups()?;
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].summary, "Where you left off");
    assert_eq!(owed[0].body, "was bisecting at abc");
    assert!(owed[0].breaks_focus, "shown even on a silenced desktop");
    assert_eq!(weft.status().stash.as_deref(), Some("was bisecting at abc"));
    Ok(())
}

#[test]
fn a_crashed_run_ends_at_its_last_heartbeat() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    let clock = Arc::new(ManualClock::new(nine()));
    {
        let weft = Weft::start(Store::open(&path)?, clock.clone())?;
        clock.advance(chrono::Duration::minutes(30));
        weft.heartbeat()?;
        clock.advance(chrono::Duration::minutes(1));
        // kill -9: no stop, no further heartbeat.
    }
    clock.advance(chrono::Duration::hours(2));
    let weft = Weft::start(Store::open(&path)?, clock.clone())?;
    let events = weft.with_store(|s| s.app_events())?;
    let at = |m: i64| nine() + chrono::Duration::minutes(m);
    assert_eq!(
        events,
        [
            (at(0), AppEvent::Start),
            (at(30), AppEvent::Stop),
            (at(151), AppEvent::Start)
        ]
    );
    // A clean stop needs no heartbeat to close it.
    weft.stop()?;
    drop(weft);
    let again = Weft::start(Store::open(&path)?, clock)?;
    assert_eq!(again.with_store(|s| s.app_events())?.len(), 5);
    Ok(())
}

#[test]
fn a_ping_relayed_twice_is_filed_once_and_counted() -> TestResult {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open(&dir.path().join("weft.db"))?, clock)?;
    weft.switch(Target::Focus, Source::Cli, None)?;
    let ping = Incoming {
        ping: Some("http://127.0.0.1:7070#1#42"),
        ..note("Ping from Ana", Urgency::Normal, Some("Ana"))
    };
    let first = weft.notify(&ping)?;
    let again = weft.notify(&ping)?;
    assert_eq!(first, again, "the second relay is the same notification");
    assert_eq!(first.disposition, Disposition::Held);
    assert_eq!(weft.status().held, 1);
    let other = Incoming {
        ping: Some("http://127.0.0.1:7070#1#43"),
        ..ping
    };
    weft.notify(&other)?;
    assert_eq!(weft.status().held, 2);
    weft.notify(&note("build done", Urgency::Normal, Some("CI")))?;
    let sources: Vec<(weft_proto::NotificationSource, Option<String>)> = weft
        .inbox()?
        .into_iter()
        .map(|i| (i.source, i.app))
        .collect();
    use weft_proto::NotificationSource::{Ping, Weft as Own};
    assert_eq!(sources, [(Ping, None), (Ping, None), (Own, None)]);
    weft.ping_sent(&weft_proto::sync::PingSent {
        id: 7,
        to: "Bo".into(),
        urgent: false,
        outcome: weft_proto::sync::PingOutcome::Delivered,
    })?;
    let day = weft.summary(Period::Day(nine().date_naive()))?;
    assert_eq!((day[0].pings_sent, day[0].pings_received), (1, 2));
    Ok(())
}

/// Another program holds the database's write lock (`BEGIN IMMEDIATE` in `sqlite3`).
fn lock_from_outside(path: &std::path::Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(|cause| Error::Sqlite {
        path: path.to_owned(),
        cause,
    })?;
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|cause| Error::Sqlite {
            path: path.to_owned(),
            cause,
        })?;
    Ok(conn)
}

#[test]
fn reads_answer_while_a_switch_waits_for_a_locked_database() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Arc::new(Weft::start(Store::open(&path)?, clock.clone())?);
    weft.switch(Target::Focus, Source::Cli, Some("parser"))?;
    let outside = lock_from_outside(&path)?;

    // A switch that waits for the lock (up to the store's busy timeout) with the dispatcher's
    // lock held.
    let (started_tx, started) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    let switching = weft.clone();
    let waiter = std::thread::spawn(move || {
        let _ = started_tx.send(());
        let result = switching.switch(Target::Coordination, Source::Hotkey, None);
        let _ = done_tx.send(result.err().map(|e| e.to_string()));
    });
    started.recv()?;
    // Wait until the switch holds the dispatcher's lock (it then waits for the database), or
    // the reads below could run before it and pass even if they took that lock.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !matches!(
        weft.inner.try_lock(),
        Err(std::sync::TryLockError::WouldBlock)
    ) {
        if std::time::Instant::now() > until {
            return Err("the switch never took the dispatcher's lock".into());
        }
        std::thread::yield_now();
    }
    // Every read answers while that switch still waits: none takes the dispatcher's lock.
    let mut reads = 0;
    while reads < 5 {
        assert_eq!(weft.status().state, State::Focus);
        assert_eq!(weft.read(|store| store.switches(None))?.len(), 1);
        assert_eq!(weft.summary(Period::Day(weft.today()))?.len(), 1);
        assert!(weft.inbox()?.is_empty());
        reads += 1;
    }
    assert!(
        matches!(done.try_recv(), Err(mpsc::TryRecvError::Empty)),
        "the switch finished before the reads; the lock was not held long enough to tell"
    );
    drop(outside);
    // The lock went away within the busy timeout: the switch commits.
    let failed = done.recv()?;
    waiter.join().map_err(|_| "the switching thread panicked")?;
    assert_eq!(
        failed, None,
        "the switch should commit once the lock is released"
    );
    assert_eq!(weft.status().state, State::Coordination);
    Ok(())
}

#[test]
fn a_switch_asked_for_earlier_is_logged_at_that_time_never_before_the_block() -> TestResult {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open(&dir.path().join("weft.db"))?, clock.clone())?;
    clock.advance(chrono::Duration::minutes(10));
    weft.switch(Target::Focus, Source::Cli, None)?;
    clock.advance(chrono::Duration::minutes(30));
    // Asked 20 minutes ago (a press that waited for a locked database).
    let asked = clock.now() - chrono::Duration::minutes(20);
    let outcome = weft.switch_at(&Plan::to(Target::Toggle, Source::Hotkey), Some(asked))?;
    assert_eq!(
        weft_proto::time::format(outcome.status.since),
        "2026-11-24T09:20:00.000Z"
    );
    // Asked before the current block began (a clock stepped back): logged at the block's start.
    clock.advance(chrono::Duration::minutes(1));
    let outcome = weft.switch_at(
        &Plan::to(Target::Toggle, Source::Hotkey),
        Some(nine() - chrono::Duration::hours(1)),
    )?;
    assert_eq!(
        weft_proto::time::format(outcome.status.since),
        "2026-11-24T09:20:00.000Z"
    );
    let log = weft.read(|store| store.switches(None))?;
    assert_eq!(log.len(), 3);
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
    Ok(())
}

#[test]
fn the_hotkey_in_effect_is_in_the_status_and_announced() -> TestResult {
    use weft_proto::Event;
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open_in_memory()?, clock)?;
    let events = weft.watch();
    assert_eq!(weft.status().hotkey, None);
    assert!(weft.set_hotkey(Some("Super+W".into())));
    assert!(!weft.set_hotkey(Some("Super+W".into())), "unchanged");
    assert_eq!(weft.status().hotkey.as_deref(), Some("Super+W"));
    assert!(weft.set_hotkey(None));
    let shown: Vec<Option<String>> = events
        .try_iter()
        .filter_map(|e| match e {
            Event::Status(s) => Some(s.hotkey),
            _ => None,
        })
        .collect();
    assert_eq!(shown, [None, Some("Super+W".into()), None]);
    // The JSON has the field either way: null when there is none.
    let json = serde_json::to_value(weft.status())?;
    assert_eq!(json["hotkey"], serde_json::Value::Null);
    Ok(())
}

#[test]
fn the_hotkey_is_changeable_only_while_there_is_one() -> TestResult {
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open_in_memory()?, clock)?;
    assert!(
        !weft.set_hotkey_changeable(true),
        "no hotkey: nothing to change"
    );
    assert!(!weft.status().hotkey_changeable);
    weft.set_hotkey(Some("CTRL+ALT+f".into()));
    assert!(weft.set_hotkey_changeable(true));
    assert!(weft.status().hotkey_changeable);
    // A new trigger from the same portal keeps it; losing the hotkey does not.
    weft.set_hotkey(Some("SUPER+w".into()));
    assert!(weft.status().hotkey_changeable);
    weft.set_hotkey(None);
    assert!(!weft.status().hotkey_changeable);
    Ok(())
}

#[test]
fn a_degraded_part_is_listed_announced_and_makes_owed_popups_queued() -> TestResult {
    use weft_proto::{DesktopPart, Event};
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open_in_memory()?, clock)?;
    let shell = Arc::new(RecordingShell::default());
    weft.attach_shell(shell.clone());
    let events = weft.watch();
    let ci = note("CI", Urgency::Normal, None);
    assert!(!weft.notify(&ci)?.queued, "a server is there");

    assert!(weft.set_degraded(DesktopPart::Tray, true));
    assert!(weft.set_degraded(DesktopPart::Notifications, true));
    assert!(
        !weft.set_degraded(DesktopPart::Tray, true),
        "already listed"
    );
    assert_eq!(
        weft.status().degraded,
        [DesktopPart::Tray, DesktopPart::Notifications]
    );
    // A popup owed while no server takes popups is queued; a held one is not.
    let outcome = weft.notify(&ci)?;
    assert_eq!(outcome.disposition, Disposition::Delivered);
    assert!(outcome.queued);
    assert!(matches!(
        answer(
            &weft,
            Request::Notify {
                title: "again".into(),
                body: None,
                urgency: Urgency::Normal,
                from: None,
            }
        ),
        Response::Notified(NotifyOutcome { queued: true, .. })
    ));
    weft.switch(Target::Focus, Source::Cli, None)?;
    let held = weft.notify(&ci)?;
    assert_eq!(held.disposition, Disposition::Held);
    assert!(!held.queued);

    assert!(weft.set_degraded(DesktopPart::Notifications, false));
    assert_eq!(weft.status().degraded, [DesktopPart::Tray]);
    let critical = note("down", Urgency::Critical, None);
    assert!(!weft.notify(&critical)?.queued);
    // Every change reached the watchers and the shell, like a switch.
    let listed: Vec<Vec<DesktopPart>> = events
        .try_iter()
        .filter_map(|e| match e {
            Event::Status(s) => Some(s.degraded),
            _ => None,
        })
        .collect();
    assert_eq!(
        listed.first().map(Vec::len),
        Some(0),
        "the status at watch time"
    );
    assert!(listed.contains(&vec![DesktopPart::Tray, DesktopPart::Notifications]));
    assert_eq!(listed.last(), Some(&vec![DesktopPart::Tray]));
    assert!(shell.changes.lock().map(|c| c.len()).unwrap_or(0) >= 3);
    Ok(())
}

#[test]
fn a_request_whose_sender_stops_waiting_during_a_lock_changes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    let clock = Arc::new(ManualClock::new(nine()));
    let weft = Weft::start(Store::open(&path)?, clock.clone())?;
    let toggle = || Request::Switch {
        to: Target::Toggle,
        source: Source::Cli,
        intent: None,
        minutes: None,
        stash: None,
    };
    let notify = || Request::Notify {
        title: "CI red".into(),
        body: None,
        urgency: Urgency::Normal,
        from: None,
    };
    let soon = || Deadline::at_boot_ms(crate::time::boot_ms() + 200);
    {
        // The lock outlives the deadline: neither the switch nor the notification lands,
        // and each says why.
        let _outside = lock_from_outside(&path)?;
        for request in [toggle(), notify()] {
            match answer_within(&weft, request, Some(soon())) {
                Response::Error(report) => {
                    assert_eq!(report.kind, ErrorKind::Unavailable);
                    assert!(
                        report.message.contains("stopped waiting"),
                        "{}",
                        report.message
                    );
                }
                other => panic!("carried out after its deadline: {other:?}"),
            }
        }
    }
    // A deadline already past when the dispatcher gets to it: refused before anything.
    let past = Deadline::at_boot_ms(crate::time::boot_ms().saturating_sub(1));
    assert!(matches!(
        answer_within(&weft, toggle(), Some(past)),
        Response::Error(_)
    ));
    assert_eq!(weft.status().state, State::Coordination);
    let store = Store::open_read_only(&path)?;
    assert!(store.switches(None)?.is_empty());
    assert!(store.inbox(10)?.is_empty());
    // With time to spare, the same requests are carried out.
    let later = Deadline::at_boot_ms(crate::time::boot_ms() + 60_000);
    assert!(matches!(
        answer_within(&weft, toggle(), Some(later)),
        Response::Switched(_)
    ));
    assert!(matches!(
        answer_within(&weft, notify(), Some(later)),
        Response::Notified(_)
    ));
    Ok(())
}

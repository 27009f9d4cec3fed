//! Store tests on real temporary files.

use super::*;
use chrono::TimeZone;
use weft_proto::{Source, State};

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0)
        .single()
        .unwrap_or_default()
}

fn switch(at: DateTime<Utc>, to: State, intent: Option<&str>) -> Switch {
    Switch {
        at,
        from: to.other(),
        to,
        source: Source::Cli,
        intent: intent.map(str::to_owned),
        stash: None,
        until: None,
    }
}

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn on(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, h, m, 0)
        .single()
        .unwrap_or_default()
}

/// A day reads its own rows, and of the rows before it only the last switch and the last
/// start or stop (the state and the run it began in), each with its place in the log.
#[test]
fn a_period_loads_its_own_rows_and_the_last_switch_and_start_before_it() -> TestResult {
    use crate::summary::{History, Period};
    let mut log = crate::testing::Log::new(on(26, 0, 0))?;
    log.start(on(22, 9, 0))?
        .focus(on(22, 9, 10), "older")?
        .start(on(23, 9, 0))?
        .focus(on(23, 9, 30), "old")?
        .held(on(23, 10, 0))?
        .start(on(24, 9, 0))?
        .coordinate(on(24, 9, 30))?
        .held(on(24, 10, 0))?
        .ping_sent(on(24, 11, 0))?
        .stop(on(24, 12, 0))?
        .focus(on(25, 9, 0), "next")?
        .held(on(25, 9, 10))?;
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).ok_or("no date")?;
    let (from, to) = Period::Day(date).bounds(&Utc);
    let history = log.store().history(from, to)?;
    let switches: Vec<(DateTime<Utc>, State)> =
        history.switches.iter().map(|s| (s.at, s.to)).collect();
    assert_eq!(
        switches,
        [
            (on(23, 9, 30), State::Focus),
            (on(24, 9, 30), State::Coordination)
        ]
    );
    assert_eq!(
        history,
        History {
            switches: history.switches.clone(),
            switch_ids: vec![2, 3],
            events: vec![
                (on(23, 9, 0), AppEvent::Start),
                (on(24, 9, 0), AppEvent::Start),
                (on(24, 12, 0), AppEvent::Stop)
            ],
            event_after: vec![Some(1), Some(2), Some(3)],
            held: vec![on(24, 10, 0)],
            digests: vec![],
            break_throughs: vec![],
            pings_sent: vec![on(24, 11, 0)],
            pings_received: vec![],
            by_app: vec![],
        }
    );
    Ok(())
}

#[test]
fn switches_round_trip_through_a_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("nested/weft.db");
    {
        let mut store = Store::open(&path)?;
        assert_eq!(store.last_switch()?, None);
        store.record_switch(&switch(t(9, 0), State::Focus, Some("parser")))?;
        store.record_switch(&switch(t(10, 0), State::Coordination, None))?;
        store.record_app_event(AppEvent::Start, t(8, 59))?;
    }
    let store = Store::open(&path)?;
    let all = store.switches(None)?;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].intent.as_deref(), Some("parser"));
    assert_eq!(
        store.last_switch()?.map(|s| s.to),
        Some(State::Coordination)
    );
    assert_eq!(store.switches(Some(t(9, 30)))?.len(), 1);
    assert_eq!(store.app_events()?, vec![(t(8, 59), AppEvent::Start)]);
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    assert_eq!(mode, "wal");
    Ok(())
}

#[test]
fn read_only_sees_committed_switches_and_cannot_write() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    let mut writer = Store::open(&path)?;
    writer.record_switch(&switch(t(9, 0), State::Focus, None))?;
    let mut reader = Store::open_read_only(&path)?;
    assert_eq!(reader.switches(None)?.len(), 1);
    let refused = reader.record_switch(&switch(t(9, 5), State::Coordination, None));
    assert!(
        matches!(
            &refused,
            Err(Error::Sqlite { cause, .. })
                if cause.sqlite_error_code() == Some(ErrorCode::ReadOnly)
        ),
        "{refused:?}"
    );
    Ok(())
}

#[test]
fn read_only_of_a_missing_file_says_nothing_is_logged() {
    let dir = tempfile::tempdir().ok();
    let path = dir
        .as_ref()
        .map(|d| d.path().join("absent.db"))
        .unwrap_or_default();
    assert!(matches!(
        Store::open_read_only(&path),
        Err(Error::NoDatabase { .. })
    ));
    assert!(!path.exists(), "read-only never creates the file");
}

#[test]
fn a_corrupt_file_is_set_aside_never_overwritten() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    let garbage = b"this is not a database, it is a shopping list\n".repeat(200);
    std::fs::write(&path, &garbage)?;
    // A set-aside copy from an earlier crash at the same second must survive too.
    let earlier = dir.path().join("weft.db.corrupt-20261124T090000Z");
    std::fs::write(&earlier, b"older")?;

    assert!(matches!(Store::open(&path), Err(Error::Corrupt { .. })));
    let opened = open_or_set_aside(&path, t(9, 0))?;
    let Some(aside) = opened.set_aside else {
        return Err("expected the file to be set aside".into());
    };
    assert_eq!(
        aside.moved_to,
        dir.path().join("weft.db.corrupt-20261124T090000Z.1")
    );
    assert_eq!(std::fs::read(&aside.moved_to)?, garbage);
    assert_eq!(std::fs::read(&earlier)?, b"older");
    assert_eq!(opened.store.switches(None)?.len(), 0);
    Ok(())
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    {
        let store = Store::open(&path)?;
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)?;
    }
    let before = std::fs::read(&path)?;
    assert!(matches!(
        open_or_set_aside(&path, t(9, 0)),
        Err(Error::NewerSchema { found, .. }) if found == SCHEMA_VERSION + 1
    ));
    assert!(matches!(
        Store::open_read_only(&path),
        Err(Error::NewerSchema { .. })
    ));
    assert_eq!(std::fs::read(&path)?, before);
    Ok(())
}

#[test]
fn an_unwritable_data_dir_is_named() -> TestResult {
    let dir = tempfile::tempdir()?;
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"")?;
    let err = Store::open(&blocker.join("weft/weft.db")).err();
    assert!(
        matches!(err, Some(Error::DataDirUnwritable { .. })),
        "{err:?}"
    );
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("XDG_DATA_HOME"), "{message}");
    Ok(())
}

#[test]
fn the_last_switch_is_the_last_written_even_if_the_clock_stepped_back() -> TestResult {
    let mut store = Store::open_in_memory()?;
    store.record_switch(&switch(t(10, 0), State::Focus, None))?;
    // The clock was set back an hour before the next switch.
    store.record_switch(&switch(t(9, 0), State::Coordination, None))?;
    assert_eq!(
        store.last_switch()?.map(|s| s.to),
        Some(State::Coordination)
    );
    let order: Vec<State> = store.switches(None)?.iter().map(|s| s.to).collect();
    assert_eq!(order, [State::Focus, State::Coordination]);
    Ok(())
}

#[test]
fn a_newer_schema_in_rollback_journal_mode_is_not_rewritten() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    {
        let conn = rusqlite::Connection::open(&path)?;
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")?;
    }
    let before = std::fs::read(&path)?;
    assert!(matches!(
        Store::open(&path),
        Err(Error::NewerSchema { found: 99, .. })
    ));
    assert_eq!(std::fs::read(&path)?, before, "not even switched to WAL");
    assert!(!dir.path().join("weft.db-wal").exists());
    Ok(())
}

#[test]
fn facts_are_remembered_until_forgotten() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weft.db");
    {
        let mut store = Store::open(&path)?;
        assert_eq!(store.facts().quiet_desktop()?, None);
        store.facts().set_quiet_desktop(Some("dunst:paused"))?;
        store.facts().set_quiet_desktop(Some("dunst:resumed"))?;
    }
    let mut store = Store::open(&path)?;
    assert_eq!(
        store.facts().quiet_desktop()?.as_deref(),
        Some("dunst:resumed")
    );
    store.facts().set_quiet_desktop(None)?;
    assert_eq!(store.facts().quiet_desktop()?, None);
    Ok(())
}

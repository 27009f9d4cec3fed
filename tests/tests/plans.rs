//! End-to-end tests of intents, planned focus and stashes: `--for`, the tray's "Focus for N
//! min", the timer that ends a planned block, and the stash shown again when focus resumes.

use std::time::Duration;
use weft_core::store::Store;
use weft_e2e::notifications::NotificationCapture;
use weft_e2e::tray::TrayItem;
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::{Request, Response, Source, State, Target};

const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(30);

fn status(desktop: &Desktop) -> anyhow::Result<serde_json::Value> {
    let output = desktop.weft(&["status", "--json"])?;
    Ok(serde_json::from_str(&String::from_utf8_lossy(
        &output.stdout,
    ))?)
}

#[test]
fn focus_for_a_length_sets_the_planned_end_and_bad_lengths_are_refused() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;

    let bad = desktop.weft(&["focus", "--for", "soon"])?;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a length"));
    let long = "x".repeat(weft_proto::MAX_STASH_CHARS + 1);
    let stash = desktop.weft(&["coordinate", "--stash", &long])?;
    assert_eq!(stash.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&stash.stderr).contains("the limit is 500"));

    let ok = desktop.weft(&["focus", "refactor", "parser", "--for", "1h30m"])?;
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let json = status(&desktop)?;
    assert_eq!(json["intent"], "refactor parser");
    let since = weft_proto::time::parse(json["since"].as_str().unwrap_or_default()).ok();
    let until = weft_proto::time::parse(json["until"].as_str().unwrap_or_default()).ok();
    let planned = until.zip(since).map(|(u, s)| (u - s).num_minutes());
    assert_eq!(planned, Some(90), "{json}");
    Ok(())
}

#[test]
fn the_tray_offers_planned_focus_blocks() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let watcher = Watcher::start(desktop.bus_address())?;
    let bus = desktop.bus()?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    let item = wait_for("the tray", START, || watcher.items().last().cloned())?;
    let tray = TrayItem::new(&bus, item);
    tray.click("Focus for 50 min")?;
    let json = wait_for("focus", SOON, || {
        status(&desktop).ok().filter(|j| j["state"] == "focus")
    })?;
    assert!(json["until"].is_string(), "{json}");
    let log = Store::open_read_only(&desktop.database())?.switches(None)?;
    assert_eq!(log[0].source, Source::Tray);
    wait_for("the plans to leave the menu during focus", SOON, || {
        let entries = tray.entries().ok()?;
        (!entries.iter().any(|e| e.label.starts_with("Focus for"))).then_some(())
    })?;
    Ok(())
}

#[test]
fn the_stash_comes_back_when_focus_resumes() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let capture = NotificationCapture::start(desktop.bus_address())?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["focus", "parser bug"])?;
    desktop.weft_ok(&[
        "coordinate",
        "--stash",
        "was bisecting the parser bug at commit abc",
    ])?;
    let resumed = desktop.weft_ok(&["focus"])?;
    assert!(
        resumed.contains("Where you left off: was bisecting the parser bug at commit abc"),
        "{resumed}"
    );
    let popup = wait_for("the stash popup", SOON, || {
        capture
            .received()
            .into_iter()
            .find(|n| n.summary == "Where you left off")
    })?;
    assert_eq!(popup.body, "was bisecting the parser bug at commit abc");
    let log = Store::open_read_only(&desktop.database())?.switches(None)?;
    assert_eq!(
        log[1].stash.as_deref(),
        Some("was bisecting the parser bug at commit abc")
    );
    Ok(())
}

#[test]
fn a_planned_block_ends_with_a_timer_switch() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    // The shortest plan is one minute; this test waits for it.
    let answer = app.call(&Request::Switch {
        to: Target::Focus,
        source: Source::Cli,
        intent: Some("short".into()),
        minutes: Some(1),
        stash: None,
    })?;
    assert!(matches!(answer, Response::Switched(_)), "{answer:?}");
    wait_for(
        "the timer to end focus",
        Duration::from_secs(120),
        || match app.call(&Request::Status) {
            Ok(Response::Status(s)) if s.state == State::Coordination => Some(()),
            _ => None,
        },
    )?;
    let log = Store::open_read_only(&desktop.database())?.switches(None)?;
    assert_eq!(log.last().map(|s| s.source), Some(Source::Timer));
    let lasted = log[1].at - log[0].at;
    assert!(
        lasted >= chrono::Duration::seconds(60),
        "not before the planned end: {lasted}"
    );
    Ok(())
}

//! End-to-end tests: the real `weft-app` and `weft` on a private Xvfb desktop with its own
//! D-Bus session, tray watcher and notification server. They run one at a time (one lock), and
//! each starts and kills its own processes.

use anyhow::Context;
use std::time::Duration;
use weft_core::store::{AppEvent, Store};
use weft_e2e::panel::Panel;
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::{Request, Response, Source, State, Status};

/// Generous, because the machine is shared: these bound a hang, they do not time anything.
const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(20);

fn status(app: &App) -> anyhow::Result<Status> {
    match app.call(&Request::Status)? {
        Response::Status(status) => Ok(status),
        other => anyhow::bail!("unexpected answer {other:?}"),
    }
}

fn wait_for_state(app: &App, state: State) -> anyhow::Result<Status> {
    wait_for(&format!("the state to become {state}"), SOON, || {
        status(app).ok().filter(|s| s.state == state)
    })
}

fn logged(desktop: &Desktop) -> anyhow::Result<Vec<weft_core::machine::Switch>> {
    Ok(Store::open_read_only(&desktop.database())?.switches(None)?)
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn tray_menu_switches_logs_and_changes_the_icon() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    let app = App::start(&panel.desktop, &[])?;
    let tray = panel.tray(&app)?;
    app.wait_until_serving(START)?;

    // The hotkey is grabbed after the tray is built: its line comes with it.
    let entries = wait_for("the hotkey line", SOON, || {
        let entries = tray.entries().ok()?;
        entries
            .iter()
            .any(|e| e.label == "Hotkey: Ctrl+Alt+F")
            .then_some(entries)
    })?;
    // Notices (⚠ lines) come and go with what the desktop watcher finds, in its own time: this
    // capture server is not one Weft can quiet, which it may or may not have noticed yet.
    let labels: Vec<&str> = entries
        .iter()
        .filter(|e| !e.separator && !e.label.starts_with('⚠'))
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "Coordination · just now",
            "Switch to Focus",
            "Hotkey: Ctrl+Alt+F",
            "Focus for 25 min",
            "Focus for 50 min",
            "Focus for 90 min",
            "Today",
            "Team…",
            "Settings",
            "Open Weft",
            "Quit"
        ],
        "{entries:?}"
    );
    assert!(!entries[0].enabled, "the state line is disabled");
    let (icon_before, pixels_before) = tray.icon()?;

    tray.click("Switch to Focus")?;
    wait_for_state(&app, State::Focus)?;
    let log = logged(&panel.desktop)?;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].from, log[0].to, log[0].source),
        (State::Coordination, State::Focus, Source::Tray)
    );

    // tray-icon removes the old file before it writes the new one and announces its name, so
    // a read in between finds no file: the change is the new name with its file written.
    let icon_after = wait_for("the tray icon to change", SOON, || {
        tray.icon().ok().filter(|(name, pixels)| {
            *name != icon_before && pixels.is_some() && *pixels != pixels_before
        })
    })?;
    assert!(
        icon_after.1.is_some(),
        "the icon file {} is readable",
        icon_after.0
    );
    wait_for("the menu to offer coordination", SOON, || {
        tray.find("Switch to Coordination").ok()
    })?;
    let labels: Vec<String> = tray.entries()?.into_iter().map(|e| e.label).collect();
    assert!(labels[0].starts_with("Focus · "), "{labels:?}");
    assert!(
        !labels.iter().any(|l| l == "Switch to Focus"),
        "exactly one switch item: {labels:?}"
    );

    // And back, from the same menu.
    tray.click("Switch to Coordination")?;
    wait_for_state(&app, State::Coordination)?;
    wait_for("the icon to change back", SOON, || {
        tray.icon()
            .ok()
            .filter(|(_, pixels)| pixels.is_some() && *pixels == pixels_before)
    })?;
    assert_eq!(logged(&panel.desktop)?.len(), 2);
    Ok(())
}

#[test]
fn hotkey_switches_and_a_bad_hotkey_setting_is_reported() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    panel.desktop.write_config("hotkey = \"Ctrl+Banana\"\n")?;
    let app = App::start(&panel.desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log("global hotkey \"Ctrl+Alt+F\" registered", START)?;
    // In coordination the notice is shown at once (before a switch could hold it).
    let notice = wait_for("a notice about the bad hotkey", SOON, || {
        panel
            .notifications
            .received()
            .into_iter()
            .find(|n| n.body.contains("Ctrl+Banana"))
    })?;
    assert!(notice.body.contains("using Ctrl+Alt+F"), "{}", notice.body);

    panel.desktop.press("ctrl+alt+f")?;
    wait_for_state(&app, State::Focus)?;
    panel.desktop.press("ctrl+alt+f")?;
    wait_for_state(&app, State::Coordination)?;
    let sources: Vec<Source> = logged(&panel.desktop)?.iter().map(|s| s.source).collect();
    assert_eq!(sources, [Source::Hotkey, Source::Hotkey]);
    let tray = panel.tray(&app)?;
    let entries = tray.entries()?;
    assert!(
        entries.iter().any(|e| e
            .label
            .starts_with("⚠ config.toml: the hotkey \"Ctrl+Banana\"")),
        "the tray menu lists the problem: {entries:?}"
    );
    Ok(())
}

#[test]
fn a_configured_hotkey_replaces_the_default() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    panel.desktop.write_config("hotkey = \"Ctrl+Shift+K\"\n")?;
    let app = App::start(&panel.desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log("global hotkey \"Ctrl+Shift+K\" registered", START)?;
    assert_eq!(status(&app)?.hotkey.as_deref(), Some("Ctrl+Shift+K"));
    panel.desktop.press("ctrl+shift+k")?;
    wait_for_state(&app, State::Focus)?;
    Ok(())
}

#[test]
fn a_hotkey_another_program_holds_is_reported() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    // Another X client grabs Ctrl+Alt+F first.
    let _holder = weft_e2e::keys::grab(panel.desktop.display(), "ctrl+alt+f")?;
    let app = App::start(&panel.desktop, &[])?;
    app.wait_until_serving(START)?;
    let notice = wait_for("a notice about the taken hotkey", START, || {
        panel
            .notifications
            .received()
            .into_iter()
            .find(|n| n.body.contains("could not be registered"))
    })?;
    assert!(
        notice.body.contains("another program already uses it"),
        "{}",
        notice.body
    );
    assert_eq!(status(&app)?.hotkey, None, "no hotkey is in effect");
    assert!(
        desktop_switch_works(&panel.desktop)?,
        "switching still works"
    );
    Ok(())
}

fn desktop_switch_works(desktop: &Desktop) -> anyhow::Result<bool> {
    Ok(desktop.weft(&["toggle"])?.status.success())
}

#[test]
fn hotkey_off_registers_nothing() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    panel.desktop.write_config("hotkey = \"off\"\n")?;
    let app = App::start(&panel.desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log("global hotkey is off", START)?;
    panel.tray(&app)?;
    assert!(!app.log().contains("registered"), "{}", app.log());
    Ok(())
}

#[test]
fn cli_switches_reports_and_reads_the_log_without_the_app() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    let desktop = &panel.desktop;
    let mut app = App::start(desktop, &[])?;
    app.wait_until_serving(START)?;

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&desktop.weft(&["status", "--json"])?))?;
    assert_eq!(json["state"], "coordination");
    assert!(
        weft_proto::time::parse(json["since"].as_str().unwrap_or("")).is_ok(),
        "{json}"
    );

    let focus = desktop.weft(&["focus", "refactor", "parser"])?;
    assert!(focus.status.success(), "{}", stderr(&focus));
    assert!(
        stdout(&focus).starts_with("Focus since "),
        "{}",
        stdout(&focus)
    );
    let again = desktop.weft(&["focus"])?;
    assert!(
        stdout(&again).starts_with("Already in Focus"),
        "{}",
        stdout(&again)
    );

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&desktop.weft(&["status", "--json"])?))?;
    assert_eq!(json["state"], "focus");
    assert_eq!(json["intent"], "refactor parser");

    assert!(desktop.weft(&["coordinate"])?.status.success());
    assert!(desktop.weft(&["toggle"])?.status.success());
    assert_eq!(status(&app)?.state, State::Focus);

    let text = stdout(&desktop.weft(&["status"])?);
    assert!(text.starts_with("Focus since "), "{text}");

    let log: serde_json::Value = serde_json::from_str(&stdout(&desktop.weft(&["log", "--json"])?))?;
    let log = log.as_array().context("log --json is an array")?;
    assert_eq!(log.len(), 3, "the no-op focus was not logged: {log:?}");
    assert_eq!(log[0]["from"], "coordination");
    assert_eq!(log[0]["to"], "focus");
    assert_eq!(log[0]["source"], "cli");
    assert_eq!(log[0]["intent"], "refactor parser");

    let bad = desktop.weft(&["log", "--since", "last tuesday"])?;
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("YYYY-MM-DD"), "{}", stderr(&bad));
    let long = "x".repeat(201);
    let too_long = desktop.weft(&["focus", &long])?;
    assert_eq!(too_long.status.code(), Some(2));

    let stopped = app.stop();
    assert_eq!(stopped.and_then(|s| s.code()), Some(0), "{}", app.log());

    let offline = desktop.weft(&["status"])?;
    assert_eq!(offline.status.code(), Some(1));
    assert!(
        stderr(&offline).contains("Weft is not running"),
        "{}",
        stderr(&offline)
    );
    assert!(
        stderr(&offline).contains("weft-app"),
        "says how to start it"
    );
    let offline_log = desktop.weft(&["log"])?;
    assert!(offline_log.status.success(), "{}", stderr(&offline_log));
    assert_eq!(
        stdout(&offline_log).lines().count(),
        3,
        "{}",
        stdout(&offline_log)
    );
    let today = desktop.weft(&["log", "--since", "today", "--json"])?;
    assert!(today.status.success());

    let events: Vec<AppEvent> = Store::open_read_only(&desktop.database())?
        .app_events()?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(events, [AppEvent::Start, AppEvent::Stop]);
    Ok(())
}

#[test]
fn kill_9_then_restart_restores_the_state_and_loses_no_switch() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    let desktop = &panel.desktop;
    let mut app = App::start(desktop, &[])?;
    app.wait_until_serving(START)?;
    for n in 0..7 {
        let output = if n % 2 == 0 {
            desktop.weft(&["focus", &format!("task {n}")])?
        } else {
            desktop.weft(&["coordinate"])?
        };
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let before = status(&app)?;
    assert_eq!(before.state, State::Focus);
    app.kill9();

    let app = App::start(desktop, &[])?;
    app.wait_until_serving(START)?;
    // What the log restores (which desktop parts work is this run's own business).
    let restored = status(&app)?;
    assert_eq!(
        (
            restored.state,
            &restored.since,
            &restored.intent,
            &restored.until
        ),
        (before.state, &before.since, &before.intent, &before.until),
        "state, since, intent and planned end are restored"
    );
    let log = logged(desktop)?;
    assert_eq!(log.len(), 7);
    assert_eq!(log[6].intent.as_deref(), Some("task 6"));
    assert!(
        app.log().contains("removed a stale control socket"),
        "{}",
        app.log()
    );
    let events: Vec<AppEvent> = Store::open_read_only(&desktop.database())?
        .app_events()?
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(
        events,
        [AppEvent::Start, AppEvent::Start],
        "no stop was logged by the killed run"
    );
    Ok(())
}

#[test]
fn a_corrupt_database_is_kept_aside_and_reported() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    let desktop = &panel.desktop;
    let db = desktop.database();
    std::fs::create_dir_all(db.parent().context("db has a folder")?)?;
    let garbage = b"not a database: notes I would hate to lose\n".repeat(300);
    std::fs::write(&db, &garbage)?;

    let app = App::start(desktop, &[])?;
    app.wait_until_serving(START)?;
    let folder = db.parent().context("db has a folder")?;
    let kept: Vec<_> = std::fs::read_dir(folder)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("weft.db.corrupt-"))
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        std::fs::read(&kept[0])?,
        garbage,
        "the old file is kept byte for byte"
    );

    let notice = wait_for("a notice about the unreadable log", SOON, || {
        panel
            .notifications
            .received()
            .into_iter()
            .find(|n| n.body.contains("unreadable"))
    })?;
    assert!(
        notice.body.contains(".corrupt-"),
        "names where it was kept: {}",
        notice.body
    );
    assert!(
        app.log().contains("is not a readable database"),
        "{}",
        app.log()
    );
    let tray = panel.tray(&app)?;
    assert!(tray
        .entries()?
        .iter()
        .any(|e| e.label.starts_with("⚠ The log")));

    assert!(desktop.weft(&["focus"])?.status.success());
    assert_eq!(logged(desktop)?.len(), 1, "the new log works");
    Ok(())
}

#[test]
fn an_unwritable_data_dir_stops_with_a_clear_message() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let blocker = desktop.dir().join("not-a-dir");
    std::fs::write(&blocker, b"")?;
    let blocker = blocker.display().to_string();
    let mut app = App::start_with(
        &desktop,
        &weft_e2e::bin_dir().join("weft-app"),
        &[],
        &[("XDG_DATA_HOME", &blocker)],
    )?;
    let status = wait_for("the app to exit", START, || app.exited())?;
    assert_eq!(status.code(), Some(1));
    let log = app.log();
    assert!(log.contains("cannot create Weft's data directory"), "{log}");
    assert!(log.contains("XDG_DATA_HOME"), "{log}");
    Ok(())
}

#[test]
fn without_a_display_weft_says_so_instead_of_crashing() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let output = desktop
        .command(weft_e2e::bin_dir().join("weft-app"))
        .env_remove("DISPLAY")
        .output()?;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no graphical session"),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("panicked"));
    Ok(())
}

#[test]
fn a_database_from_a_newer_weft_is_refused_untouched() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    {
        let path = desktop.database();
        drop(Store::open(&path)?);
        set_schema_version_past_known(&path)?;
    }
    let before = std::fs::read(desktop.database())?;
    let mut app = App::start(&desktop, &[])?;
    let status = wait_for("the app to exit", START, || app.exited())?;
    assert_eq!(status.code(), Some(1));
    assert!(
        app.log().contains("written by a newer Weft"),
        "{}",
        app.log()
    );
    assert_eq!(std::fs::read(desktop.database())?, before);
    Ok(())
}

/// Sets the schema version past what this build knows by writing SQLite's header field
/// directly (`user_version`: offset 60, big-endian), as a newer Weft's migration would.
fn set_schema_version_past_known(path: &std::path::Path) -> anyhow::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.seek(SeekFrom::Start(60))?;
    file.write_all(&999u32.to_be_bytes())?;
    Ok(())
}

#[test]
fn a_second_instance_opens_the_first_ones_window_and_exits() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    let first = App::start(&panel.desktop, &[])?;
    first.wait_until_serving(START)?;
    panel.tray(&first)?;
    let mut second = App::start(&panel.desktop, &[])?;
    let status = wait_for("the second instance to exit", START, || second.exited())?;
    assert_eq!(status.code(), Some(0), "{}", second.log());
    assert!(
        second.log().contains("Weft is already running"),
        "{}",
        second.log()
    );
    wait_for("the first instance's window", START, || {
        first
            .process_tree()
            .iter()
            .any(|pid| weft_e2e::app::process_name(*pid).starts_with("WebKitWebProces"))
            .then_some(())
    })?;
    assert_eq!(
        status_of(&first)?,
        State::Coordination,
        "the first keeps running"
    );
    assert_eq!(first.call(&Request::CloseWindow)?, Response::Done);
    Ok(())
}

fn status_of(app: &App) -> anyhow::Result<State> {
    Ok(status(app)?.state)
}

#[test]
fn without_a_tray_watcher_or_notification_daemon_weft_still_switches() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    // No panel at all: no StatusNotifierWatcher, no org.freedesktop.Notifications.
    let desktop = Desktop::start()?;
    let db = desktop.database();
    std::fs::create_dir_all(db.parent().context("db has a folder")?)?;
    std::fs::write(&db, b"garbage so that Weft has a notice to send")?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    // The notice about the set-aside log finds no daemon; the failure is logged, not fatal.
    app.wait_for_log("is a notification daemon running?", START)?;
    let switched = desktop.weft(&["focus"])?;
    assert!(switched.status.success(), "{}", stderr(&switched));
    assert_eq!(status_of(&app)?, State::Focus);
    assert_eq!(logged(&desktop)?.len(), 1);
    Ok(())
}

#[test]
fn the_window_shows_the_state_and_switches_over_webdriver() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    let tray_app = App::start(&panel.desktop, &[])?;
    tray_app.wait_until_serving(START)?;
    // The window runs in a process of its own; WebDriver starts that process directly.
    let app_path = weft_e2e::bin_dir().join("weft-app");
    let session = weft_e2e::webdriver::Session::start(&panel.desktop, &app_path, &["--window"])?;
    wait_for("the window to show the state", START, || {
        session.text("#state").ok().filter(|t| t == "Coordination")
    })?;
    assert_eq!(session.text("#switch")?, "Switch to Focus");
    session.click("#switch")?;
    wait_for("the window to show focus", SOON, || {
        session.text("#state").ok().filter(|t| t == "Focus")
    })?;
    assert_eq!(session.text("#switch")?, "Switch to Coordination");
    let log = logged(&panel.desktop)?;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].source, Source::Ui);

    // Leaving focus from the window can leave a stash note.
    session.type_into("#stash-input", "halfway through the lexer")?;
    session.click("#switch")?;
    wait_for("the window to show coordination", SOON, || {
        session.text("#state").ok().filter(|t| t == "Coordination")
    })?;
    let log = logged(&panel.desktop)?;
    assert_eq!(log[1].stash.as_deref(), Some("halfway through the lexer"));

    // A switch from elsewhere reaches the open window live, with the stash shown again.
    assert!(panel.desktop.weft(&["focus"])?.status.success());
    wait_for("the window to show the stash", SOON, || {
        session
            .text("#stash")
            .ok()
            .filter(|t| t.contains("halfway through the lexer"))
    })?;
    assert!(panel.desktop.weft(&["coordinate"])?.status.success());
    wait_for("the window to follow a CLI switch", SOON, || {
        session.text("#state").ok().filter(|t| t == "Coordination")
    })?;
    session.screenshot(&weft_e2e::artifacts_dir().join("window.png"))?;
    Ok(())
}

#[test]
fn the_window_has_a_process_of_its_own_that_ends_with_the_tray_app() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    let mut app = App::start(&panel.desktop, &[])?;
    let tray = panel.tray(&app)?;
    app.wait_until_serving(START)?;
    let window_processes = |app: &App| -> Vec<u32> {
        app.process_tree()
            .into_iter()
            .filter(|pid| *pid != app.pid() && weft_e2e::app::process_name(*pid) == "weft-app")
            .collect()
    };
    tray.click("Open Weft")?;
    let first = wait_for("the window process", START, || {
        Some(window_processes(&app)).filter(|p| p.len() == 1)
    })?;
    wait_for("the window's web process", START, || {
        app.process_tree()
            .iter()
            .any(|pid| weft_e2e::app::process_name(*pid).starts_with("WebKitWebProces"))
            .then_some(())
    })?;
    tray.click("Open Weft")?;
    assert_eq!(app.call(&Request::OpenWindow)?, Response::Done);
    assert_eq!(
        window_processes(&app),
        first,
        "opening again raises the same window"
    );

    assert_eq!(app.stop().and_then(|s| s.code()), Some(0), "{}", app.log());
    wait_for("the window process to end with the tray app", SOON, || {
        (!std::path::Path::new(&format!("/proc/{}", first[0])).exists()).then_some(())
    })?;

    let alone = panel
        .desktop
        .command(weft_e2e::bin_dir().join("weft-app"))
        .arg("--window")
        .output()?;
    assert_eq!(alone.status.code(), Some(1));
    assert!(
        stderr(&alone).contains("Weft is not running"),
        "{}",
        stderr(&alone)
    );
    Ok(())
}

#[test]
fn the_today_view_shows_a_seeded_day() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    weft_e2e::seed::berlin_day(&panel.desktop)?;
    let zone = [("TZ", weft_e2e::seed::ZONE)];
    let app_path = weft_e2e::bin_dir().join("weft-app");
    let tray_app = App::start_with(&panel.desktop, &app_path, &[], &zone)?;
    tray_app.wait_until_serving(START)?;
    let session =
        weft_e2e::webdriver::Session::start_with(&panel.desktop, &app_path, &["--window"], &zone)?;
    wait_for("the window", START, || session.find("#tab-today").ok())?;
    session.execute(&format!(
        "location.hash = '#today={}'",
        weft_e2e::seed::DATE
    ))?;
    wait_for("the day's focus figure", SOON, || {
        session.text("#t-focus").ok().filter(|t| t == "50 min")
    })?;
    assert_eq!(session.text("#t-switches")?, "2");
    assert_eq!(session.text("#t-longest")?, "50 min");
    assert_eq!(session.text("#t-untracked")?, "16 h 00 min");
    let blocks = session.execute("return document.getElementById('blocks').textContent")?;
    let blocks = blocks.as_str().unwrap_or_default();
    assert!(blocks.contains("09:10–10:00"), "{blocks}");
    assert!(blocks.contains("parser"), "{blocks}");
    assert!(blocks.contains("left off at abc"), "{blocks}");
    let bars = session.execute("return document.querySelectorAll('#week rect').length")?;
    assert_eq!(bars, 14, "focus and coordination bars for seven days");
    let segments =
        session.execute("return document.querySelectorAll('#timeline rect.focus').length")?;
    assert_eq!(segments, 1);
    session.screenshot(&weft_e2e::artifacts_dir().join("today.png"))?;
    Ok(())
}

#[test]
fn the_tray_opens_today() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    let app = App::start(&panel.desktop, &[])?;
    let tray = panel.tray(&app)?;
    app.wait_until_serving(START)?;
    tray.click("Today")?;
    let cmdline = wait_for("the window process on Today", START, || {
        app.process_tree().into_iter().find_map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains("--window").then_some(cmdline)
        })
    })?;
    assert!(cmdline.contains("--view today"), "{cmdline}");
    Ok(())
}

/// Another program (the `sqlite3` shell) holding the database's write lock until dropped, as
/// `( echo 'BEGIN IMMEDIATE;'; sleep 30; echo 'COMMIT;' ) | sqlite3 weft.db` does.
struct OutsideLock {
    shell: std::process::Child,
}

impl OutsideLock {
    fn hold(db: &std::path::Path) -> anyhow::Result<OutsideLock> {
        use std::io::{BufRead, Write};
        let mut shell = std::process::Command::new("sqlite3")
            .arg(db)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("cannot run sqlite3 (scripts/setup.sh test installs it)")?;
        let stdin = shell.stdin.as_mut().context("sqlite3's stdin")?;
        // Waits for a write of the app's own to finish, and stops at an error, so `locked`
        // is printed only when the lock is really held.
        stdin.write_all(b".timeout 10000\n.bail on\nBEGIN IMMEDIATE;\nSELECT 'locked';\n")?;
        stdin.flush()?;
        let stdout = shell.stdout.take().context("sqlite3's stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        anyhow::ensure!(
            line.trim() == "locked",
            "sqlite3 did not take the lock: {line:?}"
        );
        Ok(OutsideLock { shell })
    }
}

impl Drop for OutsideLock {
    fn drop(&mut self) {
        use std::io::Write;
        if let Some(mut stdin) = self.shell.stdin.take() {
            let _ = stdin.write_all(b"COMMIT;\n");
        }
        let _ = self.shell.wait();
    }
}

#[test]
fn a_hotkey_switch_waits_for_a_locked_database_says_so_and_is_never_lost() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = Panel::start()?;
    let app = App::start(&panel.desktop, &[])?;
    let tray = panel.tray(&app)?;
    app.wait_until_serving(START)?;
    app.wait_for_log("global hotkey \"Ctrl+Alt+F\" registered", START)?;
    assert_eq!(status(&app)?.state, State::Coordination);

    let outside = OutsideLock::hold(&panel.desktop.database())?;
    let asked = chrono::Utc::now();
    panel.desktop.press("ctrl+alt+f")?;
    // The switch cannot be saved: Weft says so in the tray and on the desktop.
    let line = wait_for("the tray to say a switch waits", START, || {
        tray.entries()
            .ok()?
            .into_iter()
            .find(|e| e.label.contains("not saved yet"))
    })?;
    assert!(line.label.contains("Focus"), "{}", line.label);
    wait_for("a popup saying a switch waits", SOON, || {
        panel
            .notifications
            .received()
            .into_iter()
            .find(|n| n.body.contains("not saved yet"))
    })?;
    // Reads answer meanwhile, from memory: still coordination, as the log says.
    assert_eq!(status(&app)?.state, State::Coordination);
    let cli = panel.desktop.weft(&["status", "--json"])?;
    assert!(cli.status.success(), "{}", stderr(&cli));
    assert!(
        stdout(&cli).contains("\"coordination\""),
        "{}",
        stdout(&cli)
    );
    // A second press waits behind the first, in order.
    panel.desktop.press("ctrl+alt+f")?;
    panel.desktop.press("ctrl+alt+f")?;

    drop(outside);
    let released = chrono::Utc::now();
    wait_for("the three presses to be saved", SOON, || {
        logged(&panel.desktop).ok().filter(|log| log.len() == 3)
    })?;
    let log = logged(&panel.desktop)?;
    let to: Vec<State> = log.iter().map(|s| s.to).collect();
    assert_eq!(to, [State::Focus, State::Coordination, State::Focus]);
    assert!(log.iter().all(|s| s.source == Source::Hotkey));
    // Logged when pressed, not when the lock went away.
    let first = log.first().context("a first switch")?;
    assert!(
        first.at >= asked - chrono::Duration::seconds(1),
        "{}",
        first.at
    );
    assert!(first.at < released, "{} is not before {released}", first.at);
    wait_for_state(&app, State::Focus)?;
    wait_for("the tray line to go", SOON, || {
        let entries = tray.entries().ok()?;
        (!entries.iter().any(|e| e.label.contains("not saved yet"))).then_some(())
    })?;
    Ok(())
}

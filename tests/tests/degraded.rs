//! No optional desktop part can take Weft down: the real `weft-app` on a private desktop with
//! its tray library hidden for real (a private mount namespace), with nothing to host a tray
//! icon, and with no notification server. Each time Weft keeps running, says so, lists the part
//! in `weft status --json` as `degraded`, and the hotkey and the CLI keep working.

use std::time::Duration;
use weft_e2e::hide::Hidden;
use weft_e2e::notifications::NotificationCapture;
use weft_e2e::watcher::Watcher;
use weft_e2e::xembed::XEmbedTray;
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::{Request, Response, State, Urgency};

/// Generous, because the machine is shared: these bound a hang, they do not time anything.
const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(20);

/// Every name under which the tray looks for its library (see `tray::LIBRARIES`).
const TRAY_LIBRARIES: [&str; 4] = [
    "libayatana-appindicator3.so.1",
    "libappindicator3.so.1",
    "libayatana-appindicator3.so",
    "libappindicator3.so",
];

/// `weft status --json`, parsed.
fn status_json(desktop: &Desktop) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::from_str(
        &desktop.weft_ok(&["status", "--json"])?,
    )?)
}

/// The `degraded` list of `weft status --json` (empty when the key is absent).
fn degraded(desktop: &Desktop) -> anyhow::Result<Vec<String>> {
    let json = status_json(desktop)?;
    Ok(json
        .get("degraded")
        .and_then(|d| d.as_array())
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

fn wait_for_degraded(app: &App, desktop: &Desktop, want: &[&str]) -> anyhow::Result<()> {
    wait_for(&format!("degraded to be {want:?}"), SOON, || {
        degraded(desktop).ok().filter(|d| d == want).map(drop)
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))
}

fn wait_for_state(app: &App, desktop: &Desktop, state: State) -> anyhow::Result<()> {
    wait_for(&format!("the state to become {state}"), SOON, || {
        status_json(desktop)
            .ok()
            .filter(|s| s.get("state").and_then(|s| s.as_str()) == Some(state.as_str()))
            .map(drop)
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))
}

fn still_running(app: &mut App) -> anyhow::Result<()> {
    match app.exited() {
        None => Ok(()),
        Some(status) => anyhow::bail!("weft-app ended ({status})\n--- app log ---\n{}", app.log()),
    }
}

#[test]
fn without_its_tray_library_weft_runs_on_and_says_so() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let watcher = Watcher::start(desktop.bus_address())?;
    // A server Weft can quiet (GNOME's switch is a GSettings key), so only the tray is listed.
    let notifications = NotificationCapture::start_as(desktop.bus_address(), "gnome-shell")?;
    let binary = weft_e2e::bin_dir().join("weft-app");
    let hidden = match Hidden::prepare(desktop.dir(), &binary, &TRAY_LIBRARIES)? {
        Ok(hidden) => hidden,
        Err(why) => {
            eprintln!(
                "SKIPPED without_its_tray_library_weft_runs_on_and_says_so: {}",
                why.0
            );
            return Ok(());
        }
    };
    eprintln!("hiding {:?}", hidden.files);
    let mut app = App::start_with(&desktop, &hidden.script, &[], &[])?;
    app.wait_until_serving(START)?;
    // The tray is listed, and nothing else: the watcher and the notification server are there.
    wait_for_degraded(&app, &desktop, &["tray"])?;
    app.wait_for_log("no appindicator library loads", SOON)?;
    still_running(&mut app)?;

    // Said once, as a Weft notice (a popup), naming what still works.
    let notice = wait_for("a notice about the tray", SOON, || {
        notifications
            .received()
            .into_iter()
            .find(|n| n.body.contains("tray icon cannot be shown"))
    })?;
    assert!(notice.body.contains("weft toggle"), "{}", notice.body);

    // The hotkey and the CLI still switch.
    app.wait_for_log("global hotkey \"Ctrl+Alt+F\" registered", SOON)?;
    desktop.press("ctrl+alt+f")?;
    wait_for_state(&app, &desktop, State::Focus)?;
    desktop.weft_ok(&["toggle"])?;
    wait_for_state(&app, &desktop, State::Coordination)?;
    desktop.weft_ok(&["notify", "--title", "still here"])?;
    wait_for("the popup of `weft notify`", SOON, || {
        notifications
            .received()
            .into_iter()
            .find(|n| n.summary == "still here")
    })?;

    still_running(&mut app)?;
    assert!(
        watcher.items().is_empty(),
        "no tray item can register without the library: {:?}",
        watcher.items()
    );
    let told = notifications
        .received()
        .iter()
        .filter(|n| n.body.contains("tray icon cannot be shown"))
        .count();
    assert_eq!(told, 1, "the missing tray is said once");
    assert_eq!(degraded(&desktop)?, ["tray"]);
    let stopped = app.stop();
    assert_eq!(stopped.and_then(|s| s.code()), Some(0), "{}", app.log());
    assert!(!app.log().contains("panicked"), "{}", app.log());
    Ok(())
}

#[test]
fn with_nothing_to_host_a_tray_icon_the_tray_is_listed_until_a_panel_starts() -> anyhow::Result<()>
{
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _notifications = NotificationCapture::start_as(desktop.bus_address(), "gnome-shell")?;
    // No StatusNotifierWatcher on the bus and no XEmbed tray on the display.
    let mut app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    wait_for_degraded(&app, &desktop, &["tray"])?;
    app.wait_for_log("Nothing on this desktop shows tray icons", SOON)?;
    // The window says so too (it is how a person without a tray sees Weft).
    let binary = weft_e2e::bin_dir().join("weft-app");
    let window = weft_e2e::webdriver::Session::start(&desktop, &binary, &["--window"])?;
    let said = wait_for("the window to name the missing tray", START, || {
        window.text("#degraded").ok().filter(|t| !t.is_empty())
    })?;
    assert!(said.starts_with("Running without the tray icon"), "{said}");

    // A panel starts: the icon registers with it and the tray works again.
    let watcher = Watcher::start(desktop.bus_address())?;
    wait_for_degraded(&app, &desktop, &[])?;
    wait_for("the window to drop the line", SOON, || {
        window.text("#degraded").ok().filter(|t| t.is_empty())
    })?;
    drop(window);
    wait_for("the tray item to register", START, || {
        watcher.items().last().cloned()
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))?;
    assert!(
        !status_json(&desktop)?.to_string().contains("degraded"),
        "an empty list is omitted, as before"
    );

    // The panel goes: listed again.
    drop(watcher);
    wait_for_degraded(&app, &desktop, &["tray"])?;
    still_running(&mut app)?;
    Ok(())
}

#[test]
fn an_xembed_system_tray_hosts_the_icon_too() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _notifications = NotificationCapture::start_as(desktop.bus_address(), "gnome-shell")?;
    // An XEmbed tray before the start: nothing is listed, though no watcher is on the bus.
    let tray = XEmbedTray::start(desktop.display())?;
    let mut app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log("global hotkey \"Ctrl+Alt+F\" registered", SOON)?;
    assert_eq!(degraded(&desktop)?, Vec::<String>::new(), "{}", app.log());

    // The tray quits: listed. Another one starts: not listed any more.
    drop(tray);
    wait_for_degraded(&app, &desktop, &["tray"])?;
    let _tray = XEmbedTray::start(desktop.display())?;
    wait_for_degraded(&app, &desktop, &[])?;
    still_running(&mut app)?;
    Ok(())
}

#[test]
fn a_popup_with_no_notification_server_is_queued_and_shown_when_one_starts() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _watcher = Watcher::start(desktop.bus_address())?;
    let mut app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    wait_for_degraded(&app, &desktop, &["notifications"])?;

    // Coordination: the popup would be shown at once, but no server takes it.
    let output = desktop.weft(&["notify", "--title", "Build finished", "--body", "all green"])?;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Queued: no notification server; Weft will retry.\n"
    );
    // The protocol says so too.
    let answer = app.call(&Request::Notify {
        title: "Second".into(),
        body: None,
        urgency: Urgency::Normal,
        from: None,
    })?;
    let Response::Notified(outcome) = answer else {
        anyhow::bail!("unexpected answer {answer:?}");
    };
    assert!(outcome.queued, "{outcome:?}");
    assert!(
        serde_json::to_string(&outcome)?.contains(r#""queued":true"#),
        "{outcome:?}"
    );
    still_running(&mut app)?;

    // A notification server starts: the owed popups arrive and the part is no longer listed.
    let notifications = NotificationCapture::start(desktop.bus_address())?;
    wait_for("the queued popups to arrive", SOON, || {
        let received = notifications.received();
        (received.iter().any(|n| n.summary == "Build finished")
            && received.iter().any(|n| n.summary == "Second"))
        .then_some(())
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))?;
    // The harness's server is not one Weft can quiet: that is listed instead.
    wait_for_degraded(&app, &desktop, &["quiet_desktop"])?;
    let delivered = desktop.weft_ok(&["notify", "--title", "Third"])?;
    assert_eq!(delivered, "Delivered.\n");
    wait_for("the third popup", SOON, || {
        notifications
            .received()
            .into_iter()
            .find(|n| n.summary == "Third")
    })?;

    // The server goes away again: listed again, and popups are queued again.
    drop(notifications);
    wait_for_degraded(&app, &desktop, &["notifications"])?;
    let queued = desktop.weft_ok(&["notify", "--title", "Fourth"])?;
    assert!(queued.starts_with("Queued"), "{queued}");

    // A server Weft can quiet takes over: nothing is listed, and the queued popup arrives.
    let gnome = NotificationCapture::start_as(desktop.bus_address(), "gnome-shell")?;
    wait_for_degraded(&app, &desktop, &[])?;
    wait_for("the fourth popup", SOON, || {
        gnome.received().into_iter().find(|n| n.summary == "Fourth")
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))?;
    still_running(&mut app)?;
    Ok(())
}

//! End-to-end tests of Weft on the harness's Wayland desktop: the real `weft-app` under a
//! headless sway with no X server, the real xdg-desktop-portal and the harness's
//! GlobalShortcuts backend behind it. They run one at a time (one lock), and each starts and
//! kills its own processes.

use std::time::Duration;
use weft_core::store::Store;
use weft_e2e::notifications::NotificationCapture;
use weft_e2e::portal::{Offer, Portal};
use weft_e2e::shortcuts::{Answer, Requested, Triggers};
use weft_e2e::watcher::Watcher;
use weft_e2e::wayland::{self, WaylandPanel};
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::{DesktopPart, Request, Response, Source, State, Status};

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

/// Weft's one session on the backend, once it has bound its shortcut.
fn weft_session(panel: &WaylandPanel, app: &App) -> anyhow::Result<String> {
    let backend = panel.portal.shortcuts()?;
    wait_for("Weft to bind its shortcut", START, || {
        backend
            .bound()
            .into_iter()
            .next()
            .map(|(session, _)| session)
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))
}

#[test]
fn the_app_starts_under_wayland_and_its_tray_registers() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let app = App::start(panel.desktop(), &[])?;
    app.wait_until_serving(START)?;
    let tray = panel.panel.tray(&app)?;
    tray.click("Switch to Focus")?;
    wait_for_state(&app, State::Focus)?;
    let groups = panel.process_groups();
    drop(tray);
    drop(app);
    drop(panel);
    wayland::wait_until_gone(&groups)
}

#[test]
fn the_portal_binds_toggle_once_and_its_activation_switches() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let backend = panel.portal.shortcuts()?;
    let app = App::start(panel.desktop(), &[])?;
    app.wait_until_serving(START)?;
    let session = weft_session(&panel, &app)?;
    app.wait_for_log(
        "global hotkey bound by the desktop portal: \"CTRL+ALT+f\"",
        START,
    )?;
    assert_eq!(status(&app)?.hotkey.as_deref(), Some("CTRL+ALT+f"));
    let calls = backend.bind_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        calls[0].shortcuts,
        [Requested {
            id: "toggle".into(),
            description: "Switch Weft between focus and coordination".into(),
            preferred_trigger: Some("CTRL+ALT+f".into()),
        }]
    );

    backend.activate_in(&session, "toggle")?;
    wait_for_state(&app, State::Focus)?;
    backend.activate_in(&session, "toggle")?;
    wait_for_state(&app, State::Coordination)?;
    let log = logged(panel.desktop())?;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log.iter().all(|s| s.source == Source::Hotkey), "{log:?}");
    // Switching did not bind again.
    assert_eq!(backend.bind_calls().len(), 1);
    assert_eq!(backend.create_session_calls(), 1);
    Ok(())
}

#[test]
fn the_trigger_the_desktop_chose_is_the_one_reported() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let backend = panel.portal.shortcuts()?;
    backend.report(Triggers::Report("Super+W".into()));
    panel
        .desktop()
        .write_config("hotkey = \"Shift+Super+D\"\n")?;
    let app = App::start(panel.desktop(), &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log(
        "global hotkey bound by the desktop portal: \"Super+W\"",
        START,
    )?;
    // The key the desktop chose is the one in effect, also for `weft status --json`.
    let json: serde_json::Value =
        serde_json::from_str(&panel.desktop().weft_ok(&["status", "--json"])?)?;
    assert_eq!(json["hotkey"], "Super+W", "{json}");
    // And for the tray's hotkey line.
    let tray = panel.panel.tray(&app)?;
    wait_for("the tray's hotkey line", SOON, || {
        tray.find("Hotkey: Super+W").ok()
    })?;
    let asked: Vec<Option<String>> = backend
        .bind_calls()
        .iter()
        .flat_map(|call| call.shortcuts.iter().map(|s| s.preferred_trigger.clone()))
        .collect();
    assert_eq!(asked, [Some("SHIFT+LOGO+d".to_owned())]);
    Ok(())
}

#[test]
fn a_key_the_desktop_changes_later_is_shown_and_its_dialog_is_asked_only_where_the_portal_has_one(
) -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let backend = panel.portal.shortcuts()?;
    let app = App::start(panel.desktop(), &[])?;
    app.wait_until_serving(START)?;
    let session = weft_session(&panel, &app)?;
    app.wait_for_log("global hotkey bound by the desktop portal", START)?;
    // xdg-desktop-portal 1.16 has no host Registry: Weft goes on without it, and says so.
    let log = app.log();
    assert!(log.contains("has no host registry"), "{log}");

    // GlobalShortcuts version 1 has no ConfigureShortcuts: no button, and the request says why
    // and where the key is changed instead.
    assert_eq!(panel.portal.shortcuts_version(panel.desktop())?, 1);
    assert!(!status(&app)?.hotkey_changeable);
    match app.call(&Request::ChangeHotkey)? {
        Response::Error(report) => {
            assert_eq!(report.kind, weft_proto::ErrorKind::Unavailable);
            for part in ["version 1", "keyboard shortcut settings"] {
                assert!(report.message.contains(part), "{part}: {}", report.message);
            }
        }
        other => anyhow::bail!("unexpected answer {other:?}"),
    }

    // The user picks another key in the desktop's settings: Weft shows it at once, and it
    // still switches.
    backend.change_trigger(&session, "toggle", "SUPER+w")?;
    wait_for("the new key in the status", SOON, || {
        status(&app)
            .ok()
            .filter(|s| s.hotkey.as_deref() == Some("SUPER+w"))
    })?;
    let tray = panel.panel.tray(&app)?;
    wait_for("the tray's hotkey line", SOON, || {
        tray.find("Hotkey: SUPER+w").ok()
    })?;
    backend.activate_in(&session, "toggle")?;
    wait_for_state(&app, State::Focus)?;
    // Nothing was bound again for it.
    assert_eq!(backend.bind_calls().len(), 1);

    // The user removes the shortcut: no hotkey is claimed, and Weft says so (in coordination,
    // where a notice is not held for the digest).
    backend.activate_in(&session, "toggle")?;
    wait_for_state(&app, State::Coordination)?;
    backend.remove_shortcut(&session, "toggle")?;
    let shown = wait_for("the hotkey to be gone from the status", SOON, || {
        status(&app).ok().filter(|s| s.hotkey.is_none())
    })?;
    assert!(shown.degraded.contains(&DesktopPart::Hotkey), "{shown:?}");
    assert!(!shown.hotkey_changeable);
    wait_for("a notice about the removed shortcut", START, || {
        panel
            .panel
            .notifications
            .received()
            .into_iter()
            .find(|n| n.body.contains("the desktop removed Weft's shortcut"))
    })?;
    Ok(())
}

#[test]
fn a_bind_shortcuts_that_never_answers_is_bounded_and_start_up_does_not_wait() -> anyhow::Result<()>
{
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let backend = panel.portal.shortcuts()?;
    backend.answer_bind_shortcuts(Answer::Never);
    let app = App::start(panel.desktop(), &[])?;
    app.wait_until_serving(START)?;
    wait_for("Weft's BindShortcuts", START, || {
        (backend.bind_calls().len() == 1).then_some(())
    })?;
    // While the desktop has not answered (a dialog may be open), everything else works, and
    // no hotkey is claimed.
    assert_eq!(status(&app)?.hotkey, None);
    assert!(panel.desktop().weft(&["toggle"])?.status.success());
    wait_for_state(&app, State::Focus)?;
    assert!(panel.desktop().weft(&["toggle"])?.status.success());
    wait_for_state(&app, State::Coordination)?;
    // After the 60 s the desktop has for it, Weft says so once, in coordination.
    let notice = wait_for(
        "a notice about the unanswered BindShortcuts",
        START + Duration::from_secs(60),
        || {
            panel
                .panel
                .notifications
                .received()
                .into_iter()
                .find(|n| n.body.contains("did not answer BindShortcuts within 60 s"))
        },
    )?;
    assert!(notice.body.contains("weft toggle"), "{}", notice.body);
    let shown = status(&app)?;
    assert!(shown.degraded.contains(&DesktopPart::Hotkey));
    assert_eq!(shown.hotkey, None);
    // Asked once: no retry on a timer.
    assert_eq!(backend.bind_calls().len(), 1);
    assert_eq!(backend.create_session_calls(), 1);
    Ok(())
}

#[test]
fn a_portal_that_binds_nothing_or_never_answers_is_reported_and_the_cli_still_switches(
) -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    {
        let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
        panel.portal.shortcuts()?.report(Triggers::NoShortcuts);
        let app = App::start(panel.desktop(), &[])?;
        app.wait_until_serving(START)?;
        wait_for("a notice about the unbound hotkey", START, || {
            panel.panel.notifications.received().into_iter().find(|n| {
                n.body
                    .contains("did not set the hotkey Ctrl+Alt+F (the desktop bound no shortcut)")
            })
        })?;
        assert!(panel.desktop().weft(&["toggle"])?.status.success());
        wait_for_state(&app, State::Focus)?;
    }
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let backend = panel.portal.shortcuts()?;
    backend.answer_create_session(Answer::Never);
    let app = App::start(panel.desktop(), &[])?;
    app.wait_until_serving(START)?;
    wait_for("Weft's CreateSession", START, || {
        (backend.create_session_calls() == 1).then_some(())
    })?;
    // Said while in coordination: in focus the notice would be held for the digest.
    let notice = wait_for("a notice about the unanswered portal", START, || {
        panel
            .panel
            .notifications
            .received()
            .into_iter()
            .find(|n| n.body.contains("did not answer CreateSession within 10 s"))
    })?;
    assert!(notice.body.contains("weft toggle"), "{}", notice.body);
    let shown = status(&app)?;
    assert!(shown.degraded.contains(&DesktopPart::Hotkey));
    assert_eq!(shown.hotkey, None);
    assert_eq!(backend.create_session_calls(), 1);
    assert!(backend.bind_calls().is_empty());
    assert!(panel.desktop().weft(&["toggle"])?.status.success());
    wait_for_state(&app, State::Focus)?;
    Ok(())
}

#[test]
fn a_portal_without_global_shortcuts_is_reported_once() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::Nothing)?;
    let app = App::start(panel.desktop(), &[])?;
    app.wait_until_serving(START)?;
    let said = |n: &weft_e2e::notifications::Captured| {
        n.body
            .contains("This desktop lets no app set a global hotkey")
    };
    let notice = wait_for("the notice about the missing portal", START, || {
        panel.panel.notifications.received().into_iter().find(said)
    })?;
    assert!(
        notice.body.contains("bind `weft toggle` to a key"),
        "{}",
        notice.body
    );
    assert!(status(&app)?.degraded.contains(&DesktopPart::Hotkey));
    assert!(panel.desktop().weft(&["toggle"])?.status.success());
    wait_for_state(&app, State::Focus)?;
    // Weft asked once, and said so once (a retry would say it in the log again).
    let log = app.log();
    assert_eq!(log.matches("has no global shortcuts").count(), 1, "{log}");
    let notices = panel.panel.notifications.received();
    assert_eq!(notices.iter().filter(|n| said(n)).count(), 1);
    Ok(())
}

#[test]
fn hotkey_off_binds_nothing_through_the_portal() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    panel.desktop().write_config("hotkey = \"off\"\n")?;
    let app = App::start(panel.desktop(), &[])?;
    app.wait_until_serving(START)?;
    // `hotkey::register` says this and returns before it would ask the portal.
    app.wait_for_log("global hotkey is off", START)?;
    assert_eq!(panel.portal.shortcuts()?.create_session_calls(), 0);
    assert_eq!(status(&app)?.hotkey, None);
    assert!(!app.log().contains("desktop portal"), "{}", app.log());
    Ok(())
}

#[test]
fn a_dead_wayland_display_is_named_not_a_panic() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let output = panel
        .desktop()
        .command(weft_e2e::bin_dir().join("weft-app"))
        .env("WAYLAND_DISPLAY", "wayland-dead")
        .env("RUST_LOG", "off")
        .stdin(std::process::Stdio::null())
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot connect to the Wayland display wayland-dead")
            && stderr.contains("DISPLAY is not set"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    drop(panel);

    // With an X display too, GTK falls back to X11: Weft runs there and says why.
    let desktop = Desktop::start()?;
    let bin = weft_e2e::bin_dir().join("weft-app");
    let app = App::start_with(&desktop, &bin, &[], &[("WAYLAND_DISPLAY", "wayland-dead")])?;
    app.wait_until_serving(START)?;
    app.wait_for_log("wayland-dead", START)?;
    let log = app.log();
    assert!(log.contains("using the X display"), "{log}");
    // The X11 grab, not the portal.
    wait_for("the X11 hotkey in the status", SOON, || {
        status(&app)
            .ok()
            .filter(|s| s.hotkey.as_deref() == Some("Ctrl+Alt+F"))
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))?;
    assert!(!app.log().contains("desktop portal"), "{}", app.log());
    Ok(())
}

#[test]
fn the_window_opens_under_wayland_and_shows_the_state() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let desktop = panel.desktop();
    let sway = desktop.sway().ok_or_else(|| anyhow::anyhow!("no sway"))?;
    let app = App::start(desktop, &[])?;
    app.wait_until_serving(START)?;
    assert!(desktop.weft(&["focus"])?.status.success());
    // The window runs in a process of its own; WebDriver starts that process directly.
    let app_path = weft_e2e::bin_dir().join("weft-app");
    let session = weft_e2e::webdriver::Session::start(desktop, &app_path, &["--window"])?;
    wait_for("the window to show the state", START, || {
        session.text("#state").ok().filter(|t| t == "Focus")
    })?;
    // A native Wayland window (xdg_shell, with an app id), not an X11 one.
    let window = wait_for("sway to map Weft's window", SOON, || {
        sway.windows().ok()?.into_iter().find(|w| w.title == "Weft")
    })?;
    assert_eq!(window.shell, "xdg_shell", "{window:?}");
    assert!(window.app_id.is_some(), "{window:?}");
    let shot = weft_e2e::artifacts_dir().join("wayland-window.png");
    let grim = desktop.command("grim").arg(&shot).status()?;
    assert!(grim.success(), "grim failed: {grim}");
    // Settings names the key the desktop bound.
    session.click("#tab-settings")?;
    let said = wait_for("Settings to name the hotkey", SOON, || {
        session
            .text("#hotkey-text")
            .ok()
            .filter(|t| t.starts_with("CTRL+ALT+f switches"))
    })?;
    assert!(said.contains("keyboard shortcut settings"), "{said}");
    // Portal 1.16's GlobalShortcuts (version 1) cannot open the desktop's dialog: no button.
    let settings = session.rendered_text("#view-settings")?;
    assert!(settings.contains("CTRL+ALT+f switches"), "{settings}");
    assert!(!settings.contains("Change shortcut"), "{settings}");
    let grim = desktop
        .command("grim")
        .arg(weft_e2e::artifacts_dir().join("wayland-settings.png"))
        .status()?;
    assert!(grim.success(), "grim failed: {grim}");
    Ok(())
}

#[test]
fn with_no_tray_watcher_weft_says_so_once_and_a_second_start_opens_the_window() -> anyhow::Result<()>
{
    let _serial = weft_e2e::serial();
    // GNOME without the AppIndicator extension: a notification server, a portal, no watcher.
    let desktop = Desktop::start_wayland()?;
    let notifications = NotificationCapture::start_as(desktop.bus_address(), "gnome-shell")?;
    let _portal = Portal::start(&desktop, Offer::GlobalShortcuts)?;
    let sway = desktop.sway().ok_or_else(|| anyhow::anyhow!("no sway"))?;
    let first = App::start(&desktop, &[])?;
    first.wait_until_serving(START)?;
    let said = |n: &weft_e2e::notifications::Captured| {
        n.body.contains("Nothing on this desktop shows tray icons")
    };
    let notice = wait_for("the notice about the missing tray", START, || {
        notifications.received().into_iter().find(said)
    })?;
    for part in [
        "`weft toggle`",
        "AppIndicator extension",
        "starting Weft again",
    ] {
        assert!(
            notice.body.contains(part),
            "{part} missing: {}",
            notice.body
        );
    }
    assert!(status(&first)?.degraded.contains(&DesktopPart::Tray));

    // Starting weft-app again (the app menu) opens the window, natively, and exits.
    let mut second = App::start(&desktop, &[])?;
    let exited = wait_for("the second instance to exit", START, || second.exited())?;
    assert_eq!(exited.code(), Some(0), "{}", second.log());
    let window = wait_for("sway to map Weft's window", START, || {
        sway.windows().ok()?.into_iter().find(|w| w.title == "Weft")
    })?;
    assert_eq!(window.shell, "xdg_shell", "{window:?}");
    assert_eq!(first.call(&Request::CloseWindow)?, Response::Done);

    // A panel starts: the icon registers without a restart.
    let watcher = Watcher::start(desktop.bus_address())?;
    wait_for("the tray item to register", START, || {
        watcher.items().last().cloned()
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", first.log()))?;
    wait_for("the tray to leave the degraded list", SOON, || {
        status(&first)
            .ok()
            .filter(|s| !s.degraded.contains(&DesktopPart::Tray))
    })?;
    // Said once, also with the window opened and a panel come and gone.
    assert_eq!(
        notifications.received().iter().filter(|n| said(n)).count(),
        1
    );
    Ok(())
}

#[test]
fn a_portal_that_goes_away_is_reported_and_the_next_one_is_asked_again() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let mut panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let app = App::start(&panel.panel.desktop, &[])?;
    app.wait_until_serving(START)?;
    let first = weft_session(&panel, &app)?;
    app.wait_for_log("global hotkey bound by the desktop portal", START)?;

    // The desktop restarts: its portal leaves the bus, then comes back.
    panel.portal.stop_frontend(&panel.panel.desktop)?;
    let notice = wait_for("a notice about the portal that went away", START, || {
        panel
            .panel
            .notifications
            .received()
            .into_iter()
            .find(|n| n.body.contains("the desktop portal went away"))
    })?;
    assert!(notice.body.contains("weft toggle"), "{}", notice.body);
    let shown = status(&app)?;
    assert_eq!(shown.hotkey, None);
    assert!(shown.degraded.contains(&DesktopPart::Hotkey));

    panel.portal.start_frontend(&panel.panel.desktop)?;
    let backend = panel.portal.shortcuts()?;
    let second = wait_for("Weft to bind again with the new portal", START, || {
        backend
            .bound()
            .into_iter()
            .map(|(session, _)| session)
            .next()
    })?;
    assert_ne!(second, first);
    wait_for("the hotkey to be in effect again", SOON, || {
        status(&app)
            .ok()
            .filter(|s| s.hotkey.as_deref() == Some("CTRL+ALT+f"))
            .filter(|s| !s.degraded.contains(&DesktopPart::Hotkey))
    })?;
    backend.activate_in(&second, "toggle")?;
    wait_for_state(&app, State::Focus)?;
    // Asked once per portal: two sessions, two binds.
    assert_eq!(backend.create_session_calls(), 2);
    assert_eq!(backend.bind_calls().len(), 2);
    Ok(())
}

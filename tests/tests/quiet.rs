//! End-to-end tests of desktop do-not-disturb: a real dunst is paused during focus and resumed
//! afterwards (also after Quit and after a crash), a dunst paused by the user stays paused,
//! GNOME's show-banners and KDE's Inhibit are used for those servers, and an unknown server is
//! left alone and named in the tray menu.

use std::time::Duration;
use weft_e2e::notifications::{Inhibition, NotificationCapture};
use weft_e2e::tray::TrayItem;
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};

const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(30);

fn dunst_becomes(desktop: &Desktop, paused: bool) -> anyhow::Result<()> {
    wait_for(&format!("dunst paused = {paused}"), SOON, || {
        (desktop.dunst_paused().ok() == Some(paused)).then_some(())
    })
}

#[test]
fn dunst_is_paused_during_focus_and_given_back_afterwards() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _dunst = desktop.start_dunst()?;
    let mut app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;

    desktop.weft_ok(&["focus"])?;
    dunst_becomes(&desktop, true)?;
    desktop.weft_ok(&["coordinate"])?;
    dunst_becomes(&desktop, false)?;

    // Quitting during focus gives dunst back.
    desktop.weft_ok(&["focus"])?;
    dunst_becomes(&desktop, true)?;
    assert_eq!(app.stop().and_then(|s| s.code()), Some(0), "{}", app.log());
    assert!(!desktop.dunst_paused()?, "resumed on quit");

    // A crash during focus leaves dunst paused; the next start restores it, then (still in
    // focus) pauses it again for this run, and coordination resumes it.
    let mut app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    dunst_becomes(&desktop, true)?;
    app.kill9();
    assert!(desktop.dunst_paused()?, "a crash cannot restore anything");
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log(
        "restored the dunst notification setting a crash left behind",
        START,
    )?;
    desktop.weft_ok(&["coordinate"])?;
    dunst_becomes(&desktop, false)?;
    Ok(())
}

#[test]
fn a_dunst_the_user_paused_stays_paused() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _dunst = desktop.start_dunst()?;
    desktop.set_dunst_paused(true)?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["focus"])?;
    app.wait_for_log("already silent; left as it is", START)?;
    desktop.weft_ok(&["coordinate"])?;
    app.wait_for_log("quiet: nothing to restore", START)?;
    assert!(desktop.dunst_paused()?, "still paused, as the user left it");
    Ok(())
}

#[test]
fn quiet_desktop_off_leaves_dunst_alone() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _dunst = desktop.start_dunst()?;
    desktop.write_config("quiet_desktop = false\n")?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log("quiet_desktop is off", START)?;
    desktop.weft_ok(&["focus"])?;
    app.wait_for_log("quiet: off; focus leaves the desktop alone", START)?;
    assert!(!desktop.dunst_paused()?);
    Ok(())
}

#[test]
fn a_break_through_shows_through_a_paused_dunst() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _dunst = desktop.start_dunst()?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["focus"])?;
    dunst_becomes(&desktop, true)?;
    desktop.weft_ok(&["notify", "--title", "prod is down", "--urgency", "critical"])?;
    wait_for("dunst to display the break-through", SOON, || {
        (desktop.dunst_count("displayed").ok()? >= 1).then_some(())
    })?;
    assert!(
        !desktop.dunst_paused()?,
        "lifted while the popup is on screen"
    );
    // Paused again once the popup has had its moment.
    dunst_becomes(&desktop, true)?;
    Ok(())
}

#[test]
fn gnome_banners_are_turned_off_during_focus_and_back_on_afterwards() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _server = NotificationCapture::start_as(desktop.bus_address(), "gnome-shell")?;
    assert!(desktop.show_banners(Some(true))?);
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["focus"])?;
    wait_for("show-banners off", SOON, || {
        (desktop.show_banners(None).ok() == Some(false)).then_some(())
    })?;
    desktop.weft_ok(&["coordinate"])?;
    wait_for("show-banners back on", SOON, || {
        (desktop.show_banners(None).ok() == Some(true)).then_some(())
    })?;
    Ok(())
}

#[test]
fn kde_is_inhibited_during_focus_and_released_afterwards() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let plasma = NotificationCapture::start_as(desktop.bus_address(), "Plasma")?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["focus"])?;
    let cookie = wait_for("Inhibit", SOON, || match plasma.inhibitions().first() {
        Some(Inhibition::Inhibit(cookie)) => Some(*cookie),
        _ => None,
    })?;
    desktop.weft_ok(&["coordinate"])?;
    wait_for("UnInhibit with the same cookie", SOON, || {
        plasma
            .inhibitions()
            .contains(&Inhibition::UnInhibit(cookie))
            .then_some(())
    })?;
    Ok(())
}

#[test]
fn an_unknown_server_is_left_alone_and_named_in_the_tray() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _server = NotificationCapture::start(desktop.bus_address())?;
    let watcher = Watcher::start(desktop.bus_address())?;
    let bus = desktop.bus()?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    let item = wait_for("the tray", START, || watcher.items().last().cloned())?;
    desktop.weft_ok(&["focus"])?;
    app.wait_for_log("is not one Weft can quiet", START)?;
    let tray = TrayItem::new(&bus, item);
    wait_for("the tray to name the server", SOON, || {
        tray.entries()
            .ok()?
            .into_iter()
            .find(|e| e.label.contains("weft-capture"))
    })?;
    Ok(())
}

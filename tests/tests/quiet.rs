//! End-to-end tests of desktop do-not-disturb: a real dunst is paused during focus and resumed
//! afterwards (also after Quit and after a crash), a dunst paused by the user stays paused,
//! GNOME's show-banners and KDE's Inhibit are used for those servers, and an unknown server is
//! left alone and named in the tray menu. A notification server that restarts, or another kind
//! that takes over, during focus is silenced too, and coordination gives back the setting saved
//! at the start of focus.

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

#[test]
fn a_dunst_that_restarts_during_focus_is_paused_again_and_given_back() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let mut dunst = desktop.start_dunst()?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["focus"])?;
    dunst_becomes(&desktop, true)?;

    // dunst crashes and comes back (a new process starts unpaused) during focus.
    dunst.kill();
    let _dunst = desktop.start_dunst()?;
    dunst_becomes(&desktop, true)?;
    app.wait_for_log("popups silenced again (the server restarted)", SOON)?;

    // Coordination gives back what was saved at the start of focus: not paused.
    desktop.weft_ok(&["coordinate"])?;
    dunst_becomes(&desktop, false)?;
    app.wait_for_log("dunst: popups restored", SOON)?;
    Ok(())
}

#[test]
fn a_dunst_the_user_paused_is_paused_again_after_a_restart_and_left_paused() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let mut dunst = desktop.start_dunst()?;
    desktop.set_dunst_paused(true)?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["focus"])?;
    app.wait_for_log("already silent; left as it is", START)?;

    // The new dunst starts unpaused (its default); the user had it paused.
    dunst.kill();
    let _dunst = desktop.start_dunst()?;
    dunst_becomes(&desktop, true)?;

    desktop.weft_ok(&["coordinate"])?;
    app.wait_for_log("quiet: nothing to restore", START)?;
    assert!(desktop.dunst_paused()?, "paused, as the user had it");
    Ok(())
}

#[test]
fn another_kind_of_server_that_takes_over_during_focus_is_quieted_too() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    assert!(desktop.show_banners(Some(true))?);
    let mut dunst = desktop.start_dunst()?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["focus"])?;
    dunst_becomes(&desktop, true)?;

    // dunst goes; GNOME Shell takes the name (a session switched desktops).
    dunst.kill();
    let _shell = NotificationCapture::start_as(desktop.bus_address(), "gnome-shell")?;
    wait_for("show-banners off", SOON, || {
        (desktop.show_banners(None).ok() == Some(false)).then_some(())
    })?;
    app.wait_for_log("dunst: that server is gone", SOON)?;

    desktop.weft_ok(&["coordinate"])?;
    wait_for("show-banners back on", SOON, || {
        (desktop.show_banners(None).ok() == Some(true)).then_some(())
    })?;
    app.wait_for_log("gnome: popups restored", SOON)?;
    assert!(
        !app.log().contains("could not restore"),
        "nothing is given back to a server that is gone\n{}",
        app.log()
    );
    Ok(())
}

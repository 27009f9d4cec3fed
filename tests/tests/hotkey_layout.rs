//! End-to-end tests of the hotkey across keyboard layouts: the real `setxkbmap` loads layouts
//! on a private Xvfb display, `xdotool` presses keys, and Ctrl+Alt+F follows the key that types
//! F in the current layout and group. A layout without such a key is reported, and the hotkey
//! comes back with a layout that has one.

use std::time::Duration;
use weft_core::store::Store;
use weft_e2e::keys::Layouts;
use weft_e2e::panel::Panel;
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::{DesktopPart, Request, Response, Source, State};

const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(30);

const MISSING: &str = "has no key in the current keyboard layout";

fn state(app: &App) -> anyhow::Result<State> {
    match app.call(&Request::Status)? {
        Response::Status(status) => Ok(status.state),
        other => anyhow::bail!("unexpected answer {other:?}"),
    }
}

fn wait_for_state(app: &App, want: State) -> anyhow::Result<()> {
    wait_for(&format!("the state to become {want}"), SOON, || {
        (state(app).ok() == Some(want)).then_some(())
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))
}

/// Waits until `weft status` lists the hotkey among the parts that do not work (`listed`), or
/// no longer does.
fn wait_for_hotkey_listed(app: &App, listed: bool) -> anyhow::Result<()> {
    wait_for(
        &format!("the hotkey listed as degraded: {listed}"),
        SOON,
        || {
            let status = match app.call(&Request::Status).ok()? {
                Response::Status(status) => status,
                _ => return None,
            };
            (status.degraded.contains(&DesktopPart::Hotkey) == listed).then_some(())
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))
}

/// The app's log line for a grab on `keycodes`.
fn grabbed(keycodes: &[u8]) -> String {
    format!("global hotkey \"Ctrl+Alt+F\" grabbed on keycodes {keycodes:?}")
}

/// Waits until `text` is in the app's log at least `times` times.
fn wait_for_lines(app: &App, text: &str, times: usize) -> anyhow::Result<()> {
    wait_for(&format!("{times} × {text:?} in the log"), SOON, || {
        (app.log().matches(text).count() >= times).then_some(())
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))
}

/// The sources of the switches in the log so far.
fn switches(desktop: &Desktop) -> anyhow::Result<Vec<(Source, State)>> {
    Ok(Store::open_read_only(&desktop.database())?
        .switches(None)?
        .iter()
        .map(|s| (s.source, s.to))
        .collect())
}

#[test]
fn the_hotkey_follows_a_layout_change_from_dvorak_to_us() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let keys = Layouts::open(&s.desktop)?;
    keys.setxkbmap(&s.desktop, &["us", "-variant", "dvorak"])?;
    let dvorak_f = keys.keycodes_typing('f')?;
    let app = App::start(&s.desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log("global hotkey \"Ctrl+Alt+F\" registered", START)?;
    assert!(app.log().contains(&grabbed(&dvorak_f)), "{}", app.log());

    keys.setxkbmap(&s.desktop, &["us"])?;
    let us_f = keys.keycodes_typing('f')?;
    anyhow::ensure!(us_f != dvorak_f, "the layouts put F on different keys");
    app.wait_for_log(&grabbed(&us_f), SOON)?;

    s.desktop.press("ctrl+alt+f")?;
    wait_for_state(&app, State::Focus)?;
    // Neither U nor the key that typed F under dvorak (Y in us) is the hotkey now. The
    // presses reach the hotkey thread in order, so once the last Ctrl+Alt+F has switched,
    // any switch of theirs would be logged too.
    s.desktop.press("ctrl+alt+u")?;
    s.desktop.press("ctrl+alt+y")?;
    s.desktop.press("ctrl+alt+f")?;
    wait_for_state(&app, State::Coordination)?;
    assert_eq!(
        switches(&s.desktop)?,
        [
            (Source::Hotkey, State::Focus),
            (Source::Hotkey, State::Coordination)
        ],
        "only Ctrl+Alt+F switched\n{}",
        app.log()
    );
    assert!(!app.log().contains(MISSING), "{}", app.log());
    Ok(())
}

#[test]
fn a_layout_without_the_key_is_reported_once_and_the_hotkey_comes_back() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let keys = Layouts::open(&s.desktop)?;
    keys.setxkbmap(&s.desktop, &["us"])?;
    let us_f = keys.keycodes_typing('f')?;
    let app = App::start(&s.desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log(&grabbed(&us_f), START)?;

    // A Cyrillic layout types no F: the app says so (log, tray menu, a notice).
    keys.setxkbmap(&s.desktop, &["ru"])?;
    anyhow::ensure!(keys.keycodes_typing('f')?.is_empty(), "ru has no F");
    app.wait_for_log(MISSING, SOON)?;
    let notice = wait_for("a notice about the layout", SOON, || {
        s.notifications
            .received()
            .into_iter()
            .find(|n| n.body.contains(MISSING))
    })?;
    assert!(notice.body.contains("Ctrl+Alt+F"), "{}", notice.body);
    wait_for_hotkey_listed(&app, true)?;

    // Back to a layout with an F: the hotkey works again.
    keys.setxkbmap(&s.desktop, &["us"])?;
    app.wait_for_log("works again", SOON)?;
    wait_for_hotkey_listed(&app, false)?;
    wait_for_lines(&app, &grabbed(&us_f), 2)?;
    s.desktop.press("ctrl+alt+f")?;
    wait_for_state(&app, State::Focus)?;

    // A second layout without the key is logged, and not announced again. A notice is filed
    // on the hotkey thread before it grabs the key again, so once the grab is logged, a second
    // notice would be in the inbox.
    keys.setxkbmap(&s.desktop, &["ru"])?;
    wait_for_lines(&app, MISSING, 2)?;
    keys.setxkbmap(&s.desktop, &["us"])?;
    wait_for_lines(&app, &grabbed(&us_f), 3)?;
    let inbox: serde_json::Value = serde_json::from_str(&s.desktop.weft_ok(&["inbox", "--json"])?)?;
    let told = inbox
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| i["body"].as_str().is_some_and(|b| b.contains(MISSING)))
                .count()
        })
        .unwrap_or_default();
    assert_eq!(told, 1, "said once: {inbox}");
    s.desktop.press("ctrl+alt+f")?;
    wait_for_state(&app, State::Coordination)?;
    Ok(())
}

#[test]
fn the_hotkey_follows_the_current_group() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let keys = Layouts::open(&s.desktop)?;
    keys.setxkbmap(&s.desktop, &["us"])?;
    let us_f = keys.keycodes_typing('f')?;
    // Two layouts, Cyrillic first: in the first group no key types F.
    keys.setxkbmap(&s.desktop, &["-layout", "ru,us"])?;
    let app = App::start(&s.desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log(MISSING, START)?;

    // The layout switch key moves to the second group (us): F is typed again.
    keys.lock_group(1)?;
    app.wait_for_log(&grabbed(&us_f), SOON)?;
    keys.lock_group(0)?;
    wait_for_lines(&app, MISSING, 2)?;
    Ok(())
}

#[test]
fn a_layout_whose_key_another_program_holds_is_listed_until_a_layout_frees_it() -> anyhow::Result<()>
{
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let keys = Layouts::open(&s.desktop)?;
    keys.setxkbmap(&s.desktop, &["us"])?;
    let us_f = keys.keycodes_typing('f')?;
    let app = App::start(&s.desktop, &[])?;
    app.wait_until_serving(START)?;
    app.wait_for_log(&grabbed(&us_f), START)?;

    // Another program holds Ctrl+Alt on the key that types F under dvorak (Y in us).
    let _other = weft_e2e::keys::grab(s.desktop.display(), "ctrl+alt+y")?;
    keys.setxkbmap(&s.desktop, &["us", "-variant", "dvorak"])?;
    app.wait_for_log("another program already uses it", SOON)?;
    wait_for_hotkey_listed(&app, true)?;

    // Back to us: F's key is free, the hotkey works and is no longer listed.
    keys.setxkbmap(&s.desktop, &["us"])?;
    wait_for_lines(&app, &grabbed(&us_f), 2)?;
    wait_for_hotkey_listed(&app, false)?;
    s.desktop.press("ctrl+alt+f")?;
    wait_for_state(&app, State::Focus)?;
    Ok(())
}

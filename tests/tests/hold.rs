//! End-to-end tests of the hold policy: notifications held during focus, one digest when
//! coordination begins, break-throughs, persistence across kill -9, and a missing or hung
//! notification daemon. Same private desktop as e2e.rs; one test at a time.

use std::time::Duration;
use weft_e2e::notifications::{Captured, NotificationCapture};
use weft_e2e::panel::Panel;
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};

const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(30);

fn held(desktop: &Desktop) -> anyhow::Result<u64> {
    let json: serde_json::Value = serde_json::from_str(&desktop.weft_ok(&["status", "--json"])?)?;
    json["held"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no held count in {json}"))
}

fn popup(
    capture: &NotificationCapture,
    what: &str,
    test: impl Fn(&Captured) -> bool,
) -> anyhow::Result<Captured> {
    wait_for(what, SOON, || {
        capture.received().into_iter().find(|n| test(n))
    })
}

#[test]
fn focus_holds_five_and_coordination_brings_exactly_one_digest() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let app = App::start(&s.desktop, &[])?;
    app.wait_until_serving(START)?;
    s.desktop.weft_ok(&["focus"])?;
    for (n, from) in ["Ana", "CI", "Ana", "Bo", "Ana"].iter().enumerate() {
        let out =
            s.desktop
                .weft_ok(&["notify", "--title", &format!("note {n}"), "--from", from])?;
        assert!(out.starts_with("Held"), "{out}");
    }
    assert_eq!(held(&s.desktop)?, 5);

    // A critical one breaks through; the five held ones were filed before it, so once it has
    // arrived, any popup for them would have arrived too.
    let out = s.desktop.weft_ok(&[
        "notify",
        "--title",
        "prod is down",
        "--urgency",
        "critical",
        "--from",
        "pager",
    ])?;
    assert!(out.contains("critical"), "{out}");
    let fire = popup(&s.notifications, "the break-through", |n| {
        n.summary.contains("prod is down")
    })?;
    assert_eq!(fire.urgency, Some(2), "sent as critical");
    let before: Vec<String> = s
        .notifications
        .received()
        .iter()
        .map(|n| n.summary.clone())
        .collect();
    assert_eq!(
        before,
        ["pager: prod is down"],
        "no popup for the held five"
    );

    s.desktop.weft_ok(&["coordinate"])?;
    let digest = popup(&s.notifications, "the digest", |n| {
        n.summary.contains("held while you focused")
    })?;
    assert_eq!(digest.summary, "5 held while you focused");
    assert_eq!(digest.body, "3 from Ana, 1 from Bo, 1 from CI");
    assert_eq!(held(&s.desktop)?, 0);

    // In coordination a notification is shown at once; once it is here, count the digests.
    s.desktop
        .weft_ok(&["notify", "--title", "lunch?", "--from", "Ana"])?;
    popup(&s.notifications, "the direct popup", |n| {
        n.summary == "Ana: lunch?"
    })?;
    let digests = s
        .notifications
        .received()
        .iter()
        .filter(|n| n.summary.contains("held while you focused"))
        .count();
    assert_eq!(digests, 1, "one digest, not one popup per item");

    let inbox: serde_json::Value = serde_json::from_str(&s.desktop.weft_ok(&["inbox", "--json"])?)?;
    let states: Vec<&str> = inbox
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["state"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        states.iter().filter(|s| **s == "released").count(),
        5,
        "{inbox}"
    );
    assert_eq!(states.iter().filter(|s| **s == "break_through").count(), 1);
    Ok(())
}

#[test]
fn held_items_survive_kill_9_and_arrive_in_the_next_digest() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let mut app = App::start(&s.desktop, &[])?;
    app.wait_until_serving(START)?;
    s.desktop.weft_ok(&["focus"])?;
    for n in 0..3 {
        s.desktop
            .weft_ok(&["notify", "--title", &format!("while away {n}")])?;
    }
    app.kill9();
    let app = App::start(&s.desktop, &[])?;
    app.wait_until_serving(START)?;
    assert_eq!(held(&s.desktop)?, 3, "still held after the crash");
    s.desktop.weft_ok(&["coordinate"])?;
    let digest = popup(&s.notifications, "the digest", |n| {
        n.summary.contains("held while you focused")
    })?;
    assert_eq!(digest.summary, "3 held while you focused");
    Ok(())
}

#[test]
fn without_a_notification_daemon_switches_work_and_items_wait_for_one() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _watcher = Watcher::start(desktop.bus_address())?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["notify", "--title", "build finished", "--from", "CI"])?;
    app.wait_for_log("could not be shown", START)?;
    // Switching is not held up by the failed deliveries (the CLI gives up after 10 s).
    desktop.weft_ok(&["focus"])?;
    desktop.weft_ok(&["coordinate"])?;

    let capture = NotificationCapture::start(desktop.bus_address())?;
    let arrived = popup(&capture, "the owed popup, once a daemon is there", |n| {
        n.summary == "CI: build finished"
    })?;
    assert_eq!(arrived.app_name, "Weft");
    Ok(())
}

#[test]
fn a_hung_notification_server_costs_a_timeout_not_a_switch() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _hung = NotificationCapture::start_hanging(desktop.bus_address())?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    desktop.weft_ok(&["notify", "--title", "into the void"])?;
    desktop.weft_ok(&["focus"])?;
    app.wait_for_log("did not answer within 5 s", START)?;
    // The switch was committed while the delivery was still waiting for its timeout.
    let log = app.log();
    let switched = log.find("switched to focus").unwrap_or(usize::MAX);
    let timed_out = log.find("did not answer within 5 s").unwrap_or(0);
    assert!(
        switched < timed_out,
        "the switch did not wait for the server:\n{log}"
    );
    // The popup is still owed, to be retried (Weft's own notices may be owed too: this
    // desktop has no tray host, which Weft reports when it notices).
    let store = weft_core::store::Store::open_read_only(&desktop.database())?;
    let owed: Vec<String> = store
        .owed_popups()?
        .into_iter()
        .map(|p| p.summary)
        .filter(|summary| summary != "Weft")
        .collect();
    assert_eq!(owed, ["into the void"]);
    Ok(())
}

#[test]
fn bad_notifications_get_clear_errors() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let app = App::start(&s.desktop, &[])?;
    app.wait_until_serving(START)?;

    let urgent = s
        .desktop
        .weft(&["notify", "--title", "x", "--urgency", "urgent"])?;
    assert_eq!(urgent.status.code(), Some(2));
    let message = String::from_utf8_lossy(&urgent.stderr);
    assert!(
        message.contains("urgent") && message.contains("critical"),
        "{message}"
    );

    let empty = s.desktop.weft(&["notify", "--title", "  "])?;
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("needs a title"));

    let body = "x".repeat(weft_proto::MAX_BODY_CHARS + 500);
    let long = s
        .desktop
        .weft(&["notify", "--title", "huge log", "--body", &body])?;
    assert!(long.status.success());
    assert!(String::from_utf8_lossy(&long.stderr).contains("cut to 4000 characters"));
    let shown = popup(&s.notifications, "the cut popup", |n| {
        n.summary == "huge log"
    })?;
    assert!(shown.body.ends_with(weft_proto::TRUNCATION_MARKER));
    assert_eq!(shown.body.chars().count(), weft_proto::MAX_BODY_CHARS);
    Ok(())
}

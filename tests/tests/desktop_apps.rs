//! End-to-end tests of other apps' notifications (issue 11): another process (`gdbus`) sends
//! `Notify` to the desktop's server while Weft runs, and Weft files it through its hold policy.
//! Held in focus with its app and named in the one digest; `replaces_id` updates one item; a
//! transient one is counted, not kept; an empty app name is the sender's process; `[apps]
//! always`, `[apps] ignore` and critical; `desktop_capture = "count"` and `"off"`; the summary
//! per app; delivered in coordination without a copy; and the window naming the app in its
//! Inbox and Today view over WebDriver. One test at a time, each on its own private desktop.
//! With a real dunst: `dunst_apps.rs`.
use std::time::Duration;
use weft_e2e::apps::{
    apps_filed, database_text, from_apps, held, inbox_once, item, monitors, start_watching,
    weft_popups, AppNotification,
};
use weft_e2e::notifications::{Captured, NotificationCapture};
use weft_e2e::panel::Panel;
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};

const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(30);

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
fn apps_notifications_in_focus_are_held_with_their_app_and_named_in_one_digest(
) -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let _app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;
    for (from, title) in [
        ("Slack", "general: standup moved"),
        ("Thunderbird", "Invoice 42"),
        ("Slack", "dev: build is green"),
        ("Slack", "Ana: lunch?"),
        ("Thunderbird", "Re: the plan"),
    ] {
        AppNotification::new(from, title)
            .body("<b>see</b> the app &lt;b&gt;")
            .send(&s.desktop)?;
    }
    let items = apps_filed(&s.desktop, 5)?;
    assert_eq!(items.len(), 5, "{items:?}");
    for i in &items {
        assert_eq!(i["state"], "held", "{i}");
        assert_eq!(i["source"], "desktop", "{i}");
        // The markup goes and the escaped text stays, as text: cleaned once.
        assert_eq!(i["body"], "see the app <b>", "markup removed: {i}");
    }
    assert_eq!(item(&items, "Invoice 42")?["app"], "Thunderbird");
    assert_eq!(item(&items, "Ana: lunch?")?["app"], "Slack");
    assert_eq!(held(&s.desktop)?, 5);
    assert!(
        weft_popups(&s.notifications).is_empty(),
        "nothing shown by Weft during focus"
    );

    s.desktop.weft_ok(&["coordinate"])?;
    let digest = popup(&s.notifications, "the digest", |n| {
        n.app_name == "Weft" && n.summary.contains("held while you focused")
    })?;
    assert_eq!(digest.summary, "5 held while you focused");
    assert_eq!(digest.body, "3 from Slack, 2 from Thunderbird");
    assert_eq!(held(&s.desktop)?, 0);

    // Popups go out in order; once this one is here, any other would have been too.
    s.desktop
        .weft_ok(&["notify", "--title", "after the digest"])?;
    popup(&s.notifications, "the direct popup", |n| {
        n.summary == "after the digest"
    })?;
    assert_eq!(
        weft_popups(&s.notifications),
        ["5 held while you focused", "after the digest"],
        "one digest, and no copy of the apps' notifications"
    );
    let released = from_apps(&s.desktop)?
        .iter()
        .filter(|i| i["state"] == "released")
        .count();
    assert_eq!(released, 5);
    Ok(())
}

#[test]
fn a_notification_that_replaces_another_updates_its_item() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let _app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;

    let first = AppNotification::new("Firefox", "Downloading: 10%").send(&s.desktop)?;
    inbox_once(&s.desktop, "the download", |i| {
        i["title"] == "Downloading: 10%"
    })?;
    let second = AppNotification::new("Firefox", "Downloading: 80%")
        .replacing(first)
        .send(&s.desktop)?;
    inbox_once(&s.desktop, "the first update", |i| {
        i["title"] == "Downloading: 80%"
    })?;
    AppNotification::new("Firefox", "Downloaded")
        .body("report.pdf")
        .replacing(second)
        .send(&s.desktop)?;
    let items = inbox_once(&s.desktop, "the second update", |i| {
        i["title"] == "Downloaded"
    })?;
    let firefox: Vec<_> = items.iter().filter(|i| i["app"] == "Firefox").collect();
    assert_eq!(firefox.len(), 1, "one item, updated: {items:?}");
    assert_eq!(firefox[0]["body"], "report.pdf");
    assert_eq!(firefox[0]["state"], "held");
    assert_eq!(held(&s.desktop)?, 1, "counted once");

    // Another app naming the same id does not update Firefox's item.
    AppNotification::new("Mail", "New mail")
        .replacing(second)
        .send(&s.desktop)?;
    let items = apps_filed(&s.desktop, 2)?;
    assert_eq!(item(&items, "Downloaded")?["app"], "Firefox");
    assert_eq!(item(&items, "New mail")?["app"], "Mail");
    assert_eq!(held(&s.desktop)?, 2);
    Ok(())
}

#[test]
fn always_apps_break_through_and_ignored_apps_are_not_filed() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    s.desktop
        .write_config("[apps]\nalways = [\"PagerDuty\"]\nignore = [\"Spotify\"]\n")?;
    let _app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;

    // Names match case-insensitively.
    AppNotification::new("pagerduty", "prod is down").send(&s.desktop)?;
    AppNotification::new("SPOTIFY", "Now playing").send(&s.desktop)?;
    // Filed in the order they were sent: once this one is in, the others were decided.
    AppNotification::new("Slack", "after them").send(&s.desktop)?;
    let items = inbox_once(&s.desktop, "the last one", |i| i["title"] == "after them")?;
    let page = item(&items, "prod is down")?;
    assert_eq!(page["state"], "break_through", "{page}");
    assert_eq!(page["app"], "pagerduty");
    assert_eq!(item(&items, "after them")?["state"], "held");
    assert!(
        items.iter().all(|i| i["title"] != "Now playing"),
        "an ignored app is not filed: {items:?}"
    );
    assert_eq!(held(&s.desktop)?, 1);

    // Not counted either: the digest names only Slack.
    s.desktop.weft_ok(&["coordinate"])?;
    let digest = popup(&s.notifications, "the digest", |n| {
        n.app_name == "Weft" && n.summary.contains("held while you focused")
    })?;
    assert_eq!(
        (digest.summary.as_str(), digest.body.as_str()),
        ("1 held while you focused", "1 from Slack")
    );
    Ok(())
}

#[test]
fn a_critical_notification_from_an_app_breaks_through() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let _app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;
    AppNotification::new("Slack", "the site is down")
        .critical()
        .send(&s.desktop)?;
    AppNotification::new("Slack", "lunch?").send(&s.desktop)?;
    let items = apps_filed(&s.desktop, 2)?;
    let fire = item(&items, "the site is down")?;
    assert_eq!(fire["state"], "break_through", "{fire}");
    assert_eq!(fire["urgency"], "critical");
    assert_eq!(item(&items, "lunch?")?["state"], "held");
    assert_eq!(held(&s.desktop)?, 1);
    Ok(())
}

#[test]
fn an_always_apps_notification_is_shown_through_a_silenced_desktop() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let _watcher = Watcher::start(desktop.bus_address())?;
    let shell = NotificationCapture::start_as(desktop.bus_address(), "gnome-shell")?;
    assert!(desktop.show_banners(Some(true))?);
    desktop.write_config("[apps]\nalways = [\"PagerDuty\"]\n")?;
    let _app = start_watching(&desktop, &[])?;
    desktop.weft_ok(&["focus"])?;
    wait_for("show-banners off", SOON, || {
        (desktop.show_banners(None).ok() == Some(false)).then_some(())
    })?;
    AppNotification::new("PagerDuty", "prod is down").send(&desktop)?;
    // GNOME keeps it unseen in its list; Weft shows a copy itself.
    let copy = popup(&shell, "Weft's copy", |n| {
        n.app_name == "Weft" && n.summary.contains("prod is down")
    })?;
    assert_eq!(copy.summary, "PagerDuty: prod is down");
    Ok(())
}

#[test]
fn count_capture_keeps_no_title_or_body() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    s.desktop.write_config("desktop_capture = \"count\"\n")?;
    let _app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;
    AppNotification::new("Slack", "secret plans")
        .body("the launch date")
        .send(&s.desktop)?;
    let items = apps_filed(&s.desktop, 1)?;
    assert_eq!(items[0]["app"], "Slack");
    assert_eq!(items[0]["state"], "held");
    assert_eq!(
        (items[0]["title"].as_str(), items[0]["body"].as_str()),
        (Some(""), Some("")),
        "{}",
        items[0]
    );
    // Nowhere in the database's files either.
    let stored = database_text(&s.desktop);
    assert!(!stored.is_empty());
    assert!(!stored.contains("secret plans") && !stored.contains("launch date"));

    s.desktop.weft_ok(&["coordinate"])?;
    let digest = popup(&s.notifications, "the digest", |n| {
        n.app_name == "Weft" && n.summary.contains("held while you focused")
    })?;
    assert_eq!(
        (digest.summary.as_str(), digest.body.as_str()),
        ("1 held while you focused", "1 from Slack")
    );
    Ok(())
}

#[test]
fn a_transient_notification_is_counted_not_kept() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let _app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;
    AppNotification::new("Slack", "Ana is typing")
        .transient()
        .send(&s.desktop)?;
    // Filed in the order they were sent: once this one is in, the transient was decided.
    AppNotification::new("Slack", "Ana: hi").send(&s.desktop)?;
    let items = inbox_once(&s.desktop, "the kept one", |i| i["title"] == "Ana: hi")?;
    assert!(
        items.iter().all(|i| i["title"] != "Ana is typing"),
        "not in the Inbox: {items:?}"
    );
    assert!(!database_text(&s.desktop).contains("is typing"));
    s.desktop.weft_ok(&["coordinate"])?;
    let json: serde_json::Value =
        serde_json::from_str(&s.desktop.weft_ok(&["summary", "--format", "json"])?)?;
    assert_eq!(
        json["held_by_app"],
        serde_json::json!([{"app": "Slack", "held": 2, "break_throughs": 0}]),
        "counted: {json}"
    );
    Ok(())
}

#[test]
fn off_capture_opens_no_monitor_and_files_nothing() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    s.desktop.write_config("desktop_capture = \"off\"\n")?;
    let app = App::start(&s.desktop, &[])?;
    app.wait_until_serving(START)?;
    s.desktop.weft_ok(&["focus"])?;
    AppNotification::new("Slack", "hello").send(&s.desktop)?;
    s.desktop.weft_ok(&["notify", "--title", "Weft's own"])?;
    let items = inbox_once(&s.desktop, "Weft's own notification", |i| {
        i["title"] == "Weft's own"
    })?;
    // With no monitor on the bus, nothing can file the app's call later.
    assert_eq!(monitors(&s.desktop)?, 0, "no monitor on the bus");
    assert!(
        items.iter().all(|i| i["source"] != "desktop"),
        "nothing filed: {items:?}"
    );
    assert_eq!(held(&s.desktop)?, 1);
    Ok(())
}

#[test]
fn the_summary_counts_apps_per_app() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let _app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;
    AppNotification::new("Slack", "one").send(&s.desktop)?;
    AppNotification::new("Mail", "two").send(&s.desktop)?;
    AppNotification::new("Slack", "three").send(&s.desktop)?;
    AppNotification::new("Slack", "four")
        .critical()
        .send(&s.desktop)?;
    apps_filed(&s.desktop, 4)?;
    s.desktop.weft_ok(&["coordinate"])?;

    let json: serde_json::Value =
        serde_json::from_str(&s.desktop.weft_ok(&["summary", "--format", "json"])?)?;
    assert_eq!(
        json["held_by_app"],
        serde_json::json!([
            {"app": "Slack", "held": 2, "break_throughs": 1},
            {"app": "Mail", "held": 1, "break_throughs": 0},
        ]),
        "{json}"
    );
    let text = s.desktop.weft_ok(&["summary", "--format", "md"])?;
    assert!(
        text.contains("Held 3 notifications from 2 apps during"),
        "{text}"
    );
    Ok(())
}

#[test]
fn in_coordination_an_apps_notification_is_delivered_without_a_copy() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let _app = start_watching(&s.desktop, &[])?;
    AppNotification::new("Slack", "lunch?").send(&s.desktop)?;
    let items = apps_filed(&s.desktop, 1)?;
    assert_eq!(items[0]["state"], "delivered", "{}", items[0]);
    assert_eq!(items[0]["app"], "Slack");
    assert_eq!(held(&s.desktop)?, 0);

    s.desktop.weft_ok(&["notify", "--title", "Weft's own"])?;
    popup(&s.notifications, "Weft's own popup", |n| {
        n.summary == "Weft's own"
    })?;
    assert_eq!(weft_popups(&s.notifications), ["Weft's own"], "no copy");
    let shown = s
        .notifications
        .received()
        .iter()
        .filter(|n| n.summary.contains("lunch?"))
        .count();
    assert_eq!(shown, 1, "shown once, by the app's own call");
    Ok(())
}

#[test]
fn with_quiet_desktop_off_an_apps_break_through_is_shown_once() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    break_through_shown_once("quiet_desktop = false\n", "quiet_desktop is off")
}

#[test]
fn on_a_server_weft_cannot_quiet_an_apps_break_through_is_shown_once() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    break_through_shown_once("", "is not one Weft can quiet")
}

/// With `config`, once the app has logged `settled`: a critical notification from an app
/// during focus, on a desktop Weft does not silence, reaches the server once (the app's own
/// call) and Weft shows no copy.
fn break_through_shown_once(config: &str, settled: &str) -> anyhow::Result<()> {
    let s = Panel::start()?;
    s.desktop.write_config(config)?;
    let app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;
    app.wait_for_log(settled, START)?;
    AppNotification::new("Slack", "the site is down")
        .critical()
        .send(&s.desktop)?;
    inbox_once(&s.desktop, "the break-through", |i| {
        i["title"] == "the site is down" && i["state"] == "break_through"
    })?;
    // Popups go out in order; once this one is here, a copy would have been too.
    s.desktop
        .weft_ok(&["notify", "--title", "after it", "--urgency", "critical"])?;
    popup(&s.notifications, "Weft's own break-through", |n| {
        n.summary == "after it"
    })?;
    let shown: Vec<_> = s
        .notifications
        .received()
        .into_iter()
        .filter(|n| n.summary.contains("the site is down"))
        .map(|n| (n.app_name, n.summary))
        .collect();
    assert_eq!(
        shown,
        [("Slack".to_owned(), "the site is down".to_owned())],
        "the desktop showed it; Weft shows no second copy"
    );
    Ok(())
}

#[test]
fn a_notification_without_an_app_name_is_filed_under_its_process() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let _app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;
    // From this process, whose connection stays open: a sender that has already left the bus
    // cannot be looked up (gdbus leaves as soon as it has its answer).
    let bus = s.desktop.bus()?;
    AppNotification::new("", "nameless").send_over(&bus)?;
    let items = apps_filed(&s.desktop, 1)?;
    let process = std::fs::read_to_string("/proc/self/comm")?;
    assert_eq!(items[0]["title"], "nameless");
    assert_eq!(
        items[0]["app"],
        process.trim(),
        "the sender's process: {}",
        items[0]
    );
    Ok(())
}

#[test]
fn the_window_names_the_app_in_the_inbox_and_today_over_webdriver() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let s = Panel::start()?;
    let _app = start_watching(&s.desktop, &[])?;
    s.desktop.weft_ok(&["focus"])?;
    AppNotification::new("Slack", "Ana: lunch?").send(&s.desktop)?;
    apps_filed(&s.desktop, 1)?;
    let app_path = weft_e2e::bin_dir().join("weft-app");
    let session = weft_e2e::webdriver::Session::start(&s.desktop, &app_path, &["--window"])?;
    wait_for("the Inbox to name the app", START, || {
        session
            .rendered_text("#inbox")
            .ok()
            .filter(|t| t.contains("Slack: Ana: lunch?"))
    })?;
    session.click("#tab-today")?;
    wait_for("Today to list the app", SOON, || {
        session
            .rendered_text("#apps")
            .ok()
            .filter(|t| t.contains("Slack"))
    })?;
    session.screenshot(&weft_e2e::artifacts_dir().join("window-apps.png"))?;
    Ok(())
}

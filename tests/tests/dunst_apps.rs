//! End-to-end tests of other apps' notifications with a real dunst (issue 11): filed with their
//! app while dunst is paused; after focus, with `desktop_replay = "digest"`, only Weft's one
//! digest is shown (Weft closed the rest on dunst, which keeps them in its history), a flood
//! too; with `"desktop"`, dunst replays them; a break-through lets nothing held out. One test
//! at a time, each on its own private desktop.
use std::time::Duration;
use weft_e2e::apps::{
    apps_filed, from_apps, held, inbox_once, item, start_watching, AppNotification,
};
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};

const SOON: Duration = Duration::from_secs(30);
/// Filing a flood: each notification is one commit.
const FLOOD: Duration = Duration::from_secs(180);

/// A desktop with a tray host and a real dunst, and Weft on it in focus (dunst paused), with
/// `config` written first.
struct DunstFocus {
    app: App,
    _dunst: weft_e2e::proc::Proc,
    _watcher: Watcher,
    desktop: Desktop,
}

impl DunstFocus {
    fn start(config: &str) -> anyhow::Result<DunstFocus> {
        let desktop = Desktop::start()?;
        let watcher = Watcher::start(desktop.bus_address())?;
        let dunst = desktop.start_dunst()?;
        desktop.write_config(config)?;
        let app = start_watching(&desktop, &[])?;
        desktop.weft_ok(&["focus"])?;
        wait_for("dunst paused", SOON, || {
            (desktop.dunst_paused().ok() == Some(true)).then_some(())
        })?;
        Ok(DunstFocus {
            app,
            _dunst: dunst,
            _watcher: watcher,
            desktop,
        })
    }

    /// Three notifications from two apps, filed; they stay on screen once dunst shows them.
    /// Returns the ids dunst gave them, in the order sent.
    fn send_three(&self) -> anyhow::Result<Vec<u32>> {
        let mut ids = Vec::new();
        for (from, title) in [("Slack", "one"), ("Thunderbird", "two"), ("Slack", "three")] {
            ids.push(
                AppNotification::new(from, title)
                    .persistent()
                    .send(&self.desktop)?,
            );
        }
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "dunst gave each its own id");
        let items = apps_filed(&self.desktop, 3)?;
        assert!(items.iter().all(|i| i["state"] == "held"), "{items:?}");
        assert_eq!(item(&items, "two")?["app"], "Thunderbird");
        assert_eq!(item(&items, "three")?["app"], "Slack");
        assert_eq!(self.desktop.dunst_count("waiting")?, 3, "dunst holds them");
        Ok(ids)
    }

    /// Coordination, until dunst is resumed and Weft's digest has been taken by the desktop.
    fn coordinate(&self) -> anyhow::Result<()> {
        self.desktop.weft_ok(&["coordinate"])?;
        wait_for("dunst resumed", SOON, || {
            (self.desktop.dunst_paused().ok() == Some(false)).then_some(())
        })?;
        let store = weft_core::store::Store::open_read_only(&self.desktop.database())?;
        wait_for("the three released and the digest shown", SOON, || {
            let released = from_apps(&self.desktop)
                .ok()?
                .iter()
                .filter(|i| i["state"] == "released")
                .count();
            (released == 3 && store.owed_popups().ok()?.is_empty()).then_some(())
        })
        .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", self.app.log()))
    }

    /// Popups dunst shows or queues now.
    fn on_screen(&self) -> anyhow::Result<u32> {
        Ok(self.desktop.dunst_count("displayed")? + self.desktop.dunst_count("waiting")?)
    }
}

#[test]
fn with_dunst_apps_notifications_in_focus_are_filed_with_their_app() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let f = DunstFocus::start("")?;
    let ids = f.send_three()?;
    // dunst keeps the id of the notification it replaces.
    let again = AppNotification::new("Slack", "one, edited")
        .persistent()
        .replacing(ids[0])
        .send(&f.desktop)?;
    assert_eq!(again, ids[0]);
    let items = inbox_once(&f.desktop, "the update", |i| i["title"] == "one, edited")?;
    assert_eq!(
        items.iter().filter(|i| i["source"] == "desktop").count(),
        3,
        "updated in place: {items:?}"
    );
    assert_eq!(f.desktop.dunst_count("waiting")?, 3);
    f.coordinate()?;
    Ok(())
}

#[test]
fn with_dunst_and_replay_digest_only_the_digest_is_shown_after_focus() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let f = DunstFocus::start("desktop_replay = \"digest\"\n")?;
    f.send_three()?;
    f.coordinate()?;
    // The three never expire: replayed, they would be on screen or waiting now. The digest is
    // on screen, or expired into the history already.
    assert_eq!(f.desktop.dunst_count("waiting")?, 0, "nothing queued");
    assert!(f.desktop.dunst_count("displayed")? <= 1, "the digest alone");
    f.desktop.dunst_close_all()?;
    let history = f.desktop.dunst_history()?;
    let digests: Vec<_> = history.iter().filter(|n| n.0 == "Weft").collect();
    assert_eq!(
        digests
            .iter()
            .map(|n| (n.1.as_str(), n.2.as_str()))
            .collect::<Vec<_>>(),
        [(
            "3 held while you focused",
            "2 from Slack, 1 from Thunderbird"
        )],
        "one digest naming the apps: {history:?}"
    );
    // Weft closed the three on the server: in dunst's history, not replayed.
    let closed = history.iter().filter(|n| n.0 != "Weft").count();
    assert_eq!(closed, 3, "{history:?}");
    Ok(())
}

#[test]
fn with_dunst_and_replay_desktop_dunst_replays_them() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let f = DunstFocus::start("desktop_replay = \"desktop\"\n")?;
    f.send_three()?;
    f.coordinate()?;
    wait_for("dunst to replay the three", SOON, || {
        (f.on_screen().ok()? >= 3).then_some(())
    })?;
    Ok(())
}

#[test]
fn with_dunst_a_break_through_lets_no_held_notification_out() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let f = DunstFocus::start("[apps]\nalways = [\"PagerDuty\"]\n")?;
    f.send_three()?;
    AppNotification::new("PagerDuty", "prod is down")
        .persistent()
        .send(&f.desktop)?;
    inbox_once(&f.desktop, "the break-through", |i| {
        i["title"] == "prod is down" && i["state"] == "break_through"
    })?;
    // Weft lifts the pause to show its copy; dunst then shows at once what it queued, and
    // hides it again when paused. Count while lifted.
    let displayed = wait_for("dunst lifted, showing the break-through", SOON, || {
        let shown = f.desktop.dunst_count("displayed").ok()?;
        (f.desktop.dunst_paused().ok() == Some(false) && shown >= 1).then_some(shown)
    })?;
    assert!(
        displayed <= 2,
        "{displayed} on screen: more than PagerDuty's and Weft's copy"
    );
    assert_eq!(held(&f.desktop)?, 3);
    Ok(())
}

#[test]
fn with_dunst_and_replay_digest_a_flood_is_closed_in_full() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let f = DunstFocus::start("desktop_replay = \"digest\"\n")?;
    let bus = f.desktop.bus()?;
    let count: u64 = 1000;
    for n in 0..count {
        AppNotification::new(
            if n % 2 == 0 { "Slack" } else { "Mail" },
            &format!("message {n}"),
        )
        .persistent()
        .send_over(&bus)?;
    }
    wait_for("the flood filed", FLOOD, || {
        (held(&f.desktop).ok()? == count).then_some(())
    })?;
    assert_eq!(f.desktop.dunst_count("waiting")?, 1000, "dunst holds them");
    f.desktop.weft_ok(&["coordinate"])?;
    wait_for("dunst resumed", FLOOD, || {
        (f.desktop.dunst_paused().ok() == Some(false)).then_some(())
    })?;
    // Closed before the pause was lifted: none is replayed.
    assert_eq!(f.desktop.dunst_count("waiting")?, 0, "nothing queued");
    assert!(f.desktop.dunst_count("displayed")? <= 1, "the digest alone");
    Ok(())
}

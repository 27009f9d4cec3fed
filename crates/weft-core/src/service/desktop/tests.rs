//! Tests of other apps' notifications through the dispatcher: a real store file, a manual
//! clock, and the policy as the config sets it.

use super::*;
use crate::clock::ManualClock;
use crate::config::{Apps, Capture};
use crate::store::{PopupKey, Store};
use crate::summary::Period;
use chrono::TimeZone;
use std::sync::Arc;
use weft_proto::{InboxState, NotificationSource, Source, State, Target};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// A Weft on a fresh file (in coordination), its clock, and the folder that holds the file.
fn weft() -> Result<(Weft, Arc<ManualClock>, tempfile::TempDir), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let start = Utc
        .with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
        .single()
        .ok_or("no time")?;
    let clock = Arc::new(ManualClock::new(start));
    let weft = Weft::start(Store::open(&dir.path().join("weft.db"))?, clock.clone())?;
    // As in focus once the quiet worker silenced the desktop: break-throughs are copied.
    weft.set_desktop_silenced(true);
    Ok((weft, clock, dir))
}

/// A normal notification from `app`, seen now, with no id from the server.
fn from(app: &str, title: &str, clock: &ManualClock) -> Observed {
    Observed {
        app: app.to_owned(),
        title: title.to_owned(),
        body: String::new(),
        urgency: Urgency::Normal,
        transient: false,
        replaces_id: 0,
        server_id: None,
        at: crate::clock::Clock::now(clock),
    }
}

fn focus(weft: &Weft) -> Result<()> {
    weft.switch(Target::Focus, Source::Cli, None).map(drop)
}

fn disposition(observation: Observation) -> Option<Disposition> {
    match observation {
        Observation::Filed { disposition, .. } | Observation::Counted(disposition) => {
            Some(disposition)
        }
        Observation::NotFiled => None,
    }
}

/// The owed popups' summaries, digests included.
fn owed(weft: &Weft) -> Result<Vec<String>> {
    Ok(weft.owed_popups()?.into_iter().map(|p| p.summary).collect())
}

#[test]
fn coordination_records_them_as_delivered_and_owes_no_popup() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    let seen = weft.observe(&from("Slack", "lunch?", &clock))?;
    assert_eq!(disposition(seen), Some(Disposition::Delivered));
    assert_eq!(owed(&weft)?, Vec::<String>::new(), "the desktop showed it");
    let inbox = weft.inbox()?;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].app.as_deref(), Some("Slack"));
    assert_eq!(inbox[0].source, NotificationSource::Desktop);
    assert_eq!(inbox[0].state, InboxState::Delivered);
    assert_eq!(inbox[0].from, None);
    Ok(())
}

#[test]
fn focus_holds_them_with_their_app_and_critical_ones_break_through() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    focus(&weft)?;
    let held = weft.observe(&from("Thunderbird", "Invoice", &clock))?;
    assert_eq!(disposition(held), Some(Disposition::Held));
    assert_eq!(weft.status().held, 1, "the tray's count includes them");
    let critical = Observed {
        urgency: Urgency::Critical,
        ..from("Monitoring", "disk full", &clock)
    };
    assert_eq!(
        disposition(weft.observe(&critical)?),
        Some(Disposition::BreakThrough)
    );
    assert_eq!(weft.status().held, 1);
    assert_eq!(owed(&weft)?, ["Monitoring: disk full"]);
    assert!(weft.owed_popups()?[0].breaks_focus);
    let inbox = weft.inbox()?;
    assert_eq!(
        inbox
            .iter()
            .map(|i| (i.app.as_deref(), i.state))
            .collect::<Vec<_>>(),
        [
            (Some("Thunderbird"), InboxState::Held),
            (Some("Monitoring"), InboxState::BreakThrough)
        ]
    );
    Ok(())
}

#[test]
fn always_breaks_through_and_ignore_is_not_filed_matched_case_insensitively() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    weft.set_desktop_policy(DesktopPolicy {
        capture: Capture::Full,
        apps: Apps {
            always: vec!["PagerDuty".into()],
            ignore: vec!["spotify".into()],
        },
        copies: true,
    });
    focus(&weft)?;
    let low = Observed {
        urgency: Urgency::Low,
        ..from("pagerduty", "incident #4", &clock)
    };
    assert_eq!(
        disposition(weft.observe(&low)?),
        Some(Disposition::BreakThrough)
    );
    assert_eq!(owed(&weft)?, ["pagerduty: incident #4"], "owed as a popup");
    for app in ["Spotify", "SPOTIFY"] {
        assert_eq!(
            weft.observe(&from(app, "Now playing", &clock))?,
            Observation::NotFiled
        );
    }
    let critical_ignored = Observed {
        urgency: Urgency::Critical,
        ..from("Spotify", "x", &clock)
    };
    assert_eq!(weft.observe(&critical_ignored)?, Observation::NotFiled);
    assert_eq!(weft.inbox()?.len(), 1, "ignored ones are not filed");
    assert_eq!(weft.status().held, 0);
    // In coordination an `always` app is delivered like any other: the desktop shows it.
    weft.switch(Target::Coordination, Source::Cli, None)?;
    assert_eq!(
        disposition(weft.observe(&from("PagerDuty", "resolved", &clock))?),
        Some(Disposition::Delivered)
    );
    assert_eq!(owed(&weft)?.len(), 1);
    Ok(())
}

#[test]
fn a_replacement_from_the_same_app_updates_its_item() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    focus(&weft)?;
    let first = Observed {
        server_id: Some(7),
        ..from("Firefox", "Downloading: 10%", &clock)
    };
    let Observation::Filed { id, replaced, .. } = weft.observe(&first)? else {
        return Err("not filed".into());
    };
    assert!(!replaced);
    let update = Observed {
        replaces_id: 7,
        server_id: Some(7),
        ..from("Firefox", "Downloading: 50%", &clock)
    };
    assert_eq!(
        weft.observe(&update)?,
        Observation::Filed {
            id,
            disposition: Disposition::Held,
            replaced: true
        }
    );
    assert_eq!(weft.status().held, 1, "still one held item");
    let titles: Vec<String> = weft.inbox()?.into_iter().map(|i| i.title).collect();
    assert_eq!(titles, ["Downloading: 50%"]);

    // Another app's id 7 is not Firefox's.
    let other = Observed {
        replaces_id: 7,
        server_id: Some(8),
        ..from("Slack", "hi", &clock)
    };
    let Observation::Filed { replaced, .. } = weft.observe(&other)? else {
        return Err("not filed".into());
    };
    assert!(!replaced);
    assert_eq!(weft.status().held, 2);

    // A critical update takes the item out of the held ones.
    let done = Observed {
        urgency: Urgency::Critical,
        replaces_id: 7,
        server_id: Some(7),
        ..from("Firefox", "Download failed", &clock)
    };
    assert_eq!(
        weft.observe(&done)?,
        Observation::Filed {
            id,
            disposition: Disposition::BreakThrough,
            replaced: true
        }
    );
    assert_eq!(weft.status().held, 1);
    assert_eq!(owed(&weft)?, ["Firefox: Download failed"]);

    // Released with a digest, then updated in the next focus block: held again, once.
    weft.switch(Target::Coordination, Source::Cli, None)?;
    focus(&weft)?;
    let again = Observed {
        replaces_id: 7,
        server_id: Some(7),
        ..from("Firefox", "Retrying", &clock)
    };
    assert_eq!(
        weft.observe(&again)?,
        Observation::Filed {
            id,
            disposition: Disposition::Held,
            replaced: true
        }
    );
    assert_eq!(weft.status().held, 1);
    assert_eq!(weft.inbox()?.len(), 2);
    Ok(())
}

#[test]
fn the_ids_seen_during_focus_are_there_to_close() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    weft.observe(&Observed {
        server_id: Some(1),
        ..from("Slack", "before focus", &clock)
    })?;
    clock.advance(chrono::Duration::minutes(1));
    focus(&weft)?;
    let began = weft.status().since;
    for (id, transient) in [(2, false), (3, true)] {
        weft.observe(&Observed {
            server_id: Some(id),
            transient,
            ..from("Slack", "in focus", &clock)
        })?;
    }
    weft.observe(&from("Mail", "no reply seen", &clock))?;
    weft.switch(Target::Coordination, Source::Cli, None)?;
    assert_eq!(weft.desktop_ids_since(began)?, [2, 3]);
    Ok(())
}

#[test]
fn transient_ones_are_counted_not_kept() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    focus(&weft)?;
    let volume = Observed {
        transient: true,
        ..from("Volume", "50%", &clock)
    };
    assert_eq!(
        weft.observe(&volume)?,
        Observation::Counted(Disposition::Held)
    );
    assert!(weft.inbox()?.is_empty());
    assert_eq!(weft.status().held, 0, "nothing waits for a digest");
    clock.advance(chrono::Duration::minutes(30));
    weft.switch(Target::Coordination, Source::Cli, None)?;
    assert_eq!(owed(&weft)?, Vec::<String>::new(), "no digest for it");
    let day = weft.summary(Period::Day(weft.today()))?;
    let counts: Vec<(String, u32)> = day
        .iter()
        .flat_map(|d| d.held_by_app.iter().map(|a| (a.app.clone(), a.held)))
        .collect();
    assert_eq!(counts, [("Volume".to_owned(), 1)]);
    Ok(())
}

#[test]
fn count_mode_keeps_only_the_app_and_the_time_and_off_files_nothing() -> TestResult {
    let (weft, clock, dir) = weft()?;
    weft.set_desktop_policy(DesktopPolicy {
        capture: Capture::Count,
        apps: Apps::default(),
        copies: true,
    });
    focus(&weft)?;
    let secret = Observed {
        body: "the launch code is 1234".into(),
        ..from("Signal", "Bob", &clock)
    };
    assert_eq!(disposition(weft.observe(&secret)?), Some(Disposition::Held));
    let item = weft.inbox()?.into_iter().next().ok_or("no item")?;
    assert_eq!(
        (item.app.as_deref(), item.title.as_str(), item.body.as_str()),
        (Some("Signal"), "", "")
    );
    assert_eq!(item.received, secret.at);
    let file = rusqlite::Connection::open(dir.path().join("weft.db"))?;
    let stored: i64 = file.query_row(
        "SELECT count(*) FROM notifications WHERE title || body LIKE '%launch%' OR title = 'Bob'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(stored, 0, "no title or body anywhere in the file");
    weft.set_desktop_policy(DesktopPolicy {
        capture: Capture::Off,
        apps: Apps::default(),
        copies: true,
    });
    assert_eq!(weft.observe(&secret)?, Observation::NotFiled);
    assert_eq!(weft.inbox()?.len(), 1);
    Ok(())
}

#[test]
fn the_digest_names_the_apps_and_people_it_releases() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    focus(&weft)?;
    for (app, n) in [("Slack", 6), ("Thunderbird", 4), ("Calendar", 1)] {
        for i in 0..n {
            weft.observe(&from(app, &format!("message {i}"), &clock))?;
        }
    }
    for _ in 0..2 {
        weft.notify(&crate::service::Incoming {
            title: "ping",
            body: None,
            urgency: Urgency::Normal,
            from: Some("Ana"),
            opens: None,
            ping: None,
        })?;
    }
    weft.notify(&crate::service::Incoming {
        title: "build done",
        body: None,
        urgency: Urgency::Normal,
        from: None,
        opens: None,
        ping: None,
    })?;
    assert_eq!(weft.status().held, 14);
    weft.switch(Target::Coordination, Source::Cli, None)?;
    let digests: Vec<(String, String)> = weft
        .owed_popups()?
        .into_iter()
        .filter(|p| matches!(p.key, PopupKey::Digest(_)))
        .map(|p| (p.summary, p.body))
        .collect();
    assert_eq!(
        digests,
        [(
            "14 held while you focused".to_owned(),
            "6 from Slack, 4 from Thunderbird, 2 from Ana, 2 others".to_owned()
        )]
    );
    Ok(())
}

#[test]
fn texts_are_cleaned_and_cut_like_weft_notify() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    focus(&weft)?;
    let messy = Observed {
        body: format!("<b>hi</b> &amp; {}", "x".repeat(1 << 20)),
        ..from("\u{202E}evil\u{202C}\n", "  a\ttitle ", &clock)
    };
    weft.observe(&messy)?;
    let item = weft.inbox()?.into_iter().next().ok_or("no item")?;
    assert_eq!(item.app.as_deref(), Some("evil"));
    assert_eq!(item.title, "a title");
    assert!(item.body.starts_with("hi & xxx"), "{}", &item.body[..20]);
    assert_eq!(item.body.chars().count(), weft_proto::MAX_BODY_CHARS);
    assert_eq!(weft.status().state, State::Focus);
    Ok(())
}

#[test]
fn a_break_through_is_shown_again_only_when_the_desktop_is_silenced() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    focus(&weft)?;
    let mut page = from("PagerDuty", "db down", &clock);
    page.urgency = Urgency::Critical;
    // Weft does not silence the desktop: it showed the page itself, and a copy would show it
    // twice.
    weft.set_desktop_policy(DesktopPolicy {
        copies: false,
        ..DesktopPolicy::default()
    });
    let seen = weft.observe(&page)?;
    assert_eq!(disposition(seen), Some(Disposition::BreakThrough));
    assert!(owed(&weft)?.is_empty(), "{:?}", owed(&weft)?);
    // Weft silences it: the page breaks through as Weft's own popup.
    weft.set_desktop_policy(DesktopPolicy {
        copies: true,
        ..DesktopPolicy::default()
    });
    page.title = "db still down".into();
    weft.observe(&page)?;
    assert_eq!(owed(&weft)?, ["PagerDuty: db still down"]);
    Ok(())
}

#[test]
fn a_flood_keeps_a_slow_watcher_and_every_item() -> TestResult {
    let (weft, clock, _dir) = weft()?;
    focus(&weft)?;
    // A window that reads nothing while 500 notifications arrive.
    let window = weft.watch();
    for n in 0..500 {
        weft.observe(&from("Slack", &format!("message {n}"), &clock))?;
    }
    assert_eq!(weft.status().held, 500, "every item is committed");
    // It catches up with what it could queue, and is still connected: it gets the switch
    // that ends focus.
    assert!(window.try_iter().count() > 0);
    weft.switch(Target::Toggle, Source::Cli, None)?;
    let next = window.try_iter().last();
    assert!(
        matches!(&next, Some(weft_proto::Event::Status(s)) if s.state == State::Coordination),
        "{next:?}"
    );
    Ok(())
}

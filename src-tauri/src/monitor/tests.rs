//! The monitor against a real private `dbus-daemon`, with a small notification server in the
//! test that answers `Notify` with ids, and senders both in this process (zbus) and outside it
//! (`gdbus call`, from libglib2.0-bin).

mod fixture;

use super::{Bus, Config, Error, Event, Monitor, Observed, Origin, OWN_HINT};
use fixture::*;
use std::collections::HashMap;
use std::sync::mpsc;
use weft_core::testing::wait_for;
use weft_proto::Urgency;
use zbus::Variant;

#[test]
fn a_call_is_seen_with_every_field_and_paired_with_its_id() -> TestResult {
    let bus = TestBus::start()?;
    let _server = FakeServer::start(&bus, None)?;
    // Pid 0 is no process: the calls from this test count as another app's.
    let (_monitor, events) = bus.monitor(0)?;
    let client = bus.connect()?;
    let before = chrono::Utc::now();
    let first = notify(&client, Note::new("Mail", "first"))?;
    let second = notify(
        &client,
        Note {
            app_name: "Slack",
            replaces_id: first,
            summary: "Ana\nwrote",
            body: "<b>lunch</b> &amp; <a href=\"https://x\">tea</a>?",
            hints: vec![
                ("urgency", Variant::U8(2)),
                ("transient", Variant::Bool(true)),
            ],
        },
    )?;
    assert_ne!(first, second);

    let (call1, seen1) = next_observed(&events)?;
    assert_eq!(
        next(&events)?,
        Event::Assigned {
            call: call1,
            id: first
        }
    );
    assert_eq!(
        (
            seen1.app_name.as_str(),
            seen1.urgency,
            seen1.transient,
            seen1.replaces_id
        ),
        ("Mail", Urgency::Normal, false, 0)
    );
    let (call2, seen2) = next_observed(&events)?;
    assert_ne!(call1, call2);
    assert_eq!(
        next(&events)?,
        Event::Assigned {
            call: call2,
            id: second
        }
    );
    let unique = client
        .unique_name()
        .map(|n| n.to_string())
        .ok_or("no unique name")?;
    assert_eq!(
        seen2,
        Observed {
            sender: unique,
            pid: Some(std::process::id()),
            origin: Origin::App,
            app_name: "Slack".into(),
            summary: "Ana\nwrote".into(),
            body: "<b>lunch</b> &amp; <a href=\"https://x\">tea</a>?".into(),
            urgency: Urgency::Critical,
            transient: true,
            replaces_id: first,
            at: seen2.at,
        }
    );
    assert!(before <= seen2.at && seen2.at <= chrono::Utc::now());
    Ok(())
}

#[test]
fn an_error_from_the_server_is_rejected_and_a_huge_body_is_bounded() -> TestResult {
    let bus = TestBus::start()?;
    let _server = FakeServer::start(&bus, None)?;
    let (_monitor, events) = bus.monitor(0)?;
    let client = bus.connect()?;
    let refused = notify(&client, Note::new("Mail", REFUSE_ME));
    assert!(
        matches!(refused, Err(zbus::Error::MethodError(ref name, _, _)) if name.as_str() == "org.freedesktop.Notifications.Error.Refused"),
        "{refused:?}"
    );
    let (call, _) = next_observed(&events)?;
    assert_eq!(
        next(&events)?,
        Event::Rejected {
            call,
            error: "org.freedesktop.Notifications.Error.Refused".into()
        }
    );
    let huge = format!("<i>{}</i>", "x".repeat(1 << 20));
    let id = notify(
        &client,
        Note {
            body: &huge,
            ..Note::new("Evil\u{202E}App\u{7}", "big")
        },
    )?;
    let (call, seen) = next_observed(&events)?;
    assert_eq!(next(&events)?, Event::Assigned { call, id });
    // The texts stay as sent, each bounded: the core cleans them when it files them.
    assert_eq!(seen.body.len(), super::parse::MAX_RAW_BYTES);
    assert!(huge.starts_with(&seen.body));
    assert_eq!(seen.app_name, "Evil\u{202E}App\u{7}");
    Ok(())
}

#[test]
fn weft_own_calls_are_known_by_pid_and_by_the_hint() -> TestResult {
    let bus = TestBus::start()?;
    let _server = FakeServer::start(&bus, None)?;
    let own = std::process::id();
    let (_monitor, events) = bus.monitor(own)?;
    // From this process (as notify-rust in the tray sends).
    let client = bus.connect()?;
    notify(&client, Note::new("Weft", "a notice"))?;
    let (_, seen) = next_observed(&events)?;
    assert_eq!((seen.origin, seen.pid), (Origin::Weft, Some(own)));
    assert!(matches!(next(&events)?, Event::Assigned { .. }));

    // From another process: another app, unless it carries the hint with this process's id.
    let hinted = format!("{{'{OWN_HINT}': <'{own}'>}}");
    for (hints, origin) in [
        ("{'urgency': <byte 0>}", Origin::App),
        (hinted.as_str(), Origin::Weft),
    ] {
        let sender = gdbus_notify(&bus, "Other", "hello", hints)?;
        let (_, seen) = next_observed(&events)?;
        assert_eq!(seen.origin, origin, "hints {hints}");
        assert_ne!(seen.pid, Some(own));
        let output = sender.wait()?;
        assert!(output.status.success(), "gdbus: {output:?}");
        assert!(matches!(next(&events)?, Event::Assigned { .. }));
    }
    Ok(())
}

#[test]
fn an_empty_app_name_is_the_senders_process_name() -> TestResult {
    let bus = TestBus::start()?;
    let (gate, gated) = mpsc::sync_channel::<()>(4);
    let _server = FakeServer::start(&bus, Some(gated))?;
    let (_monitor, events) = bus.monitor(0)?;
    // gdbus exits once answered: the server answers only after the monitor told the call.
    let sender = gdbus_notify(&bus, "", "who am I", "{'urgency': <byte 2>}")?;
    let (call, seen) = next_observed(&events)?;
    open(&gate)?;
    assert_eq!(
        (seen.app_name.as_str(), seen.urgency),
        ("gdbus", Urgency::Critical)
    );
    let output = sender.wait()?;
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert_eq!(next(&events)?, Event::Assigned { call, id: 1 });
    assert_eq!(printed, "(uint32 1,)");

    // This process too (the cached look-up gives the same name for the next call).
    let comm = weft_core::hold::clean_app(&std::fs::read_to_string("/proc/self/comm")?);
    let client = bus.connect()?;
    for _ in 0..2 {
        open(&gate)?;
        notify(&client, Note::new("", "me"))?;
        let (_, seen) = next_observed(&events)?;
        assert_eq!(seen.app_name, comm);
        assert!(matches!(next(&events)?, Event::Assigned { .. }));
    }
    Ok(())
}

#[test]
fn a_bus_that_refuses_monitoring_is_a_typed_error() -> TestResult {
    let bus = TestBus::with_policy(
        r#"<deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>"#,
    )?;
    let refused = bus.monitor(0).map(|_| ());
    assert!(
        matches!(&refused, Err(Error::Refused(m)) if m.contains("AccessDenied") || m.contains("Rejected send message")),
        "{refused:?}"
    );
    let (tx, _rx) = mpsc::sync_channel(1);
    let missing = Monitor::start(
        Config {
            bus: Bus::Address("unix:path=/nonexistent/weft-bus".into()),
            ..Config::default()
        },
        tx,
    )
    .map(|_| ());
    assert!(matches!(missing, Err(Error::Unavailable(_))), "{missing:?}");
    Ok(())
}

#[test]
fn a_bus_that_goes_away_ends_the_loop_with_disconnected() -> TestResult {
    let mut bus = TestBus::start()?;
    let (monitor, _events) = bus.monitor(0)?;
    bus.daemon.0.kill()?;
    bus.daemon.0.wait()?;
    let ended = monitor.join();
    assert!(matches!(ended, Error::Disconnected(_)), "{ended:?}");
    Ok(())
}

#[test]
fn a_dropped_receiver_or_stop_ends_the_loop_as_stopped() -> TestResult {
    let bus = TestBus::start()?;
    let _server = FakeServer::start(&bus, None)?;
    let (monitor, events) = bus.monitor(0)?;
    drop(events);
    notify(&bus.connect()?, Note::new("Mail", "nobody listens"))?;
    assert!(matches!(monitor.join(), Error::Stopped));

    // Stopped while nothing comes, and while the channel is full.
    let (monitor, _events) = bus.monitor(0)?;
    monitor.stop();
    let (tx, full) = mpsc::sync_channel(1);
    let monitor = Monitor::start(bus.config(0), tx)?;
    let client = bus.connect()?;
    notify(&client, Note::new("Mail", "one"))?;
    notify(&client, Note::new("Mail", "two"))?;
    wait_for("the channel to fill", WAIT, || {
        matches!(full.try_recv(), Ok(Event::Observed { .. })).then_some(())
    })?;
    monitor.stop();
    Ok(())
}

#[test]
fn a_flood_is_told_in_full_while_the_receiver_lags() -> TestResult {
    const CALLS: u32 = 500;
    let bus = TestBus::start()?;
    let _server = FakeServer::start(&bus, None)?;
    // The channel holds 64 events: the monitor waits on it, and the bus queues for it.
    let (_monitor, events) = bus.monitor(0)?;
    let client = bus.connect()?;
    let mut ids = Vec::new();
    for n in 0..CALLS {
        ids.push(notify(&client, Note::new("Flood", &format!("n{n}")))?);
    }
    let mut observed = HashMap::new();
    let mut assigned = Vec::new();
    while assigned.len() < ids.len() {
        match next(&events)? {
            Event::Observed { call, notification } => {
                observed.insert(call, notification.summary);
            }
            Event::Assigned { call, id } => {
                let summary = observed.get(&call).ok_or("an id before its call")?;
                assigned.push((summary.clone(), id));
            }
            other => return Err(format!("unexpected {other:?}").into()),
        }
    }
    let expected: Vec<(String, u32)> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| (format!("n{n}"), *id))
        .collect();
    assert_eq!(assigned, expected);
    Ok(())
}

#[test]
fn a_server_that_restarts_is_followed() -> TestResult {
    let bus = TestBus::start()?;
    let (_monitor, events) = bus.monitor(0)?;
    let client = bus.connect()?;
    for round in 0..2 {
        let server = FakeServer::start(&bus, None)?;
        let id = notify(&client, Note::new("Mail", "again"))?;
        let (call, _) = next_observed(&events)?;
        assert_eq!(
            next(&events)?,
            Event::Assigned { call, id },
            "server {round}"
        );
        drop(server);
        wait_for("the server's name to be free", WAIT, || {
            let owner = zbus::block_on(client.call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "NameHasOwner",
                &(NOTIFICATIONS,),
            ))
            .and_then(|reply| reply.body().deserialize::<bool>());
            matches!(owner, Ok(false)).then_some(())
        })?;
    }
    Ok(())
}

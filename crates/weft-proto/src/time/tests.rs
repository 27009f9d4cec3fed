//! Every time-carrying wire type writes its times as exactly one text and reads it back; other
//! precisions and offsets are still read, and what is not RFC 3339 is refused by name.

use crate::sync::{Member, Ping, PingOutcome, StatusUpdate, SyncEvent};
use crate::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

type R = Result<(), Box<dyn std::error::Error>>;

/// 2026-11-24 09:00 UTC.
fn nine() -> Result<DateTime<Utc>, String> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
        .single()
        .ok_or_else(|| "no such time".to_owned())
}

/// `value` is written as exactly `expect`, and `expect` is read back as `value`.
fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T, expect: &str) -> R {
    assert_eq!(serde_json::to_string(value)?, expect);
    assert_eq!(&serde_json::from_str::<T>(expect)?, value);
    Ok(())
}

#[test]
fn control_types_write_milliseconds_and_read_them_back() -> R {
    let nine = nine()?;
    let half = nine + Duration::minutes(30) + Duration::milliseconds(250);
    let status = Status {
        state: State::Focus,
        since: nine,
        intent: None,
        until: Some(half),
        stash: None,
        held: 0,
        degraded: Vec::new(),
        hotkey: None,
        hotkey_changeable: false,
    };
    check(
        &status,
        r#"{"state":"focus","since":"2026-11-24T09:00:00.000Z","intent":null,"until":"2026-11-24T09:30:00.250Z","stash":null,"held":0,"hotkey":null}"#,
    )?;
    check(
        &Event::Status(status),
        r#"{"event":"status","data":{"state":"focus","since":"2026-11-24T09:00:00.000Z","intent":null,"until":"2026-11-24T09:30:00.250Z","stash":null,"held":0,"hotkey":null}}"#,
    )?;
    check(
        &SwitchEntry {
            at: nine,
            from: State::Coordination,
            to: State::Focus,
            source: Source::Cli,
            intent: None,
            stash: None,
            until: None,
        },
        r#"{"at":"2026-11-24T09:00:00.000Z","from":"coordination","to":"focus","source":"cli","intent":null,"stash":null,"until":null}"#,
    )?;
    check(
        &InboxItem {
            id: 1,
            received: half,
            title: "CI".into(),
            body: String::new(),
            urgency: Urgency::Low,
            from: None,
            state: InboxState::Held,
            app: Some("Slack".into()),
            source: NotificationSource::Desktop,
        },
        r#"{"id":1,"received":"2026-11-24T09:30:00.250Z","title":"CI","body":"","urgency":"low","from":null,"state":"held","app":"Slack","source":"desktop"}"#,
    )?;
    check(
        &Connection::Offline {
            message: "down".into(),
            retry_at: Some(nine),
        },
        r#"{"state":"offline","message":"down","retry_at":"2026-11-24T09:00:00.000Z"}"#,
    )?;
    check(
        &DaySummary {
            date: "2026-11-24".into(),
            focus_seconds: 1800,
            coordination_seconds: 0,
            untracked_seconds: 0,
            switches: 1,
            focus_blocks: vec![FocusBlock {
                start: nine,
                end: half,
                seconds: 1800,
                intent: None,
                stash: None,
                open: true,
            }],
            longest_focus_seconds: 1800,
            fragmented_blocks: 0,
            held: 0,
            digests: 0,
            break_throughs: 0,
            pings_sent: 0,
            pings_received: 0,
            timeline: vec![Segment {
                state: None,
                start: nine,
                end: half,
            }],
            held_by_app: Vec::new(),
        },
        concat!(
            r#"{"date":"2026-11-24","focus_seconds":1800,"coordination_seconds":0,"untracked_seconds":0,"switches":1,"#,
            r#""focus_blocks":[{"start":"2026-11-24T09:00:00.000Z","end":"2026-11-24T09:30:00.250Z","seconds":1800,"intent":null,"stash":null,"open":true}],"#,
            r#""longest_focus_seconds":1800,"fragmented_blocks":0,"held":0,"digests":0,"break_throughs":0,"pings_sent":0,"pings_received":0,"#,
            r#""timeline":[{"state":null,"start":"2026-11-24T09:00:00.000Z","end":"2026-11-24T09:30:00.250Z"}]}"#
        ),
    )?;
    Ok(())
}

#[test]
fn sync_types_write_milliseconds_and_read_them_back() -> R {
    let nine = nine()?;
    let later = nine + Duration::hours(1);
    check(
        &StatusUpdate {
            seq: 3,
            state: State::Focus,
            since: nine,
            until: Some(later),
            intent: None,
        },
        r#"{"seq":3,"state":"focus","since":"2026-11-24T09:00:00.000Z","until":"2026-11-24T10:00:00.000Z","intent":null}"#,
    )?;
    check(
        &SyncEvent::Member(Member {
            id: 2,
            name: "Ana".into(),
            state: Some(State::Focus),
            since: Some(nine),
            until: None,
            intent: None,
            seq: 3,
            online: true,
        }),
        r#"{"type":"member","id":2,"name":"Ana","state":"focus","since":"2026-11-24T09:00:00.000Z","until":null,"intent":null,"seq":3,"online":true}"#,
    )?;
    check(
        &PingOutcome::Held {
            until: Some(later),
            over_budget: false,
        },
        r#"{"outcome":"held","until":"2026-11-24T10:00:00.000Z","over_budget":false}"#,
    )?;
    check(
        &SyncEvent::Ping(Ping {
            id: 7,
            from: "Bo".into(),
            text: "hi".into(),
            urgent: false,
            sent_at: nine,
        }),
        r#"{"type":"ping","id":7,"from":"Bo","text":"hi","urgent":false,"sent_at":"2026-11-24T09:00:00.000Z"}"#,
    )?;
    Ok(())
}

#[test]
fn other_precisions_and_offsets_are_read() -> R {
    let nine = nine()?;
    for text in [
        "2026-11-24T09:00:00Z",
        "2026-11-24T09:00:00.000000Z",
        "2026-11-24T09:00:00.000000000+00:00",
        "2026-11-24T10:00:00+01:00",
        "2026-11-24T09:00:00z",
    ] {
        let json = format!(r#"{{"seq":1,"state":"focus","since":"{text}"}}"#);
        let update: StatusUpdate = serde_json::from_str(&json)?;
        assert_eq!((update.since, update.until), (nine, None), "{text}");
    }
    // What the server sent before (whole seconds), and the finest a client may send.
    let ping: Ping = serde_json::from_str(
        r#"{"id":1,"from":"Bo","text":"hi","urgent":false,"sent_at":"2026-11-24T09:00:00.123456789Z"}"#,
    )?;
    assert_eq!(ping.sent_at, nine + Duration::nanoseconds(123_456_789));
    // A finer time is written truncated to the millisecond.
    assert_eq!(
        serde_json::to_value(&ping)?["sent_at"],
        "2026-11-24T09:00:00.123Z"
    );
    assert_eq!(time::format(ping.sent_at), "2026-11-24T09:00:00.123Z");
    assert_eq!(
        time::parse("2026-11-24T10:00:00+01:00").map(time::format),
        Ok("2026-11-24T09:00:00.000Z".to_owned())
    );
    assert_eq!(
        time::parse("2026-11-24T09:00:00.123Z")?,
        nine + Duration::milliseconds(123)
    );
    Ok(())
}

#[test]
fn what_is_not_rfc_3339_is_refused_by_name() -> R {
    for (text, reason) in [
        ("tomorrow", "premature end of input"),
        ("2026-11-24T09:00:00Z, or so", "trailing input"),
        ("2026-11-24", "premature end of input"),
        ("2026-11-24 09:00:00", "premature end of input"),
        ("2026-11-24T09:00:00", "premature end of input"),
        ("2026-11-24T25:00:00Z", "input is out of range"),
    ] {
        let json = format!(
            r#"{{"state":"focus","since":"{text}","intent":null,"until":null,"stash":null,"held":0}}"#
        );
        let refused = serde_json::from_str::<Status>(&json)
            .err()
            .map(|e| e.to_string());
        let message = refused.ok_or(format!("{text:?} was accepted"))?;
        assert!(
            message.starts_with(&format!(
                "not an RFC 3339 time such as 2026-11-24T09:00:00Z ({reason})"
            )),
            "{text:?}: {message}"
        );
    }
    // Not a string at all: serde says what it expected.
    let message = serde_json::from_str::<PingOutcome>(
        r#"{"outcome":"held","until":1764000000,"over_budget":false}"#,
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        message.contains("expected an RFC 3339 time such as 2026-11-24T09:00:00Z"),
        "{message}"
    );
    // An optional time may be null or missing, never empty.
    let held: PingOutcome =
        serde_json::from_str(r#"{"outcome":"held","until":null,"over_budget":false}"#)?;
    assert_eq!(
        held,
        PingOutcome::Held {
            until: None,
            over_budget: false
        }
    );
    let missing: StatusUpdate =
        serde_json::from_str(r#"{"seq":1,"state":"focus","since":"2026-11-24T09:00:00Z"}"#)?;
    assert_eq!(missing.until, None);
    assert!(
        serde_json::from_str::<StatusUpdate>(r#"{"seq":1,"state":"focus","since":""}"#)
            .is_err_and(|e| e.to_string().starts_with("not an RFC 3339 time"))
    );
    Ok(())
}

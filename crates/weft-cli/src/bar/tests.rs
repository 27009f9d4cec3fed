//! Every status-bar format, for fixed statuses at a fixed time in a fixed zone.

use super::*;
use chrono::TimeZone;
use chrono_tz::Europe::Berlin;
use weft_proto::sync::Member;
use weft_proto::Membership;

/// 2026-11-24 09:00 UTC (10:00 in Berlin), plus `minutes`.
fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::minutes(minutes)
}

fn focus() -> Status {
    Status {
        state: State::Focus,
        since: at(0),
        intent: Some("refactor <parser> & co".into()),
        until: Some(at(50)),
        stash: None,
        held: 3,
        degraded: Vec::new(),
        hotkey: None,
        hotkey_changeable: false,
    }
}

fn coordination() -> Status {
    Status {
        state: State::Coordination,
        since: at(-95),
        intent: None,
        until: None,
        held: 0,
        ..focus()
    }
}

fn member(id: i64, name: &str, state: State, online: bool) -> Member {
    Member {
        id,
        name: name.into(),
        state: Some(state),
        since: Some(at(-10)),
        until: None,
        intent: None,
        seq: 1,
        online,
    }
}

fn team(connection: Connection) -> TeamInfo {
    TeamInfo {
        membership: Some(Membership {
            server: "https://weft.example.org".into(),
            team: "core".into(),
            name: "me".into(),
            member_id: 1,
            share_intent: false,
        }),
        connection,
        members: vec![
            member(1, "me", State::Focus, true),
            member(2, "ana", State::Focus, true),
            member(3, "bo", State::Coordination, true),
            member(4, "cy", State::Focus, false),
            member(5, "dee", State::Focus, true),
        ],
    }
}

/// Every format of `seen` at `minutes` past 09:00 UTC, in Berlin.
fn all(seen: Seen<'_>, minutes: i64) -> Vec<String> {
    let now = Now {
        at: at(minutes),
        zone: &Berlin,
    };
    let mut lines: Vec<String> = [
        BarFormat::Waybar,
        BarFormat::Polybar,
        BarFormat::I3blocks,
        BarFormat::Json,
        BarFormat::Text,
    ]
    .into_iter()
    .map(|format| line(format, seen, &now))
    .collect();
    lines.push(i3blocks_block(seen, &now));
    lines
}

#[test]
fn focus_with_a_planned_end_held_items_and_teammates() {
    let status = focus();
    let team = team(Connection::Online);
    let seen = Seen::Running {
        status: &status,
        team: Some(&team),
    };
    assert_eq!(
        all(seen, 20),
        [
            r#"{"text":"Focus 20m → 10:50","alt":"focus","class":["focus","held"],"tooltip":"Focus since 10:00\nIntent: refactor &lt;parser&gt; &amp; co\nPlanned end: 10:50\nHeld: 3\nTeammates focusing: ana, dee","percentage":40}"#,
            "Focus 20m → 10:50 · 3 held",
            "Focus 20m → 10:50 · 3 held",
            r#"{"running":true,"state":"focus","since":"2026-11-24T09:00:00.000Z","elapsed_minutes":20,"intent":"refactor <parser> & co","until":"2026-11-24T09:50:00.000Z","percentage":40,"held":3,"teammates_focusing":["ana","dee"],"team":"online"}"#,
            "Focus 20m → 10:50 · 3 held · refactor <parser> & co · focusing: ana, dee",
            "Focus 20m → 10:50 · 3 held\nFocus\n#D08770",
        ]
    );
}

#[test]
fn coordination_without_a_team_past_an_hour() {
    let status = coordination();
    let seen = Seen::Running {
        status: &status,
        team: None,
    };
    assert_eq!(
        all(seen, 0),
        [
            r#"{"text":"Coordination 1h35m","alt":"coordination","class":["coordination"],"tooltip":"Coordination since 08:25\nHeld: 0"}"#,
            "Coordination 1h35m",
            "Coordination 1h35m",
            r#"{"running":true,"state":"coordination","since":"2026-11-24T07:25:00.000Z","elapsed_minutes":95,"intent":null,"until":null,"percentage":null,"held":0,"teammates_focusing":[],"team":null}"#,
            "Coordination 1h35m",
            "Coordination 1h35m\nCoordination\n#A3BE8C",
        ]
    );
}

#[test]
fn the_app_stopped() {
    assert_eq!(
        all(Seen::Stopped, 0),
        [
            r#"{"text":"Weft not running","alt":"stopped","class":["stopped"],"tooltip":"Weft is not running"}"#,
            "Weft not running",
            "Weft not running",
            r#"{"running":false,"state":null,"since":null,"elapsed_minutes":null,"intent":null,"until":null,"percentage":null,"held":0,"teammates_focusing":[],"team":null}"#,
            "Weft not running",
            "Weft not running\nWeft off\n#888888",
        ]
    );
}

#[test]
fn a_team_offline_an_overrun_block_and_hostile_text() {
    let mut status = focus();
    status.intent = Some("line one\nline two %{F#f00}".into());
    let team = team(Connection::Offline {
        message: "cannot reach\nthe server".into(),
        retry_at: None,
    });
    let seen = Seen::Running {
        status: &status,
        team: Some(&team),
    };
    let lines = all(seen, 75);
    assert_eq!(
        lines[0],
        r#"{"text":"Focus 1h15m → 10:50","alt":"focus","class":["focus","held","team-offline"],"tooltip":"Focus since 10:00\nIntent: line one line two %{F#f00}\nPlanned end: 10:50\nHeld: 3\nTeammates focusing: ana, dee\nTeam offline: cannot reach the server","percentage":100}"#
    );
    assert_eq!(
        lines[4],
        "Focus 1h15m → 10:50 · 3 held · line one line two %{F#f00} · focusing: ana, dee · team offline"
    );
    // Every format is one line (i3blocks' block is three).
    for line in &lines[..5] {
        assert!(!line.contains('\n'), "{line:?}");
    }
}

#[test]
fn elapsed_time_reads_in_minutes_then_hours() {
    assert_eq!(short_elapsed(-5), "0m");
    assert_eq!(short_elapsed(59), "0m");
    assert_eq!(short_elapsed(25 * 60 + 59), "25m");
    assert_eq!(short_elapsed(60 * 60), "1h00m");
    assert_eq!(short_elapsed(10 * 3600 + 5 * 60), "10h05m");
}

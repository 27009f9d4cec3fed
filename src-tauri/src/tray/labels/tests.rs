//! The tray's texts and menu, checked as a person reads them: the whole menu top to bottom for
//! a status, and each text at its edges (a minute's turn, a notice's length, a time zone).

use super::*;
use chrono::Duration as Span;
use weft_proto::sync::Member;
use weft_proto::Membership;

/// A UTC time from RFC 3339 text.
fn at(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    Ok(DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc))
}

fn status(state: State, since: DateTime<Utc>, held: u32) -> Status {
    Status {
        state,
        since,
        intent: None,
        until: None,
        stash: None,
        held,
        degraded: Vec::new(),
        hotkey: None,
        hotkey_changeable: false,
    }
}

/// The menu as a person sees it: one line per entry, submenu rows indented, disabled items
/// marked, then each clickable item's id.
fn render(status: &Status, extras: &Extras, now: DateTime<Utc>) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in layout(extras) {
        match entry {
            Entry::Header => lines.push(format!("{} (off)", header(status, now))),
            Entry::Held => lines.push(format!("{} [{HELD}]", held(status.held))),
            Entry::Switch => lines.push(format!("{} [{SWITCH}]", switch(status.state.other()))),
            Entry::Item { id, label, enabled } if enabled => lines.push(format!("{label} [{id}]")),
            Entry::Item { label, .. } => lines.push(format!("{label} (off)")),
            Entry::TeamMenu(rows) => {
                lines.push(format!("{TEAM_MENU} >"));
                lines.extend(rows.iter().map(|row| format!("  {row} (off)")));
                lines.push("  ---".into());
                lines.push(format!("  {OPEN_TEAM} [{TEAM}]"));
            }
            Entry::Separator => lines.push("---".into()),
        }
    }
    lines
}

#[test]
fn the_menu_in_focus_outside_a_team() -> Result<(), chrono::ParseError> {
    let now = at("2026-11-30T10:00:00Z")?;
    let focus = status(State::Focus, now - Span::minutes(12), 0);
    let mut extras = Extras::default();
    extras.follow(&focus);
    assert_eq!(
        render(&focus, &extras, now),
        [
            "Focus · 12 min (off)",
            "Switch to Coordination [switch]",
            "Today [today]",
            "Team… [team]",
            "Settings [settings]",
            "Open Weft [open]",
            "---",
            "Quit [quit]",
        ]
    );
    Ok(())
}

#[test]
fn the_menu_in_coordination_with_held_notifications_notices_and_a_team(
) -> Result<(), chrono::ParseError> {
    let now = at("2026-11-30T10:00:00Z")?;
    let coordination = Status {
        hotkey: Some("Super+W".into()),
        ..status(State::Coordination, now - Span::minutes(65), 3)
    };
    let mut extras = Extras {
        notices: vec!["The hotkey Ctrl+Alt+F is taken by another program.".into()],
        team: Some(vec!["Ana · Focus until 10:55".into()]),
        ..Extras::default()
    };
    extras.follow(&coordination);
    assert_eq!(
        render(&coordination, &extras, now),
        [
            "Coordination · 1 h 05 min (off)",
            "3 held [held]",
            "Switch to Focus [switch]",
            "Hotkey: Super+W (off)",
            "Focus for 25 min [plan-25]",
            "Focus for 50 min [plan-50]",
            "Focus for 90 min [plan-90]",
            "Today [today]",
            "Team >",
            "  Ana · Focus until 10:55 (off)",
            "  ---",
            "  Open Team… [team]",
            "Settings [settings]",
            "Open Weft [open]",
            "---",
            "⚠ The hotkey Ctrl+Alt+F is taken by another program. (off)",
            "---",
            "Quit [quit]",
        ]
    );

    // Nothing held any more, focus, and no hotkey: the held line, the plans and the hotkey go.
    let focus = status(State::Focus, now, 0);
    extras.follow(&focus);
    assert_eq!(
        (extras.held_shown, extras.plans_shown, extras.hotkey),
        (false, false, None)
    );
    Ok(())
}

#[test]
fn the_first_line_counts_whole_minutes() -> Result<(), chrono::ParseError> {
    let since = at("2026-11-30T08:00:00Z")?;
    let focus = status(State::Focus, since, 0);
    let after = |seconds| header(&focus, since + Span::seconds(seconds));
    assert_eq!(after(0), "Focus · just now");
    assert_eq!(after(59), "Focus · just now");
    assert_eq!(after(60), "Focus · 1 min");
    assert_eq!(after(3599), "Focus · 59 min");
    assert_eq!(after(3600), "Focus · 1 h 00 min");
    assert_eq!(after(-30), "Focus · just now", "a clock set back");

    Ok(())
}

#[test]
fn the_ticker_wakes_just_after_the_minute_turns() -> Result<(), chrono::ParseError> {
    let since = at("2026-11-30T08:00:00Z")?;
    let focus = status(State::Focus, since, 0);
    let wait = |ms| until_next_minute(&focus, since + Span::milliseconds(ms));
    assert_eq!(wait(0), Duration::from_millis(60_020));
    assert_eq!(wait(61_500), Duration::from_millis(58_520));
    assert_eq!(wait(119_999), Duration::from_millis(21));
    assert_eq!(
        wait(-5_000),
        Duration::from_millis(60_020),
        "a clock set back"
    );
    Ok(())
}

#[test]
fn the_fixed_texts() {
    assert_eq!(held(1), "1 held");
    assert_eq!(held(12), "12 held");
    assert_eq!(switch(State::Focus), "Switch to Focus");
    assert_eq!(switch(State::Coordination), "Switch to Coordination");
    assert_eq!(plan(50), "Focus for 50 min");
}

#[test]
fn a_long_notice_shows_its_start() {
    let fits = "é".repeat(NOTICE_CHARS);
    assert_eq!(notice(&fits), format!("⚠ {fits}"), "counted in characters");
    let long = format!("{}xyz", "a".repeat(NOTICE_CHARS - 1));
    assert_eq!(
        notice(&long),
        format!("⚠ {}…", "a".repeat(NOTICE_CHARS - 1))
    );
    assert_eq!(notice(""), "⚠ ");
}

fn member(id: i64, name: &str, state: Option<State>) -> Member {
    Member {
        id,
        name: name.into(),
        state,
        since: None,
        until: None,
        intent: None,
        seq: 0,
        online: true,
    }
}

fn info(members: Vec<Member>, connection: Connection) -> TeamInfo {
    TeamInfo {
        membership: Some(Membership {
            server: "https://weft.example".into(),
            team: "core".into(),
            name: "Me".into(),
            member_id: 1,
            share_intent: false,
        }),
        connection,
        members,
    }
}

/// A team of four seen from member 1, with times in November (no summer time).
fn team_of_four() -> Result<TeamInfo, chrono::ParseError> {
    let mut ana = member(2, "Ana", Some(State::Focus));
    ana.since = Some(at("2026-11-30T09:05:00Z")?);
    ana.until = Some(at("2026-11-30T09:55:00Z")?);
    let mut ben = member(3, "Ben", Some(State::Coordination));
    ben.since = Some(at("2026-11-30T04:30:00Z")?);
    ben.online = false;
    let cleo = member(4, "Cleo", None);
    let dan = member(5, "Dan", Some(State::Focus));
    let me = member(1, "Me", Some(State::Focus));
    Ok(info(vec![me, ana, ben, cleo, dan], Connection::Online))
}

#[test]
fn teammates_times_are_shown_in_the_time_zone_given() -> Result<(), chrono::ParseError> {
    let team_of_four = team_of_four()?;
    assert_eq!(
        team(&team_of_four, &chrono_tz::Europe::Berlin),
        Some(vec![
            "Ana · Focus until 10:55".to_owned(),
            "Ben · Coordination since 05:30 (offline)".to_owned(),
            "Cleo · no status yet".to_owned(),
            "Dan · Focus".to_owned(),
        ])
    );
    assert_eq!(
        team(&team_of_four, &chrono_tz::America::New_York),
        Some(vec![
            "Ana · Focus until 04:55".to_owned(),
            "Ben · Coordination since 23:30 (offline)".to_owned(),
            "Cleo · no status yet".to_owned(),
            "Dan · Focus".to_owned(),
        ])
    );
    assert_eq!(
        team(&team_of_four, &Utc).and_then(|lines| lines.into_iter().next()),
        Some("Ana · Focus until 09:55".to_owned())
    );

    // Summer time moves the clock, not the instant.
    let mut july = team_of_four;
    july.members[1].until = Some(at("2026-07-01T09:55:00Z")?);
    assert_eq!(
        team(&july, &chrono_tz::Europe::Berlin).and_then(|lines| lines.into_iter().next()),
        Some("Ana · Focus until 11:55".to_owned())
    );
    Ok(())
}

#[test]
fn the_team_menu_says_when_it_is_not_current() -> Result<(), chrono::ParseError> {
    let alone = info(vec![member(1, "Me", None)], Connection::Connecting);
    assert_eq!(
        team(&alone, &Utc),
        Some(vec!["No teammates yet".to_owned()])
    );

    let unreachable = info(
        vec![member(2, "Ana", None)],
        Connection::Offline {
            message: "cannot reach weft.example".into(),
            retry_at: Some(at("2026-11-30T10:01:00Z")?),
        },
    );
    assert_eq!(
        team(&unreachable, &Utc),
        Some(vec![
            "⚠ Sync server unreachable".to_owned(),
            "Ana · no status yet".to_owned()
        ])
    );

    let refused = info(
        Vec::new(),
        Connection::Offline {
            message: "the membership was refused".into(),
            retry_at: None,
        },
    );
    assert_eq!(
        team(&refused, &Utc),
        Some(vec![
            "⚠ Not shared: see Team".to_owned(),
            "No teammates yet".to_owned()
        ])
    );

    let outside = TeamInfo {
        membership: None,
        connection: Connection::NotJoined,
        members: Vec::new(),
    };
    assert_eq!(team(&outside, &Utc), None);
    Ok(())
}

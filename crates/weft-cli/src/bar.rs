//! `weft status --format waybar|polybar|i3blocks|json|text`: the state as one line for a
//! status bar. Pure functions of what the app said (its status and team, or that it is not
//! running), the time and the time zone, so every format is tested with a fixed clock.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use weft_core::time::local_hm;
use weft_proto::{Connection, State, Status, TeamInfo};

/// The formats `--format` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BarFormat {
    /// Waybar's custom module with `"return-type": "json"`: text, alt, class, tooltip,
    /// percentage.
    Waybar,
    /// Polybar's `custom/script` (with `tail = true` for `--follow`): a plain line.
    Polybar,
    /// i3blocks: full text, short text and colour on three lines; with `--follow`
    /// (`interval=persist`), one full-text line per change.
    I3blocks,
    /// One JSON object per line, for scripts.
    Json,
    /// One line for people.
    Text,
}

/// What `weft status` knows of the app.
#[derive(Clone, Copy, Debug)]
pub enum Seen<'a> {
    /// The app answered: its status, and its team when it told it.
    Running {
        status: &'a Status,
        team: Option<&'a TeamInfo>,
    },
    /// No app answers on the control socket.
    Stopped,
}

/// The time a line is drawn at, and the zone its clock times are shown in.
pub struct Now<'z, Tz: TimeZone> {
    pub at: DateTime<Utc>,
    pub zone: &'z Tz,
}

/// One line in `format` (for i3blocks, its full text only: see [`i3blocks_block`]).
pub fn line<Tz: TimeZone>(format: BarFormat, seen: Seen<'_>, now: &Now<'_, Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match format {
        BarFormat::Waybar => waybar(seen, now),
        // Polybar reads `%{…}` as formatting tags; the line holds no text from others.
        BarFormat::Polybar => full_text(seen, now),
        BarFormat::I3blocks => full_text(seen, now),
        BarFormat::Json => json(seen, now),
        BarFormat::Text => text(seen, now),
    }
}

/// i3blocks' three lines for a block run once per interval: full text, short text, colour.
pub fn i3blocks_block<Tz: TimeZone>(seen: Seen<'_>, now: &Now<'_, Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let (short, colour) = match seen {
        Seen::Running { status, .. } => (
            status.state.label(),
            match status.state {
                State::Focus => "#D08770",
                State::Coordination => "#A3BE8C",
            },
        ),
        Seen::Stopped => ("Weft off", "#888888"),
    };
    format!("{}\n{short}\n{colour}", full_text(seen, now))
}

/// `Focus 25m`, or with a planned end `Focus 25m → 10:55`; `not running` when stopped.
fn headline<Tz: TimeZone>(seen: Seen<'_>, now: &Now<'_, Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match seen {
        Seen::Stopped => "Weft not running".to_owned(),
        Seen::Running { status, .. } => {
            let mut line = format!(
                "{} {}",
                status.state.label(),
                short_elapsed((now.at - status.since).num_seconds())
            );
            if let Some(until) = status.until {
                line.push_str(&format!(" → {}", local_hm(until, now.zone)));
            }
            line
        }
    }
}

/// `25m`, `1h05m`: whole minutes elapsed.
fn short_elapsed(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    if minutes < 60 {
        format!("{minutes}m")
    } else {
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    }
}

/// The headline, then ` · 3 held` when notifications are held.
fn full_text<Tz: TimeZone>(seen: Seen<'_>, now: &Now<'_, Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let mut line = headline(seen, now);
    if let Seen::Running { status, .. } = seen {
        if status.held > 0 {
            line.push_str(&format!(" · {} held", status.held));
        }
    }
    one_line(&line)
}

fn text<Tz: TimeZone>(seen: Seen<'_>, now: &Now<'_, Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let mut parts = vec![full_text(seen, now)];
    if let Seen::Running { status, team } = seen {
        parts.extend(status.intent.as_deref().map(one_line));
        let focusing = teammates_focusing(team);
        if !focusing.is_empty() {
            parts.push(format!("focusing: {}", focusing.join(", ")));
        }
        if let Some(Connection::Offline { .. }) = team.map(|t| &t.connection) {
            parts.push("team offline".to_owned());
        }
    }
    one_line(&parts.join(" · "))
}

/// Teammates (you excluded) whose Weft is online and in focus, by name.
fn teammates_focusing(team: Option<&TeamInfo>) -> Vec<String> {
    let Some(team) = team else {
        return Vec::new();
    };
    let me = team.membership.as_ref().map(|m| m.member_id);
    team.members
        .iter()
        .filter(|m| Some(m.id) != me && m.online && m.state == Some(State::Focus))
        .map(|m| one_line(&m.name))
        .collect()
}

/// The share of the planned block done, 0 to 100, when there is a planned end.
fn percentage(status: &Status, now: DateTime<Utc>) -> Option<u8> {
    let until = status.until?;
    let planned = (until - status.since).num_seconds();
    if planned <= 0 {
        return Some(100);
    }
    let done = (now - status.since).num_seconds().clamp(0, planned);
    u8::try_from(done * 100 / planned).ok()
}

fn connection_name(connection: &Connection) -> &'static str {
    match connection {
        Connection::NotJoined => "not_joined",
        Connection::Connecting => "connecting",
        Connection::Online => "online",
        Connection::Offline { .. } => "offline",
    }
}

#[derive(Serialize)]
struct Waybar {
    text: String,
    alt: &'static str,
    class: Vec<&'static str>,
    tooltip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    percentage: Option<u8>,
}

fn waybar<Tz: TimeZone>(seen: Seen<'_>, now: &Now<'_, Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let shown = match seen {
        Seen::Stopped => Waybar {
            text: markup(&headline(seen, now)),
            alt: "stopped",
            class: vec!["stopped"],
            tooltip: "Weft is not running".to_owned(),
            percentage: None,
        },
        Seen::Running { status, team } => {
            let mut class = vec![status.state.as_str()];
            if status.held > 0 {
                class.push("held");
            }
            if let Some(Connection::Offline { .. }) = team.map(|t| &t.connection) {
                class.push("team-offline");
            }
            let mut tooltip = vec![format!(
                "{} since {}",
                status.state.label(),
                local_hm(status.since, now.zone)
            )];
            if let Some(intent) = &status.intent {
                tooltip.push(format!("Intent: {}", one_line(intent)));
            }
            if let Some(until) = status.until {
                tooltip.push(format!("Planned end: {}", local_hm(until, now.zone)));
            }
            tooltip.push(format!("Held: {}", status.held));
            let focusing = teammates_focusing(team);
            if !focusing.is_empty() {
                tooltip.push(format!("Teammates focusing: {}", focusing.join(", ")));
            }
            if let Some(Connection::Offline { message, .. }) = team.map(|t| &t.connection) {
                tooltip.push(format!("Team offline: {}", one_line(message)));
            }
            Waybar {
                text: markup(&headline(seen, now)),
                alt: status.state.as_str(),
                class,
                tooltip: markup(&tooltip.join("\n")),
                percentage: percentage(status, now.at),
            }
        }
    };
    serde_json::to_string(&shown).unwrap_or_default()
}

/// `weft status --format json`: the fields README lists, one object on one line.
#[derive(Serialize)]
struct JsonLine<'a> {
    running: bool,
    state: Option<State>,
    #[serde(with = "weft_proto::time::option")]
    since: Option<DateTime<Utc>>,
    elapsed_minutes: Option<i64>,
    intent: Option<&'a str>,
    #[serde(with = "weft_proto::time::option")]
    until: Option<DateTime<Utc>>,
    percentage: Option<u8>,
    held: u32,
    teammates_focusing: Vec<String>,
    team: Option<&'static str>,
}

fn json<Tz: TimeZone>(seen: Seen<'_>, now: &Now<'_, Tz>) -> String {
    let line = match seen {
        Seen::Stopped => JsonLine {
            running: false,
            state: None,
            since: None,
            elapsed_minutes: None,
            intent: None,
            until: None,
            percentage: None,
            held: 0,
            teammates_focusing: Vec::new(),
            team: None,
        },
        Seen::Running { status, team } => JsonLine {
            running: true,
            state: Some(status.state),
            since: Some(status.since),
            elapsed_minutes: Some((now.at - status.since).num_seconds().max(0) / 60),
            intent: status.intent.as_deref(),
            until: status.until,
            percentage: percentage(status, now.at),
            held: status.held,
            teammates_focusing: teammates_focusing(team),
            team: team.map(|t| connection_name(&t.connection)),
        },
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// Text from others on one line, safe for a terminal and a bar: line breaks become spaces,
/// other control characters U+FFFD.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// Waybar reads text and tooltip as Pango markup: `&`, `<` and `>` are escaped.
fn markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests;

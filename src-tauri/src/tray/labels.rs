//! Every text the tray shows, and the order of its menu, as pure functions of plain data (a
//! status, the team, the time now and a time zone), so each is tested without a desktop. The
//! tray only turns them into menu items.

use chrono::{DateTime, TimeZone, Utc};
use std::time::Duration;
use weft_core::time::{elapsed_label, local_hm};
use weft_proto::{Connection, State, Status, TeamInfo};

/// Menu item ids (the tray's click handler reads them back).
pub const HEADER: &str = "header";
pub const SWITCH: &str = "switch";
pub const HELD: &str = "held";
pub const OPEN: &str = "open";
pub const TODAY: &str = "today";
pub const TEAM: &str = "team";
pub const SETTINGS: &str = "settings";
pub const QUIT: &str = "quit";
pub const HOTKEY: &str = "hotkey";
/// The id of a "Focus for N min" item starts with this, then the minutes.
pub const PLAN: &str = "plan-";

/// Planned focus lengths offered in coordination, in minutes.
pub const PLANS: [u32; 3] = [25, 50, 90];

/// Notices are long sentences; the menu shows their start.
const NOTICE_CHARS: usize = 90;

/// The tray icon's tooltip (Ayatana ignores it; other hosts show it).
pub const TOOLTIP: &str = "Weft";
/// The Team submenu's own label.
pub const TEAM_MENU: &str = "Team";

/// What the menu lists besides the items every menu has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// "N held" is shown (notifications are held).
    pub held_shown: bool,
    /// In coordination, the "Focus for N min" items are offered.
    pub plans_shown: bool,
    /// The hotkey in effect, shown under the switch item ([`hotkey`]); none: no line.
    pub hotkey: Option<String>,
    pub notices: Vec<String>,
    /// One line per teammate (none: not in a team).
    pub team: Option<Vec<String>>,
}

impl Extras {
    /// The extras for `status`, with the notices and team lines as they are.
    pub fn follow(&mut self, status: &Status) {
        self.held_shown = status.held > 0;
        self.plans_shown = status.state == State::Coordination;
        self.hotkey = status.hotkey.clone();
    }
}

/// One entry of the menu, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The first line (disabled): [`header`].
    Header,
    /// "N held" ([`held`]), which opens the window.
    Held,
    /// The one switch item ([`switch`]).
    Switch,
    /// A fixed item: its id, label and whether it can be clicked.
    Item {
        id: String,
        label: String,
        enabled: bool,
    },
    /// The Team submenu: one disabled row per line, a gap, then "Open Team…".
    TeamMenu(Vec<String>),
    Separator,
}

fn item(id: impl Into<String>, label: impl Into<String>, enabled: bool) -> Entry {
    Entry::Item {
        id: id.into(),
        label: label.into(),
        enabled,
    }
}

/// The menu for `extras`. The header, held and switch items are kept across rebuilds (their
/// texts change without one); the rest is made anew.
pub fn layout(extras: &Extras) -> Vec<Entry> {
    let mut entries = vec![Entry::Header];
    if extras.held_shown {
        entries.push(Entry::Held);
    }
    entries.push(Entry::Switch);
    if let Some(key) = &extras.hotkey {
        entries.push(item(HOTKEY, hotkey(key), false));
    }
    if extras.plans_shown {
        entries.extend(
            PLANS
                .iter()
                .map(|minutes| item(format!("{PLAN}{minutes}"), plan(*minutes), true)),
        );
    }
    entries.push(item(TODAY, "Today", true));
    entries.push(match &extras.team {
        None => item(TEAM, "Team…", true),
        Some(lines) => Entry::TeamMenu(lines.clone()),
    });
    entries.push(item(SETTINGS, "Settings", true));
    entries.push(item(OPEN, "Open Weft", true));
    if !extras.notices.is_empty() {
        entries.push(Entry::Separator);
        entries.extend(
            extras
                .notices
                .iter()
                .enumerate()
                .map(|(n, text)| item(format!("notice-{n}"), notice(text), false)),
        );
    }
    entries.push(Entry::Separator);
    entries.push(item(QUIT, "Quit", true));
    entries
}

/// The hotkey line: the key in effect, as the desktop or the grab names it.
pub fn hotkey(key: &str) -> String {
    format!("Hotkey: {key}")
}

/// The id of the Team submenu's `n`th row.
pub fn member_id(n: usize) -> String {
    format!("member-{n}")
}

/// "Open Team…", the Team submenu's last item.
pub const OPEN_TEAM: &str = "Open Team…";

/// The first line: "Focus · 12 min".
pub fn header(status: &Status, now: DateTime<Utc>) -> String {
    let elapsed = (now - status.since).num_seconds();
    format!("{} · {}", status.state.label(), elapsed_label(elapsed))
}

/// How long until the first line's minute count changes (a little after, so it has).
pub fn until_next_minute(status: &Status, now: DateTime<Utc>) -> Duration {
    let elapsed_ms = (now - status.since).num_milliseconds().max(0);
    Duration::from_millis((60_000 - (elapsed_ms % 60_000) + 20).unsigned_abs())
}

/// "3 held".
pub fn held(held: u32) -> String {
    format!("{held} held")
}

/// "Switch to Focus".
pub fn switch(offers: State) -> String {
    format!("Switch to {}", offers.label())
}

/// "Focus for 25 min".
pub fn plan(minutes: u32) -> String {
    format!("Focus for {minutes} min")
}

/// "⚠ " and the notice's start.
pub fn notice(text: &str) -> String {
    format!("⚠ {}", shorten(text))
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= NOTICE_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(NOTICE_CHARS - 1).collect();
    format!("{cut}…")
}

/// "Ana · Focus until 10:55", one per teammate (you are left out), times in `zone`; `None`
/// outside a team. Times, not durations, so the menu only changes when a teammate does.
pub fn team<Tz: TimeZone>(info: &TeamInfo, zone: &Tz) -> Option<Vec<String>>
where
    Tz::Offset: std::fmt::Display,
{
    let me = info.membership.as_ref()?.member_id;
    let local = |t: &Option<DateTime<Utc>>| t.map(|t| local_hm(t, zone));
    let mut lines: Vec<String> = info
        .members
        .iter()
        .filter(|m| m.id != me)
        .map(|m| {
            let state = match (m.state, local(&m.until), local(&m.since)) {
                (None, _, _) => "no status yet".to_owned(),
                (Some(state), Some(until), _) => format!("{} until {until}", state.label()),
                (Some(state), None, Some(since)) => format!("{} since {since}", state.label()),
                (Some(state), None, None) => state.label().to_owned(),
            };
            let away = if m.online { "" } else { " (offline)" };
            format!("{} · {state}{away}", m.name)
        })
        .collect();
    if lines.is_empty() {
        lines.push("No teammates yet".into());
    }
    match info.connection {
        Connection::Offline {
            retry_at: Some(_), ..
        } => lines.insert(0, "⚠ Sync server unreachable".into()),
        Connection::Offline { retry_at: None, .. } => {
            lines.insert(0, "⚠ Not shared: see Team".into())
        }
        _ => {}
    }
    Some(lines)
}

#[cfg(test)]
mod tests;

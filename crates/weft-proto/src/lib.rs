//! Wire types of Weft's one control protocol.
//!
//! The app serves [`Request`]s and answers with [`Response`]s. The same values travel over the
//! Unix control socket (one JSON object per line, used by the `weft` CLI and the tests) and
//! through the app's single Tauri command (used by the UI), so every caller exercises one
//! dispatcher. This crate depends on serde and chrono: times are `chrono::DateTime<Utc>`
//! values, because every side computes with them, and [`time`] is the one place that writes
//! them as RFC 3339 text in UTC and reads that text back. With the `ts` feature it also derives
//! the TypeScript bindings committed in `ui/src/bindings` (where a time is a `string`).
//!
//! [`sync`] holds the sync server's HTTP API types.

pub mod sync;
pub mod time;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest intent accepted, in characters. Longer intents are refused, not cut.
pub const MAX_INTENT_CHARS: usize = 200;

/// Longest stash note accepted, in characters. Longer notes are refused, not cut.
pub const MAX_STASH_CHARS: usize = 500;

/// Longest planned focus block, in minutes (a day).
pub const MAX_PLANNED_MINUTES: u32 = 24 * 60;

/// Longest notification title accepted, in characters. Longer titles are refused.
pub const MAX_TITLE_CHARS: usize = 200;

/// Longest notification body kept, in characters. A longer body is cut to this length and
/// ends with [`TRUNCATION_MARKER`].
pub const MAX_BODY_CHARS: usize = 4000;

/// What ends a body that was cut to [`MAX_BODY_CHARS`].
pub const TRUNCATION_MARKER: &str = " […truncated]";

/// Longest sender name accepted, in characters.
pub const MAX_FROM_CHARS: usize = 64;

/// A person's attention state: exactly one at any moment while Weft runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Deep work: interruptions are held back.
    Focus,
    /// Open to people.
    Coordination,
}

impl State {
    /// The other state: what a toggle switches to.
    pub fn other(self) -> State {
        match self {
            State::Focus => State::Coordination,
            State::Coordination => State::Focus,
        }
    }

    /// The stable lowercase name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Focus => "focus",
            State::Coordination => "coordination",
        }
    }

    /// The capitalised name shown to people ("Focus", "Coordination").
    pub fn label(self) -> &'static str {
        match self {
            State::Focus => "Focus",
            State::Coordination => "Coordination",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "focus" => Ok(State::Focus),
            "coordination" => Ok(State::Coordination),
            other => Err(UnknownName {
                what: "state",
                name: other.to_owned(),
            }),
        }
    }
}

/// Where a switch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Tray,
    Hotkey,
    Cli,
    Ui,
    Schedule,
    Timer,
}

impl Source {
    /// The stable lowercase name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Tray => "tray",
            Source::Hotkey => "hotkey",
            Source::Cli => "cli",
            Source::Ui => "ui",
            Source::Schedule => "schedule",
            Source::Timer => "timer",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "tray" => Source::Tray,
            "hotkey" => Source::Hotkey,
            "cli" => Source::Cli,
            "ui" => Source::Ui,
            "schedule" => Source::Schedule,
            "timer" => Source::Timer,
            other => {
                return Err(UnknownName {
                    what: "source",
                    name: other.to_owned(),
                })
            }
        })
    }
}

/// A name that is not one of the known `State` or `Source` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.what, self.name)
    }
}

impl std::error::Error for UnknownName {}

/// How much a notification asks for attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Never a popup while focused; listed in the Inbox and mentioned in the digest.
    Low,
    /// Held during focus, delivered in the digest.
    #[default]
    Normal,
    /// Breaks through focus at once.
    Critical,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::Critical => "critical",
        }
    }
}

impl FromStr for Urgency {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Urgency::Low),
            "normal" => Ok(Urgency::Normal),
            "critical" => Ok(Urgency::Critical),
            other => Err(UnknownName {
                what: "urgency",
                name: other.to_owned(),
            }),
        }
    }
}

/// What Weft did with a notification when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Shown at once (coordination).
    Delivered,
    /// Kept back until the next digest (focus).
    Held,
    /// A critical notification shown during focus.
    BreakThrough,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Delivered => "delivered",
            Disposition::Held => "held",
            Disposition::BreakThrough => "break_through",
        }
    }
}

/// Where a notification is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum InboxState {
    /// Waiting for the next digest.
    Held,
    /// Was held; went out with a digest.
    Released,
    /// Shown at once.
    Delivered,
    /// Shown at once during focus (critical).
    BreakThrough,
}

/// One notification as the Inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InboxItem {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    /// When it arrived (RFC 3339, UTC).
    #[serde(with = "crate::time")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub received: DateTime<Utc>,
    pub title: String,
    pub body: String,
    pub urgency: Urgency,
    pub from: Option<String>,
    pub state: InboxState,
    /// The app that sent it (a desktop notification's `app_name`); null for Weft's own and
    /// for pings.
    #[serde(default)]
    pub app: Option<String>,
    /// Who sent it: Weft (`weft notify`, Weft's notices), a teammate, or another app.
    #[serde(default)]
    pub source: NotificationSource,
}

/// Where a notification came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum NotificationSource {
    /// Sent to Weft itself: `weft notify`, Weft's own notices.
    #[default]
    Weft,
    /// A teammate's ping.
    Ping,
    /// Another app's notification to the desktop, seen by Weft (`Notify` on the session bus).
    Desktop,
}

impl NotificationSource {
    /// The stable lowercase name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationSource::Weft => "weft",
            NotificationSource::Ping => "ping",
            NotificationSource::Desktop => "desktop",
        }
    }
}

impl FromStr for NotificationSource {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "weft" => Ok(NotificationSource::Weft),
            "ping" => Ok(NotificationSource::Ping),
            "desktop" => Ok(NotificationSource::Desktop),
            other => Err(UnknownName {
                what: "notification source",
                name: other.to_owned(),
            }),
        }
    }
}

/// What Weft did with a `notify` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NotifyOutcome {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    pub disposition: Disposition,
    /// True when the body was cut to [`MAX_BODY_CHARS`].
    pub truncated: bool,
    /// True when the popup could not be shown yet because no notification server takes
    /// popups: it stays owed and Weft retries. Omitted when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub queued: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One focus block of a day: a maximal stretch of tracked focus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FocusBlock {
    /// RFC 3339, UTC; clipped to the day.
    #[serde(with = "crate::time")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub start: DateTime<Utc>,
    /// RFC 3339, UTC; clipped to the day, and for an open block (see `open`) the current time.
    #[serde(with = "crate::time")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub end: DateTime<Utc>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seconds: i64,
    pub intent: Option<String>,
    /// The stash note written when the block ended.
    pub stash: Option<String>,
    /// The block is still running.
    pub open: bool,
}

/// A stretch of the day in one state, or untracked (`state` null): the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Segment {
    pub state: Option<State>,
    /// RFC 3339, UTC.
    #[serde(with = "crate::time")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub start: DateTime<Utc>,
    /// RFC 3339, UTC.
    #[serde(with = "crate::time")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub end: DateTime<Utc>,
}

/// What one local day held. The field names are a stable interface (`weft summary --format
/// json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DaySummary {
    /// The local date, YYYY-MM-DD.
    pub date: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub focus_seconds: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub coordination_seconds: i64,
    /// Time of the day (up to now) when Weft was not running.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub untracked_seconds: i64,
    /// Switches made during the day.
    pub switches: u32,
    pub focus_blocks: Vec<FocusBlock>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub longest_focus_seconds: i64,
    /// Finished focus blocks shorter than the fragment threshold.
    pub fragmented_blocks: u32,
    /// Notifications held during the day.
    pub held: u32,
    /// Digests delivered during the day.
    pub digests: u32,
    /// Critical notifications that broke through focus.
    pub break_throughs: u32,
    /// Pings sent to teammates.
    pub pings_sent: u32,
    /// Pings from teammates (held or not).
    pub pings_received: u32,
    /// The day from its start to its end (or now), tracked stretches and the gaps between.
    pub timeline: Vec<Segment>,
    /// Other apps' notifications during the day's focus, per app, the most first (ties by
    /// name). Omitted when there were none, so a day without them reads as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_by_app: Vec<AppCount>,
}

/// One app's notifications in a day's focus: held, and broken through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppCount {
    pub app: String,
    pub held: u32,
    pub break_throughs: u32,
}

/// Which state a switch request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Focus,
    Coordination,
    /// Whichever state Weft is not in now.
    Toggle,
}

/// A request to the running app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "cmd", rename_all = "snake_case")]
#[serde(deny_unknown_fields)]
pub enum Request {
    /// The current state.
    Status,
    /// Switch state. Switching to the state Weft is already in changes nothing.
    Switch {
        to: Target,
        source: Source,
        /// What the focus block is for (focus only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        intent: Option<String>,
        /// The planned length of the focus block, in minutes (focus only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        minutes: Option<u32>,
        /// Where you left off (only when leaving focus); shown again when focus resumes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        stash: Option<String>,
    },
    /// Logged switches, oldest first.
    Log {
        /// Only switches at or after this RFC 3339 time.
        // Text the app reads with `time::parse`, so a malformed one is answered `invalid`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        since: Option<String>,
    },
    /// A day as Markdown, to paste into a stand-up.
    Markdown {
        /// YYYY-MM-DD; today when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        date: Option<String>,
    },
    /// Open (or raise) the Weft window.
    OpenWindow,
    /// Close every Weft window; the app stays in the tray.
    CloseWindow,
    /// Ask the desktop to show its own dialog for changing the hotkey (the GlobalShortcuts
    /// portal's `ConfigureShortcuts`, version 2 of the interface). Answered `Done` once the
    /// desktop took the request; `unavailable`, with why, where the hotkey is not bound
    /// through such a portal (see [`Status::hotkey_changeable`]).
    ChangeHotkey,
    /// A notification for the hold policy: delivered, held or broken through by the state.
    Notify {
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        body: Option<String>,
        #[serde(default)]
        urgency: Urgency,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        from: Option<String>,
    },
    /// Held notifications (oldest first), then the most recent others (newest first).
    Inbox,
    /// The summary of a local day, or of the seven days ending with it.
    Summary {
        /// YYYY-MM-DD; today when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        date: Option<String>,
        #[serde(default)]
        week: bool,
    },
    /// Follow the app: the connection stops answering requests and carries one [`Event`] per
    /// line instead, starting with the current status, until either side closes it.
    Watch,
    /// The team: membership, connection to the sync server, and each member's shared status.
    Team,
    /// Join a team on a sync server with an invite code.
    TeamJoin {
        /// The sync server's URL, e.g. `https://weft.example.org`.
        server: String,
        invite: String,
        /// How teammates will see you.
        name: String,
        /// Share the focus block's intent too (state, since and planned end always are).
        #[serde(default)]
        share_intent: bool,
    },
    /// Change what is shared with the team.
    TeamShare { share_intent: bool },
    /// Leave the team: the server forgets you, this machine forgets the membership, and
    /// nothing more is shared.
    TeamLeave {
        /// Leave on this machine even if the server cannot be told.
        #[serde(default)]
        force: bool,
    },
    /// Start at login: turn it on (`true`) or off (`false`), or only ask (absent). Answered
    /// with [`Response::Autostart`]. Off removes only an entry Weft wrote.
    Autostart {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        on: Option<bool>,
    },
    /// A message to a teammate; their Weft delivers or holds it by their state.
    Ping {
        /// The teammate's name.
        to: String,
        text: String,
        /// Break through their focus (within the daily urgent budget).
        #[serde(default)]
        urgent: bool,
    },
}

/// A [`Request`] with the moment after which the app must not carry it out: the client has
/// stopped waiting by then (it said "did not answer"), so applying it later would surprise.
/// The `weft` CLI and the window process send every request in one; a bare [`Request`] is
/// still accepted (no deadline). Not part of the UI's bindings: the UI's requests are
/// wrapped by the window process.
///
/// `{"deadline_boot_ms": 123456789, "request": {"cmd": "switch", ...}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The machine's boot clock (`CLOCK_BOOTTIME`, which counts suspends and is never set),
    /// in milliseconds: a request read after this is refused.
    pub deadline_boot_ms: u64,
    pub request: Request,
}

/// What a watching connection receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// The current status: sent first, then after every committed switch.
    Status(Status),
    /// The window should come to the front (someone asked to open it while it is open).
    Raise,
    /// The window should come to the front showing a view.
    Show(View),
    /// The window should close.
    Close,
    /// The team changed: a member's status, the connection, or the membership.
    Team(TeamInfo),
}

/// A view of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// The state, the switch form and the Inbox.
    Now,
    /// The day's summary.
    Today,
    /// Teammates' states and pings.
    Team,
    /// Team membership and sharing.
    Settings,
}

impl View {
    /// The name used on the command line and in the window's address (`#today`).
    pub fn as_str(self) -> &'static str {
        match self {
            View::Now => "now",
            View::Today => "today",
            View::Team => "team",
            View::Settings => "settings",
        }
    }
}

impl FromStr for View {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<View, UnknownName> {
        [View::Now, View::Today, View::Team, View::Settings]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "view",
                name: s.to_owned(),
            })
    }
}

/// How this Weft stands with its sync server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connection {
    /// Not a member of any team.
    NotJoined,
    /// Connecting (at start, after joining, or after an outage).
    Connecting,
    /// Connected to the live stream: statuses are current.
    Online,
    /// The server cannot be reached or refused us; statuses shown may be stale.
    Offline {
        message: String,
        /// When the next attempt is due (RFC 3339, UTC); none when Weft will not retry
        /// (the membership was refused: join again).
        #[serde(default, with = "crate::time::option")]
        #[cfg_attr(feature = "ts", ts(type = "string | null"))]
        retry_at: Option<DateTime<Utc>>,
    },
}

/// This Weft's membership in a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Membership {
    pub server: String,
    pub team: String,
    /// Your name in the team.
    pub name: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub member_id: i64,
    /// Whether the intent is shared along with state, since and planned end.
    pub share_intent: bool,
}

/// The team as this Weft knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TeamInfo {
    pub membership: Option<Membership>,
    pub connection: Connection,
    /// Every member, you included (see [`Membership::member_id`]), ordered by name. Kept
    /// from the last connection while offline.
    pub members: Vec<sync::Member>,
}

/// The current state as reported to every surface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Status {
    pub state: State,
    /// When the current block began (RFC 3339, UTC).
    #[serde(with = "crate::time")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub since: DateTime<Utc>,
    /// The intent of the current focus block, if one was given.
    pub intent: Option<String>,
    /// The planned end of the current focus block (RFC 3339, UTC), if one was given.
    #[serde(default, with = "crate::time::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub until: Option<DateTime<Utc>>,
    /// The last stash note written when leaving focus, if any.
    pub stash: Option<String>,
    /// Notifications held for the next digest.
    pub held: u32,
    /// The optional parts of the desktop app that are not working now; Weft runs without
    /// them. Omitted when empty, so a fully working Weft's status is unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub degraded: Vec<DesktopPart>,
    /// The global hotkey in effect: the trigger as the desktop describes it where the desktop
    /// binds it (the GlobalShortcuts portal, on Wayland), the configured combination where
    /// Weft grabs it (X11); null when there is none (off, or not bound).
    #[serde(default)]
    pub hotkey: Option<String>,
    /// Whether the desktop can show its own dialog to change the hotkey ([`Request::ChangeHotkey`]):
    /// a GlobalShortcuts portal of version 2 or later bound it. Omitted when false.
    #[serde(default, skip_serializing_if = "is_false")]
    #[cfg_attr(feature = "ts", ts(as = "Option<bool>", optional))]
    pub hotkey_changeable: bool,
}

/// An optional part of the desktop app. When one cannot load or start, Weft keeps running
/// without it and lists it in [`Status::degraded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DesktopPart {
    /// The tray icon: the tray library cannot be loaded, the icon could not be created, or no
    /// tray host (StatusNotifierWatcher, XEmbed system tray) is there to show it.
    Tray,
    /// Popups: no notification server takes them. They stay owed and are retried.
    Notifications,
    /// Desktop do-not-disturb: the notification server is not one Weft can quiet.
    QuietDesktop,
    /// The configured global hotkey could not be registered.
    Hotkey,
}

impl DesktopPart {
    /// The stable snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DesktopPart::Tray => "tray",
            DesktopPart::Notifications => "notifications",
            DesktopPart::QuietDesktop => "quiet_desktop",
            DesktopPart::Hotkey => "hotkey",
        }
    }
}

/// One logged switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SwitchEntry {
    /// When the switch happened (RFC 3339, UTC).
    #[serde(with = "crate::time")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub at: DateTime<Utc>,
    /// The state before the switch.
    pub from: State,
    pub to: State,
    pub source: Source,
    pub intent: Option<String>,
    /// The stash note written with this switch (when it left focus).
    pub stash: Option<String>,
    /// The planned end of the focus block this switch began (RFC 3339, UTC).
    #[serde(default, with = "crate::time::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub until: Option<DateTime<Utc>>,
}

/// What a switch request did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SwitchOutcome {
    /// False when Weft was already in the requested state (nothing was logged).
    pub switched: bool,
    pub status: Status,
}

/// Whether Weft starts at login: its entry in the XDG autostart folder,
/// `$XDG_CONFIG_HOME/autostart/weft.desktop`. `weft autostart status --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Autostart {
    /// Weft's own entry is there: the desktop starts Weft at login.
    pub on: bool,
    /// The entry's path.
    pub file: String,
    /// The absolute path of the `weft-app` the entry starts (when on), or would start (when
    /// off); null when off and no `weft-app` can be found.
    pub binary: Option<String>,
    /// A `weft.desktop` that Weft did not write is there; Weft leaves it alone.
    pub foreign: bool,
}

/// Why a request failed. Callers branch on the kind; the message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request could not be parsed or names something unknown.
    BadRequest,
    /// A value in the request is out of range (too long, malformed time).
    Invalid,
    /// The local store could not commit; nothing changed.
    Storage,
    /// The app cannot do this (e.g. it is shutting down, or a window could not start).
    Unavailable,
    /// The app is still starting; the same request will work in a moment.
    NotReady,
    /// The sync server could not be reached, or refused the request (the message says why).
    Team,
}

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorReport {
    pub kind: ErrorKind,
    pub message: String,
}

/// The app's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Response {
    Status(Status),
    Switched(SwitchOutcome),
    Log(Vec<SwitchEntry>),
    Notified(NotifyOutcome),
    Inbox(Vec<InboxItem>),
    /// One day, or seven (oldest first).
    Summary(Vec<DaySummary>),
    /// Text for people, e.g. a day as Markdown.
    Text(String),
    /// The request was carried out and has nothing to report.
    Done,
    Team(TeamInfo),
    /// A ping was accepted by the sync server; the outcome says where it will land.
    PingSent(sync::PingSent),
    /// Whether Weft starts at login, after the change asked for.
    Autostart(Autostart),
    Error(ErrorReport),
}

impl Response {
    /// A failed request with its kind and a sentence for people.
    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Response {
        Response::Error(ErrorReport {
            kind,
            message: message.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// 2026-11-24 09:00 UTC, the time these tests show.
    fn nine() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn requests_use_stable_json_names() {
        let req = Request::Switch {
            to: Target::Focus,
            source: Source::Cli,
            intent: Some("refactor parser".into()),
            minutes: None,
            stash: None,
        };
        let json = serde_json::to_string(&req).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"cmd":"switch","to":"focus","source":"cli","intent":"refactor parser"}"#
        );
        let back: Request = serde_json::from_str(&json).unwrap_or(Request::Status);
        assert_eq!(back, req);
    }

    #[test]
    fn unknown_fields_and_names_are_refused() {
        let refused = |json: &str| {
            serde_json::from_str::<Request>(json)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let extra = refused(r#"{"cmd":"switch","to":"focus","source":"cli","x":1}"#);
        assert!(extra.starts_with("unknown field `x`"), "{extra}");
        let unknown = refused(r#"{"cmd":"explode"}"#);
        assert!(
            unknown.starts_with("unknown variant `explode`"),
            "{unknown}"
        );
        assert_eq!(
            "busy".parse::<State>(),
            Err(UnknownName {
                what: "state",
                name: "busy".into()
            })
        );
        assert_eq!("coordination".parse::<State>(), Ok(State::Coordination));
        assert_eq!("timer".parse::<Source>(), Ok(Source::Timer));
    }

    #[test]
    fn status_response_shape() {
        let resp = Response::Status(Status {
            state: State::Focus,
            since: nine(),
            intent: None,
            until: None,
            stash: None,
            held: 2,
            degraded: Vec::new(),
            hotkey: None,
            hotkey_changeable: false,
        });
        let json = serde_json::to_string(&resp).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"kind":"status","data":{"state":"focus","since":"2026-11-24T09:00:00.000Z","intent":null,"until":null,"stash":null,"held":2,"hotkey":null}}"#
        );
    }

    #[test]
    fn degraded_parts_and_queued_popups_are_listed_only_when_there_are_some() {
        let status = Status {
            state: State::Coordination,
            since: nine(),
            intent: None,
            until: None,
            stash: None,
            held: 0,
            degraded: vec![DesktopPart::Tray, DesktopPart::QuietDesktop],
            hotkey: Some("CTRL+ALT+f".into()),
            hotkey_changeable: true,
        };
        let json = serde_json::to_string(&status).unwrap_or_default();
        assert!(
            json.ends_with(
                r#""held":0,"degraded":["tray","quiet_desktop"],"hotkey":"CTRL+ALT+f","hotkey_changeable":true}"#
            ),
            "{json}"
        );
        let back: Option<Status> = serde_json::from_str(&json).ok();
        assert_eq!(back, Some(status));
        let old: Option<Status> = serde_json::from_str(
            r#"{"state":"focus","since":"2026-11-24T09:00:00Z","intent":null,"until":null,"stash":null,"held":0}"#,
        )
        .ok();
        assert_eq!(
            old.map(|s| (s.degraded, s.hotkey, s.hotkey_changeable)),
            Some((Vec::new(), None, false))
        );
        for part in [
            DesktopPart::Tray,
            DesktopPart::Notifications,
            DesktopPart::QuietDesktop,
            DesktopPart::Hotkey,
        ] {
            assert_eq!(
                serde_json::to_string(&part).unwrap_or_default(),
                format!("\"{}\"", part.as_str())
            );
        }

        let mut outcome = NotifyOutcome {
            id: 7,
            disposition: Disposition::Delivered,
            truncated: false,
            queued: false,
        };
        assert_eq!(
            serde_json::to_string(&outcome).unwrap_or_default(),
            r#"{"id":7,"disposition":"delivered","truncated":false}"#
        );
        outcome.queued = true;
        assert_eq!(
            serde_json::to_string(&outcome).unwrap_or_default(),
            r#"{"id":7,"disposition":"delivered","truncated":false,"queued":true}"#
        );
    }

    #[test]
    fn notify_defaults_to_normal_urgency_and_refuses_unknown_ones() {
        let req: Result<Request, _> = serde_json::from_str(r#"{"cmd":"notify","title":"CI red"}"#);
        assert!(matches!(
            req,
            Ok(Request::Notify {
                urgency: Urgency::Normal,
                body: None,
                from: None,
                ..
            })
        ));
        let bad =
            serde_json::from_str::<Request>(r#"{"cmd":"notify","title":"x","urgency":"urgent"}"#);
        let said = bad.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(said.starts_with("unknown variant `urgent`"), "{said}");
        assert_eq!("critical".parse::<Urgency>(), Ok(Urgency::Critical));
    }

    #[test]
    fn notification_sources_and_app_counts_have_stable_names() {
        for source in [
            NotificationSource::Weft,
            NotificationSource::Ping,
            NotificationSource::Desktop,
        ] {
            assert_eq!(
                serde_json::to_string(&source).unwrap_or_default(),
                format!("\"{}\"", source.as_str())
            );
            assert_eq!(source.as_str().parse(), Ok(source));
        }
        assert_eq!(
            "slack".parse::<NotificationSource>(),
            Err(UnknownName {
                what: "notification source",
                name: "slack".into()
            })
        );
        let count = AppCount {
            app: "Slack".into(),
            held: 6,
            break_throughs: 1,
        };
        assert_eq!(
            serde_json::to_string(&count).unwrap_or_default(),
            r#"{"app":"Slack","held":6,"break_throughs":1}"#
        );
        // An Inbox item from an older Weft (no app, no source) reads as Weft's own.
        let old: Option<InboxItem> = serde_json::from_str(
            r#"{"id":1,"received":"2026-11-24T09:00:00Z","title":"t","body":"","urgency":"normal","from":null,"state":"held"}"#,
        )
        .ok();
        assert_eq!(
            old.map(|i| (i.app, i.source)),
            Some((None, NotificationSource::Weft))
        );
    }

    #[test]
    fn toggling_twice_returns() {
        assert_eq!(State::Focus.other().other(), State::Focus);
        assert_eq!(State::Focus.other(), State::Coordination);
    }
}

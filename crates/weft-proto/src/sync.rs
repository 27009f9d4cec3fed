//! Wire types of the sync server's HTTP API (`/v1`), shared by `weft-sync` (the server), the
//! app's team client and the UI's Team view.
//!
//! Requests are JSON objects that refuse unknown fields; what the server sends back may grow
//! new fields, so clients ignore what they do not know. Times travel as RFC 3339 text in UTC,
//! written and read by [`crate::time`] as in the control protocol. What a member shares is exactly [`StatusUpdate`]: state, since,
//! planned end, and an intent only when the member opted in.

use crate::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The largest request body the server reads; a larger one gets 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest member or team name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Longest ping text, in characters. Longer texts are refused, not cut.
pub const MAX_PING_CHARS: usize = 500;

/// How many urgent pings one sender may send one recipient per UTC day before the rest are
/// held like normal ones (the server's `--urgent-budget` changes it).
pub const DEFAULT_URGENT_BUDGET: u32 = 3;

/// `POST /v1/join`: trade an invite code for a member token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub invite: String,
    /// How teammates will see you; unique within the team.
    pub name: String,
}

/// A team as members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TeamRef {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    pub name: String,
}

/// The answer to a join: the bearer token is shown this once and stored only hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    pub token: String,
    pub team: TeamRef,
    /// The new member's id within the server.
    pub member_id: i64,
    pub name: String,
}

/// `PUT /v1/teams/{team}/members/{member}/status`: what a member shares about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    /// Per-member sequence number: the highest one wins, whatever the order of arrival.
    pub seq: u64,
    pub state: State,
    /// When the current block began (RFC 3339, UTC).
    #[serde(with = "crate::time")]
    pub since: DateTime<Utc>,
    /// The planned end of the focus block (RFC 3339, UTC), if one was given.
    #[serde(default, with = "crate::time::option")]
    pub until: Option<DateTime<Utc>>,
    /// The focus block's intent; sent only by members who opted in to share it.
    #[serde(default)]
    pub intent: Option<String>,
}

/// The answer to a status update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusAck {
    /// False when the server already had this sequence number or a higher one (a replay or a
    /// late arrival): nothing was changed.
    pub applied: bool,
    /// The member's sequence number on the server after this request.
    pub seq: u64,
}

/// One member of a team and what it shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Member {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    pub name: String,
    /// Null until the member's Weft has shared a status.
    pub state: Option<State>,
    #[serde(default, with = "crate::time::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::time::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub until: Option<DateTime<Utc>>,
    pub intent: Option<String>,
    /// The sequence number of the status shown (0 before the first).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: u64,
    /// Whether the member's Weft is connected to the live stream now.
    pub online: bool,
}

/// `GET /v1/teams/{team}`: every member of the caller's team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub team: TeamRef,
    /// A random id of the server's database, made with it. When it changes (the database was
    /// replaced or restored), ping ids start over, so a client resumes from the first ping.
    #[serde(default)]
    pub instance: String,
    /// The caller's member id.
    pub me: i64,
    /// Ordered by name.
    pub members: Vec<Member>,
}

/// `POST /v1/teams/{team}/pings`: a message to one teammate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PingRequest {
    /// The recipient's name within the team (matched by its key: without regard to case,
    /// width or how accents were typed).
    pub to: String,
    pub text: String,
    #[serde(default)]
    pub urgent: bool,
}

/// What the sender is told about where a ping will land. The recipient's Weft applies its
/// own hold policy; this is the server's forecast from the recipient's shared status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PingOutcome {
    /// The recipient is in coordination (or the ping is urgent within budget): it shows now.
    Delivered,
    /// The recipient is focusing: the ping waits for their next digest.
    Held {
        /// The recipient's planned end of focus, if shared: "held until about HH:MM".
        #[serde(default, with = "crate::time::option")]
        #[cfg_attr(feature = "ts", ts(type = "string | null"))]
        until: Option<DateTime<Utc>>,
        /// The ping was urgent, but the sender's urgent budget for this recipient today is
        /// spent, so it is held like a normal one.
        over_budget: bool,
    },
    /// The recipient's Weft is not connected; the server keeps the ping and relays it when
    /// it connects, and it is then delivered or held by its state.
    Queued,
}

/// The answer to a ping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PingSent {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    /// The recipient's name as the team knows it.
    pub to: String,
    /// Whether the ping travels as urgent (false when the budget was spent).
    pub urgent: bool,
    pub outcome: PingOutcome,
}

/// A ping as the recipient's Weft receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {
    /// Increases per server; the client resumes the stream after the last one it committed.
    pub id: i64,
    /// The sender's name.
    pub from: String,
    pub text: String,
    /// Urgent and within the sender's budget: it breaks through focus.
    pub urgent: bool,
    /// When the server accepted it (RFC 3339, UTC).
    #[serde(with = "crate::time")]
    pub sent_at: DateTime<Utc>,
}

/// One message on the live stream (`GET /v1/teams/{team}/events?after_ping=ID`, Server-Sent
/// Events whose `event:` is the type and whose `data:` is this value as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncEvent {
    /// The whole team: always the first event of a stream.
    Snapshot(TeamView),
    /// A member joined, shared a new status, or came online or went offline.
    Member(Member),
    /// A ping for the stream's member (never sent to anyone else).
    Ping(Ping),
    /// A member left the team (or an admin removed it): it is no longer listed.
    Left { id: i64, name: String },
}

impl SyncEvent {
    /// Every event type, as the SSE `event:` field names it.
    pub const KINDS: [&'static str; 4] = ["snapshot", "member", "ping", "left"];

    /// This event's type, as the SSE `event:` field names it.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncEvent::Snapshot(_) => "snapshot",
            SyncEvent::Member(_) => "member",
            SyncEvent::Ping(_) => "ping",
            SyncEvent::Left { .. } => "left",
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A stable code: `bad_request`, `clock_skew` (the client's clock is more than a minute
    /// off the server's: the message says by how much), `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `too_large`, `rate_limited`, `method_not_allowed`, `internal`.
    pub error: String,
    /// A sentence for people.
    pub message: String,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `"ok"`.
    pub status: String,
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn events_are_tagged_by_type() {
        let event = SyncEvent::Ping(Ping {
            id: 7,
            from: "Ana".into(),
            text: "review?".into(),
            urgent: false,
            sent_at: Utc
                .with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
                .single()
                .unwrap_or_default(),
        });
        let json = serde_json::to_string(&event).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"type":"ping","id":7,"from":"Ana","text":"review?","urgent":false,"sent_at":"2026-11-24T09:00:00.000Z"}"#
        );
        let outcome = PingOutcome::Held {
            until: None,
            over_budget: true,
        };
        assert_eq!(
            serde_json::to_string(&outcome).unwrap_or_default(),
            r#"{"outcome":"held","until":null,"over_budget":true}"#
        );
    }

    #[test]
    fn an_event_s_kind_is_its_json_type() {
        let left = SyncEvent::Left {
            id: 3,
            name: "Ana".into(),
        };
        let json = serde_json::to_value(&left).unwrap_or_default();
        assert_eq!(json["type"], left.kind());
        assert!(SyncEvent::KINDS.contains(&left.kind()));
    }

    #[test]
    fn requests_refuse_unknown_fields() {
        let refused = |json: &str| {
            serde_json::from_str::<StatusUpdate>(json)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let mood =
            refused(r#"{"seq":1,"state":"focus","since":"2026-11-24T09:00:00Z","mood":"grumpy"}"#);
        assert!(mood.starts_with("unknown field `mood`"), "{mood}");
        let ok: Result<StatusUpdate, _> =
            serde_json::from_str(r#"{"seq":1,"state":"focus","since":"2026-11-24T09:00:00Z"}"#);
        assert!(matches!(
            ok,
            Ok(StatusUpdate {
                until: None,
                intent: None,
                ..
            })
        ));
        let negative = refused(r#"{"seq":-1,"state":"focus","since":"2026-11-24T09:00:00Z"}"#);
        assert!(
            negative.starts_with("invalid value: integer `-1`"),
            "{negative}"
        );
    }
}

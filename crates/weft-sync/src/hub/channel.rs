//! A team's bounded broadcast channel as the hub publishes on it: plain typed events, each
//! with who may see it, and what a stream takes when it subscribes.
//!
//! The hub knows nothing of the wire format: [`crate::events`] turns a [`Published`] event
//! into its SSE frame, once, the first time a stream sends it, and every other stream shares
//! those [`Bytes`].

use super::Hub;
use bytes::Bytes;
use std::sync::{Arc, OnceLock};
use tokio::sync::broadcast;
use weft_proto::sync::{SyncEvent, TeamView};

/// One event on a team's channel.
#[derive(Debug)]
pub struct Published {
    /// The only member that may see it (pings), or `None` for the whole team.
    to: Option<i64>,
    event: SyncEvent,
    /// The event as streams send it, made by the first stream that sends it.
    encoded: OnceLock<Bytes>,
}

impl Published {
    /// An event for the whole team.
    pub fn to_team(event: SyncEvent) -> Published {
        Published {
            to: None,
            event,
            encoded: OnceLock::new(),
        }
    }

    /// An event only `member` may see.
    pub fn to_member(member: i64, event: SyncEvent) -> Published {
        Published {
            to: Some(member),
            ..Published::to_team(event)
        }
    }

    /// The only member that may see it, or `None` for the whole team.
    pub fn to(&self) -> Option<i64> {
        self.to
    }

    /// The ping's id (0 for other events).
    pub fn ping_id(&self) -> i64 {
        match &self.event {
            SyncEvent::Ping(ping) => ping.id,
            _ => 0,
        }
    }

    /// The member whose streams end after this event (it left the team).
    pub fn ends(&self) -> Option<i64> {
        match &self.event {
            SyncEvent::Left { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The event encoded by `encode`, which runs once per event: every later call (by any
    /// stream) shares the same bytes.
    pub fn encoded(&self, encode: impl FnOnce(&SyncEvent) -> Bytes) -> Bytes {
        self.encoded.get_or_init(|| encode(&self.event)).clone()
    }
}

/// What [`Hub::subscribe`] hands the stream.
pub struct Subscription {
    pub rx: broadcast::Receiver<Arc<Published>>,
    pub snapshot: TeamView,
    pub guard: OnlineGuard,
}

/// Keeps a member online while a stream is open; dropping it may take the member offline.
pub struct OnlineGuard {
    pub(super) hub: Arc<Hub>,
    pub(super) member: i64,
}

impl Drop for OnlineGuard {
    fn drop(&mut self) {
        let mut view = self.hub.write();
        if let Some(member) = view.members.get_mut(&self.member) {
            member.online = member.online.saturating_sub(1);
            if member.online == 0 {
                view.fan_out_member(self.member);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn an_event_is_encoded_once_and_the_bytes_shared() {
        let left = Published::to_team(SyncEvent::Left {
            id: 4,
            name: "Bo".into(),
        });
        let calls = Cell::new(0);
        let encode = |event: &SyncEvent| {
            calls.set(calls.get() + 1);
            Bytes::from(event.kind().to_string())
        };
        let first = left.encoded(encode);
        let second = left.encoded(encode);
        assert_eq!(calls.get(), 1);
        assert_eq!(first, "left");
        assert_eq!(first.as_ptr(), second.as_ptr(), "one buffer, shared");
        assert_eq!((left.to(), left.ends(), left.ping_id()), (None, Some(4), 0));
    }

    #[test]
    fn a_ping_is_for_its_recipient_only() -> Result<(), serde_json::Error> {
        // From JSON, so the test does not depend on how the wire type holds its time.
        let ping = serde_json::from_str(
            r#"{"id":12,"from":"Ana","text":"hi","urgent":false,"sent_at":"2026-11-30T16:10:00Z"}"#,
        )?;
        let ping = Published::to_member(7, SyncEvent::Ping(ping));
        assert_eq!(
            (ping.to(), ping.ends(), ping.ping_id()),
            (Some(7), None, 12)
        );
        Ok(())
    }
}

//! The live stream (`GET /v1/teams/{team}/events`): a snapshot, the kept pings after
//! `after_ping`, then the team's live events, with keep-alive comments.
//!
//! Each stream reads its team's bounded broadcast channel of typed events
//! ([`crate::hub::Published`]) and turns them into SSE frames: each event is serialised once,
//! by the first stream that sends it, and the frame is shared as [`Bytes`] by every other
//! stream (this module depends on the hub, never the reverse). A subscriber that falls more than
//! the channel's capacity behind is ended (its client reconnects and gets a fresh snapshot),
//! so a client that never reads cannot make the server buffer without bound (and a socket that
//! accepts no bytes is dropped by [`crate::net`]). Streams end when the server shuts down and
//! when their member leaves the team (after the `left` event that says so).

use crate::hub::{OnlineGuard, Published, Subscription};
use bytes::Bytes;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use tokio::time::{interval_at, Instant, Interval};
use tokio_util::sync::CancellationToken;
use weft_proto::sync::{Ping, SyncEvent};

/// An event as an SSE frame.
pub fn frame(event: &SyncEvent) -> Bytes {
    let kind = event.kind();
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
}

struct StreamState {
    rx: Receiver<Arc<Published>>,
    me: i64,
    backlog: VecDeque<Bytes>,
    last_ping: i64,
    /// The member left: the stream ends after the event that said so.
    done: bool,
    keep_alive: Interval,
    shutdown: CancellationToken,
    _online: OnlineGuard,
}

/// The body of an event stream for `me`, starting with the snapshot and `pings` (the kept
/// pings after `after_ping`); live pings already sent or before `after_ping` are skipped.
pub fn stream(
    subscription: Subscription,
    me: i64,
    after_ping: i64,
    pings: Vec<Ping>,
    keep_alive: Duration,
    shutdown: CancellationToken,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let mut backlog = VecDeque::with_capacity(pings.len() + 1);
    backlog.push_back(frame(&SyncEvent::Snapshot(subscription.snapshot)));
    let last_ping = pings.last().map_or(after_ping, |p| p.id.max(after_ping));
    backlog.extend(pings.into_iter().map(|p| frame(&SyncEvent::Ping(p))));
    let state = StreamState {
        rx: subscription.rx,
        me,
        backlog,
        last_ping,
        done: false,
        keep_alive: interval_at(Instant::now() + keep_alive, keep_alive),
        shutdown,
        _online: subscription.guard,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if let Some(bytes) = st.backlog.pop_front() {
            return Some((Ok(bytes), st));
        }
        if st.done {
            return None;
        }
        loop {
            tokio::select! {
                _ = st.shutdown.cancelled() => return None,
                _ = st.keep_alive.tick() => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), st));
                }
                received = st.rx.recv() => match received {
                    Ok(published) => {
                        if let Some(to) = published.to() {
                            if to != st.me || published.ping_id() <= st.last_ping {
                                continue;
                            }
                        }
                        if published.ends() == Some(st.me) {
                            st.done = true;
                        }
                        return Some((Ok(published.encoded(frame)), st));
                    }
                    Err(RecvError::Lagged(missed)) => {
                        log::info!("member {}'s stream fell {missed} events behind; ending it", st.me);
                        return None;
                    }
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    })
}

//! A status the server refused, shown in place of the connection's state until a status is
//! taken, and the wait before a status refused for a wrong clock is sent again.

use super::wait_timeout;
use crate::team::{Shared, Team};
use std::time::{Duration, Instant};
use weft_proto::Connection;

/// How soon a status refused for a wrong clock is sent again.
pub(super) const CLOCK_RETRY: Duration = Duration::from_secs(60);

/// A refused status, shown as the connection's state, and the state it took the place of.
pub(super) struct RefusedShown {
    generation: u64,
    message: String,
    replaced: Option<Connection>,
}

impl Team {
    /// Shows why the server refused the status (in place of the connection's state, which
    /// comes back once a status is taken), with when it is tried again.
    pub(super) fn status_refused(
        &self,
        generation: u64,
        message: String,
        retry: Option<Duration>,
        shown: &mut Option<RefusedShown>,
    ) {
        let retry_at =
            retry.map(|d| chrono::Utc::now() + chrono::Duration::from_std(d).unwrap_or_default());
        let next = Some(Connection::Offline {
            message: message.clone(),
            retry_at,
        });
        let earlier = shown.take();
        let mut changed = false;
        self.update(generation, |shared| {
            let replaced = match earlier {
                Some(e) if e.generation == generation && showing(shared, &e.message) => e.replaced,
                _ => shared.connection.clone(),
            };
            *shown = Some(RefusedShown {
                generation,
                message,
                replaced,
            });
            changed = shared.connection != next;
            shared.connection = next;
        });
        if changed {
            self.changed();
        }
    }

    /// A status was taken: what a refusal showed goes, unless something else was shown since.
    pub(super) fn status_accepted(&self, generation: u64, shown: &mut Option<RefusedShown>) {
        let Some(refused) = shown.take() else { return };
        let mut changed = false;
        self.update(generation, |shared| {
            if refused.generation == generation && showing(shared, &refused.message) {
                shared.connection = refused.replaced;
                changed = true;
            }
        });
        if changed {
            self.changed();
        }
    }
}

/// Waits [`CLOCK_RETRY`], or less if a push is asked for meanwhile (a switch, whose time may
/// be right now, or a new stream whose snapshot shows the server without this status), or the
/// membership ends.
pub(super) fn wait_for_clock(team: &Team, generation: u64) {
    let deadline = Instant::now() + CLOCK_RETRY;
    let mut shared = team.lock();
    while Instant::now() < deadline
        && shared.is_live(generation)
        && !(shared.push_due && shared.push_not_before.is_none())
    {
        let left = deadline.saturating_duration_since(Instant::now());
        shared = wait_timeout(team, shared, left);
    }
}

/// Whether the connection's state is still this message.
fn showing(shared: &Shared, message: &str) -> bool {
    matches!(&shared.connection, Some(Connection::Offline { message: m, .. }) if m == message)
}

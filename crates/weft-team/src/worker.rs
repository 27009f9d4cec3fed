//! The team client's two threads: the pusher (status out) and the stream (team and pings in).
//! Both retry with a capped, jittered exponential backoff while the server is unreachable.

use crate::membership::Stored;
use crate::team::{Shared, Team};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_proto::sync::{Member, StatusUpdate, SyncEvent};
use weft_proto::Connection;
use weft_sync_client::{Client, Error as ClientError, Frame};

mod refused;
use refused::{wait_for_clock, RefusedShown, CLOCK_RETRY};

/// The first retry after a failure; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Capped exponential backoff with jitter, so a team's clients do not reconnect in step.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    failures: u32,
}

impl Backoff {
    pub(crate) fn next(&mut self) -> Duration {
        let doubled = FIRST_BACKOFF.saturating_mul(1 << self.failures.min(8));
        self.failures = self.failures.saturating_add(1);
        let base = doubled.min(MAX_BACKOFF);
        // Up to a quarter more, from the clock's low bits (good enough to spread retries).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }

    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

pub(crate) fn spawn_pusher(team: &Arc<Team>) {
    let team = team.clone();
    let spawned = std::thread::Builder::new()
        .name("team-push".into())
        .spawn(move || push_loop(&team));
    if let Err(e) = spawned {
        log::error!("cannot start the team pusher: {e}");
    }
}

pub(crate) fn spawn_stream(team: &Arc<Team>, generation: u64) {
    let team = team.clone();
    let spawned = std::thread::Builder::new()
        .name("team-stream".into())
        .spawn(move || stream_loop(&team, generation));
    if let Err(e) = spawned {
        log::error!("cannot start the team stream: {e}");
    }
}

/// Waits for a due push, sends the status of the moment, and retries on failure.
fn push_loop(team: &Arc<Team>) {
    let mut backoff = Backoff::default();
    let mut refused: Option<RefusedShown> = None;
    loop {
        let (stored, generation) = {
            let mut shared = team.lock();
            loop {
                if shared.stopping {
                    return;
                }
                let due = shared.push_due && !shared.refused && shared.membership.is_some();
                match (due, shared.push_not_before) {
                    (true, Some(at)) if at > Instant::now() => {
                        let wait = at.saturating_duration_since(Instant::now());
                        shared = wait_timeout(team, shared, wait);
                    }
                    (true, _) => break,
                    (false, _) => {
                        shared = team.wake.wait(shared).unwrap_or_else(|p| p.into_inner());
                    }
                }
            }
            shared.push_due = false;
            shared.push_not_before = None;
            (shared.membership.clone(), shared.generation)
        };
        let Some(stored) = stored else { continue };
        // The host is gone: Weft is stopping.
        let Ok(host) = team.host() else { return };
        let status = host.status();
        let seq = match host.next_seq() {
            Ok(seq) => seq,
            Err(e) => {
                let delay = backoff.next();
                log::error!("cannot number the status to share ({e}); retrying in {delay:?}");
                team.push_again(generation, Some(delay));
                continue;
            }
        };
        let update = StatusUpdate {
            seq,
            state: status.state,
            since: status.since,
            until: status.until,
            intent: status.intent.filter(|_| stored.share_intent),
        };
        let client = match Client::new(&stored.server) {
            Ok(c) => c.with_token(&stored.token),
            Err(e) => {
                team.fail(generation, &e.to_string(), None);
                continue;
            }
        };
        match client.put_status(stored.team.id, stored.member_id, &update) {
            Ok(ack) => {
                backoff.reset();
                team.status_accepted(generation, &mut refused);
                if !ack.applied && ack.seq >= seq {
                    // The server has a newer number (this Weft's log was replaced): catch up
                    // and send again.
                    log::info!("the server was at seq {}; sending again above it", ack.seq);
                    match host.raise_seq(ack.seq) {
                        Ok(()) => team.push_again(generation, None),
                        Err(e) => {
                            let delay = backoff.next();
                            log::error!(
                                "cannot note the server's seq ({e}); retrying in {delay:?}"
                            );
                            team.push_again(generation, Some(delay));
                        }
                    }
                } else {
                    log::debug!("status shared (seq {seq})");
                }
            }
            Err(e) if e.is_auth() => team.refuse(generation, Refusal::of(&e)),
            Err(ClientError::RateLimited { retry_after }) => {
                team.push_again(generation, Some(Duration::from_secs(retry_after.max(1))));
            }
            Err(ClientError::ClockSkew(why)) => {
                // This computer's clock is off the server's. It may be set right at any
                // moment (NTP, or by hand): say so where people look, and try again.
                log::error!("the sync server refused the status: {why}");
                let message = format!("your status was not shared: {why}");
                team.status_refused(generation, message, Some(CLOCK_RETRY), &mut refused);
                wait_for_clock(team, generation);
                team.push_again(generation, None);
            }
            Err(e @ ClientError::Refused { status, .. }) if status != 408 && status < 500 => {
                // The server will refuse the same status again: do not loop on it, but say
                // so where people look (until a later status is taken).
                log::error!("the sync server refused the status: {e}");
                let message = format!("your status was not shared: {e}");
                team.status_refused(generation, message, None, &mut refused);
            }
            Err(e) => {
                let delay = backoff.next();
                log::warn!("could not share the status ({e}); retrying in {delay:?}");
                team.push_again(generation, Some(delay));
            }
        }
    }
}

/// Why a live stream ended.
enum Ended {
    /// The server closed it.
    Closed,
    /// It failed, or could not be opened (the server or the network).
    Failed(ClientError),
    /// It was answered, but nothing ever came through it: most likely a reverse proxy in
    /// between holds it back in a buffer.
    NothingCame(ClientError),
    /// This side could not go on (the log could not be read or written).
    Local(String),
    /// The server's database is a new one: resume from its first ping, at once.
    NewInstance,
    /// A newer membership took over, or Weft is stopping.
    Superseded,
    /// The server says this member left the team (its own leave, or its admin's removal).
    Removed,
}

/// Why the server no longer takes this membership. Several threads can learn it at once (the
/// pusher's 401, the stream's `left` event, the stream's 401 on reconnecting), in any order:
/// each maps what it saw to one of these, so what the person is told does not depend on which
/// thread was first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The member is gone from the server: a `left` event for this member, or a 401 (the
    /// token is unknown: removed by the admin, or the server's data was reset).
    Removed,
    /// The server knows the token but refuses this membership (403), with its reason.
    Forbidden(String),
}

impl Refusal {
    /// What an authorisation error from the server means for the membership.
    pub(crate) fn of(e: &ClientError) -> Refusal {
        match e {
            ClientError::Refused { status: 403, .. } => Refusal::Forbidden(e.to_string()),
            _ => Refusal::Removed,
        }
    }

    /// The sentence shown as the connection's state (the same for every path to it).
    pub(crate) fn message(&self) -> String {
        match self {
            Refusal::Removed => "this member was removed from the team: the sync server no longer knows it (its admin removed it, or the server's data was reset). Leave the team and join again with a new invite".to_owned(),
            Refusal::Forbidden(why) => {
                format!("{why}. Leave the team and join again with a new invite")
            }
        }
    }
}

/// How long a stream must stay up before its backoff starts again from the shortest wait, so
/// a server that drops every stream right after its snapshot is not hammered.
const STABLE: Duration = Duration::from_secs(30);

/// Follows the live stream of one membership until it is replaced or Weft stops.
fn stream_loop(team: &Arc<Team>, generation: u64) {
    let mut backoff = Backoff::default();
    loop {
        let Some(stored) = team.current(generation) else {
            return;
        };
        // The host is gone: Weft is stopping.
        let Ok(host) = team.host() else { return };
        let ended = match host.cursors() {
            Ok(cursors) => {
                fill_from_team(team, &stored, generation);
                let opened = Client::new(&stored.server)
                    .map(|c| c.with_token(&stored.token))
                    .and_then(|c| c.events(stored.team.id, cursors.ping_cursor));
                match opened {
                    Ok(events) => follow(
                        team,
                        host.as_ref(),
                        &stored,
                        generation,
                        &cursors,
                        events,
                        &mut backoff,
                    ),
                    Err(e) => Ended::Failed(e),
                }
            }
            Err(e) => Ended::Local(format!("the team's cursors could not be read: {e}")),
        };
        // Not held through the wait below, so a stopping Weft is not kept alive by it.
        drop(host);
        let message = match ended {
            Ended::Superseded => return,
            Ended::NewInstance => continue,
            Ended::Removed => {
                team.refuse(generation, Refusal::Removed);
                return;
            }
            Ended::Failed(e) if e.is_auth() => {
                team.refuse(generation, Refusal::of(&e));
                return;
            }
            Ended::Failed(e) => e.to_string(),
            Ended::NothingCame(e) => format!(
                "{e}; nothing came through the live stream at all, so a reverse proxy in between may be buffering it (see \"weft-sync behind a reverse proxy\" in Weft's README)"
            ),
            Ended::Local(why) => why,
            Ended::Closed => format!(
                "the sync server at {} closed the live stream",
                stored.server
            ),
        };
        let delay = backoff.next();
        log::warn!("team stream: {message}; reconnecting in {delay:?}");
        team.fail(generation, &message, Some(delay));
        // Switches and the pusher wake the same condition variable: wait out the whole delay
        // unless this membership ends.
        let deadline = Instant::now() + delay;
        let mut shared = team.lock();
        while Instant::now() < deadline && !shared.stopping && shared.generation == generation {
            let left = deadline.saturating_duration_since(Instant::now());
            shared = wait_timeout(team, shared, left);
        }
    }
}

/// While the live stream is not live (before each attempt to open it), the team list comes
/// from a plain `GET /v1/teams/{team}`, so it is never empty: behind a proxy that buffers the
/// stream, say. The connection's state is left as it is (it is not live); a failure here
/// changes nothing, as the stream's own attempt says what is wrong.
fn fill_from_team(team: &Team, stored: &Stored, generation: u64) {
    let view = Client::new(&stored.server)
        .map(|c| c.with_token(&stored.token))
        .and_then(|c| c.team(stored.team.id));
    match view {
        Ok(view) => {
            let mut differs = false;
            team.update(generation, |shared| {
                differs = shared.members != view.members;
                shared.members = view.members;
            });
            if differs {
                team.changed();
            }
        }
        Err(e) => log::debug!("the team could not be read either: {e}"),
    }
}

/// Applies one stream's events until it ends.
fn follow(
    team: &Arc<Team>,
    host: &dyn crate::Host,
    stored: &Stored,
    generation: u64,
    cursors: &weft_core::store::TeamCursors,
    mut events: weft_sync_client::Events,
    backoff: &mut Backoff,
) -> Ended {
    let opened = Instant::now();
    // The server's database id, from the snapshot (the first event); part of each ping's key.
    let mut instance = String::new();
    let mut heard = false;
    while let Some(frame) = events.next_frame() {
        let frame = match frame {
            Ok(frame) => frame,
            // The stream was answered but nothing ever came through it: most likely a
            // reverse proxy holds it back in a buffer.
            Err(e @ ClientError::Unreachable(_)) if !heard => return Ended::NothingCame(e),
            Err(e) => return Ended::Failed(e),
        };
        heard = true;
        // A newer membership took over (or Weft is stopping): checked at every event and
        // keep-alive, so a left team's stream ends within a keep-alive interval.
        if team.current(generation).is_none() {
            return Ended::Superseded;
        }
        if opened.elapsed() >= STABLE {
            backoff.reset();
        }
        let Frame::Event(event) = frame else {
            continue;
        };
        match event {
            SyncEvent::Snapshot(view) => {
                if cursors.instance.as_deref() != Some(&view.instance) {
                    let resumed = cursors.ping_cursor > 0;
                    if let Err(e) = host.set_instance(&view.instance) {
                        return Ended::Local(format!("cannot note the server's database id: {e}"));
                    }
                    if resumed {
                        log::warn!(
                            "the sync server's database is new; resuming from its first ping"
                        );
                        return Ended::NewInstance;
                    }
                }
                instance = view.instance;
                // The number of the moment: the pusher may have used some since the stream opened.
                let local = match host.cursors() {
                    Ok(now) => now.seq,
                    Err(e) => {
                        return Ended::Local(format!("the team's cursors could not be read: {e}"))
                    }
                };
                let mine = view.members.iter().find(|m| m.id == view.me);
                let server_seq = mine.map_or(0, |m| m.seq);
                if server_seq > local {
                    // Not noted: the next push is answered with the server's number, and the
                    // pusher catches up then.
                    if let Err(e) = host.raise_seq(server_seq) {
                        log::error!("cannot note the server's seq {server_seq}: {e}");
                    }
                }
                // The server misses the last status sent (or has none): send it again now.
                // A push still due from the outage goes out now too.
                let missed = server_seq < local || mine.is_none_or(|m| m.state.is_none());
                let current = team.update(generation, |shared| {
                    shared.members = view.members;
                    shared.connection = Some(Connection::Online);
                    if missed {
                        shared.push_due = true;
                    }
                    if shared.push_due {
                        shared.push_not_before = None;
                    }
                });
                if !current {
                    return Ended::Superseded;
                }
                team.wake.notify_all();
                log::info!("team stream connected");
                team.changed();
            }
            SyncEvent::Member(member) => {
                if !team.update(generation, |shared| upsert(&mut shared.members, member)) {
                    return Ended::Superseded;
                }
                team.changed();
            }
            // This member was removed (by its own leave, or by the server's admin): the
            // token is gone, so stop here; a leave under way clears the membership next.
            SyncEvent::Left { id, .. } if id == stored.member_id => return Ended::Removed,
            SyncEvent::Left { id, name } => {
                log::info!("{name:?} left the team");
                if !team.update(generation, |shared| shared.members.retain(|m| m.id != id)) {
                    return Ended::Superseded;
                }
                team.changed();
            }
            SyncEvent::Ping(ping) => {
                match team.receive(stored, &instance, &ping) {
                    Ok(()) => {}
                    // A ping the policy refuses would be refused again: skip it.
                    Err(e @ weft_core::Error::Refused(_)) => {
                        log::error!("a ping from {:?} was refused and skipped: {e}", ping.from);
                    }
                    // Not saved: the ping comes again on the next connection.
                    Err(e) => {
                        log::error!("a ping from {:?} could not be filed: {e}", ping.from);
                        return Ended::Local(format!("a ping could not be filed: {e}"));
                    }
                }
                // Filed once by its key, so a cursor not saved only costs a second look.
                if let Err(e) = host.set_ping_cursor(ping.id) {
                    log::error!("the ping cursor was not saved: {e}");
                }
            }
        }
    }
    Ended::Closed
}

fn upsert(members: &mut Vec<Member>, member: Member) {
    match members.iter_mut().find(|m| m.id == member.id) {
        Some(known) => *known = member,
        None => {
            members.push(member);
            members.sort_by_key(|m| m.name.to_lowercase());
        }
    }
}

fn wait_timeout<'a>(
    team: &'a Team,
    shared: std::sync::MutexGuard<'a, Shared>,
    wait: Duration,
) -> std::sync::MutexGuard<'a, Shared> {
    match team.wake.wait_timeout(shared, wait) {
        Ok((guard, _)) => guard,
        Err(p) => p.into_inner().0,
    }
}

impl Team {
    /// The membership, if `generation` is still the current one, the server has not refused
    /// it, and Weft is not stopping.
    fn current(&self, generation: u64) -> Option<Stored> {
        let shared = self.lock();
        if !shared.is_live(generation) {
            return None;
        }
        shared.membership.clone()
    }

    /// Changes the shared state for `generation`'s membership; does nothing (and returns
    /// false) when that membership has since been left, replaced or refused. So once one
    /// thread learned that the server refuses the membership, no other thread's late news
    /// (a stream's snapshot, a failed reconnect) can change what is shown.
    fn update(&self, generation: u64, change: impl FnOnce(&mut Shared)) -> bool {
        let mut shared = self.lock();
        if !shared.is_live(generation) {
            return false;
        }
        change(&mut shared);
        true
    }

    fn push_again(&self, generation: u64, after: Option<Duration>) {
        let updated = self.update(generation, |shared| {
            shared.push_due = true;
            shared.push_not_before = after.map(|d| Instant::now() + d);
        });
        if updated {
            self.wake.notify_all();
        }
    }

    /// The server cannot be reached (or refused a status): say so, with when the next try is.
    fn fail(&self, generation: u64, message: &str, retry: Option<Duration>) {
        let retry_at =
            retry.map(|d| chrono::Utc::now() + chrono::Duration::from_std(d).unwrap_or_default());
        let next = Some(Connection::Offline {
            message: message.to_owned(),
            retry_at,
        });
        let mut changed = false;
        self.update(generation, |shared| {
            changed = shared.connection != next;
            shared.connection = next;
        });
        if changed {
            self.changed();
        }
    }

    /// The server refused this membership: stop until a new join. The first refusal of a
    /// membership is the one shown; a later one (another thread learning the same fact) changes
    /// nothing, so the message never flips.
    fn refuse(&self, generation: u64, refusal: Refusal) {
        let message = refusal.message();
        let first = self.update(generation, |shared| {
            shared.refused = true;
            shared.connection = Some(Connection::Offline {
                message: message.clone(),
                retry_at: None,
            });
        });
        if first {
            log::error!("the sync server refused this membership: {message}");
            self.changed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_resets() {
        let mut backoff = Backoff::default();
        let first = backoff.next();
        assert!(first >= FIRST_BACKOFF && first <= FIRST_BACKOFF.mul_f64(1.25));
        let second = backoff.next();
        assert!(second >= FIRST_BACKOFF * 2);
        for _ in 0..20 {
            assert!(backoff.next() <= MAX_BACKOFF.mul_f64(1.25));
        }
        backoff.reset();
        assert!(backoff.next() <= FIRST_BACKOFF.mul_f64(1.25));
    }

    /// A team client with a membership, a fake host and no threads.
    fn joined() -> Team {
        let stored = Stored {
            server: "http://127.0.0.1:9".into(),
            token: "wft_test".into(),
            team: weft_proto::sync::TeamRef {
                id: 1,
                name: "Core".into(),
            },
            member_id: 7,
            name: "Ana".into(),
            share_intent: false,
        };
        let host: Arc<dyn crate::Host> = Arc::new(crate::fake::FakeHost::default());
        let mut team = Team::new(
            "/nonexistent/team.json".into(),
            Arc::downgrade(&host),
            Some(stored),
            None,
        );
        if let Ok(shared) = team.shared.get_mut() {
            shared.push_due = false;
        }
        team
    }

    fn unauthorized() -> ClientError {
        ClientError::Refused {
            status: 401,
            code: "unauthorized".into(),
            message: "this token is not known to the server; join the team again".into(),
        }
    }

    fn shown(team: &Team) -> Connection {
        team.info().connection
    }

    #[test]
    fn a_removal_reads_the_same_whichever_thread_learns_it_first() {
        // The stream's `left` first, then the pusher's 401.
        let left_first = joined();
        left_first.refuse(0, Refusal::Removed);
        left_first.refuse(0, Refusal::of(&unauthorized()));
        // The pusher's 401 first, then the stream's `left`.
        let auth_first = joined();
        auth_first.refuse(0, Refusal::of(&unauthorized()));
        auth_first.refuse(0, Refusal::Removed);
        assert_eq!(shown(&left_first), shown(&auth_first));
        match shown(&auth_first) {
            Connection::Offline {
                message,
                retry_at: None,
            } => assert!(message.contains("removed from the team"), "{message}"),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn nothing_a_late_thread_learns_changes_a_refusal() {
        let team = joined();
        team.refuse(0, Refusal::of(&unauthorized()));
        let refused = shown(&team);
        // The stream's reconnect failing, a snapshot arriving, a 403 from another call: none
        // of them may replace what the person was told, nor wake the pusher.
        team.fail(
            0,
            "the sync server closed the live stream",
            Some(FIRST_BACKOFF),
        );
        assert!(!team.update(0, |shared| shared.connection = Some(Connection::Online)));
        team.refuse(
            0,
            Refusal::of(&ClientError::Refused {
                status: 403,
                code: "forbidden".into(),
                message: "another team".into(),
            }),
        );
        team.push_again(0, None);
        assert_eq!(shown(&team), refused);
        assert!(team.current(0).is_none());
        assert!(!team.lock().push_due);
    }

    #[test]
    fn a_forbidden_membership_keeps_the_server_reason() {
        let team = joined();
        team.refuse(
            0,
            Refusal::of(&ClientError::Refused {
                status: 403,
                code: "forbidden".into(),
                message: "not your team".into(),
            }),
        );
        match shown(&team) {
            Connection::Offline { message, .. } => {
                assert!(message.contains("not your team"), "{message}");
                assert!(!message.contains("removed"), "{message}");
            }
            other => panic!("not refused: {other:?}"),
        }
    }
}

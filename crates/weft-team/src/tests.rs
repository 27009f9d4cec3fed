//! The team client against a fake host (a status, pings filed by key, cursors in memory) and
//! a real sync server in this process on 127.0.0.1:0. No `Weft`, no window: what the team
//! asks of its host is all it gets.

use crate::fake::FakeHost;
use crate::{membership, Team};
use std::sync::Arc;
use std::time::Duration;
use weft_core::testing::wait_for;

/// How long a test waits for the server or the team client.
const WAIT: Duration = Duration::from_secs(20);
use weft_proto::sync::{Member, PingRequest};
use weft_proto::{Connection, State, Status, TeamInfo};
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::Client;

type R = Result<(), Box<dyn std::error::Error>>;

/// A team client on a fake host, joined to a new team "Core" as Ana, and a teammate Bo
/// reduced to a client.
struct Joined {
    server: TestServer,
    host: Arc<FakeHost>,
    team: Arc<Team>,
    mate: Client,
    team_id: i64,
    _dir: tempfile::TempDir,
}

fn joined() -> Result<Joined, Box<dyn std::error::Error>> {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    let dir = tempfile::tempdir()?;
    let host = Arc::new(FakeHost::default());
    let team = Team::start(membership::file(dir.path()), &host);
    team.join(&server.url, &invite, "Ana", false)?;
    wait_for("the stream", WAIT, || {
        (team.info().connection == Connection::Online).then_some(())
    })?;
    let mate = Client::new(&server.url)?;
    let bo = mate.join(&invite, "Bo")?;
    Ok(Joined {
        mate: mate.with_token(&bo.token),
        team_id: bo.team.id,
        server,
        host,
        team,
        _dir: dir,
    })
}

impl Drop for Joined {
    fn drop(&mut self) {
        self.team.stop();
    }
}

impl Joined {
    /// Ana as the server has her.
    fn ana(&self) -> Option<Member> {
        let view = self.mate.team(self.team_id).ok()?;
        view.members.into_iter().find(|m| m.name == "Ana")
    }

    /// The host's status changes as a switch would, and is published to the team.
    fn publish(&self, change: impl FnOnce(&mut Status)) {
        let status = {
            let mut status = self.host.status.lock().unwrap_or_else(|p| p.into_inner());
            change(&mut status);
            status.clone()
        };
        self.team.status_changed(&status);
    }

    fn ping(&self, text: &str) -> Result<i64, Box<dyn std::error::Error>> {
        let sent = self.mate.ping(
            self.team_id,
            &PingRequest {
                to: "ana".into(),
                text: text.into(),
                urgent: false,
            },
        )?;
        Ok(sent.id)
    }
}

#[test]
fn a_change_of_the_shared_part_is_pushed_and_nothing_else_is() -> R {
    let t = joined()?;
    // What a watch gives first: the status of the moment.
    t.publish(|_| {});
    let first = wait_for("Ana's first status", WAIT, || t.ana().filter(|m| m.seq > 0))?;
    assert_eq!(first.state, Some(State::Coordination));

    // Only the held count changes: nothing is shared, so no push is due (once the pusher took
    // the pushes the join and the first status made due).
    wait_for("the pusher to take its pushes", WAIT, || {
        (!t.team.lock().push_due).then_some(())
    })?;
    t.publish(|s| s.held = 3);
    assert!(!t.team.lock().push_due, "a push for an unshared change");
    // A switch: pushed with the next number the host committed.
    t.publish(|s| {
        s.state = State::Focus;
        s.since += chrono::Duration::minutes(1);
    });
    let focus = wait_for("the focus on the server", WAIT, || {
        t.ana().filter(|m| m.state == Some(State::Focus))
    })?;
    // Every number the host committed was sent: the server has the last one.
    assert_eq!(t.host.cursors.lock().map(|c| c.seq).unwrap_or(0), focus.seq);
    // The same shared part again (a degraded part came and went): no push due.
    t.publish(|s| s.held = 0);
    t.publish(|s| s.held = 1);
    assert!(!t.team.lock().push_due, "a push for an unshared change");
    t.publish(|s| {
        s.state = State::Coordination;
    });
    let back = wait_for("coordination on the server", WAIT, || {
        t.ana().filter(|m| m.state == Some(State::Coordination))
    })?;
    assert!(back.seq > focus.seq);
    assert_eq!(t.host.cursors.lock().map(|c| c.seq).unwrap_or(0), back.seq);
    Ok(())
}

#[test]
fn a_number_the_host_cannot_commit_is_never_sent_and_sharing_resumes() -> R {
    let t = joined()?;
    wait_for("Ana's first status", WAIT, || t.ana().filter(|m| m.seq > 0))?;
    *t.host.log_broken.lock().map_err(|_| "poisoned")? = true;
    t.publish(|s| s.state = State::Focus);
    // The pusher retries with backoff; the server keeps the last committed status.
    wait_for("the pusher to try", WAIT, || {
        (t.team.lock().push_not_before.is_some()).then_some(())
    })?;
    // The server never holds a number the host did not commit.
    let committed = t.host.cursors.lock().map(|c| c.seq).unwrap_or(0);
    let held = t.ana().map_or(0, |m| m.seq);
    assert!(
        held <= committed,
        "the server has {held}, the log {committed}"
    );
    assert_ne!(
        t.ana().and_then(|m| m.state),
        Some(State::Focus),
        "the focus was sent without a number"
    );
    *t.host.log_broken.lock().map_err(|_| "poisoned")? = false;
    let focus = wait_for("the focus once the log works", WAIT, || {
        t.ana().filter(|m| m.state == Some(State::Focus))
    })?;
    assert!(focus.seq > committed);
    assert_eq!(t.host.cursors.lock().map(|c| c.seq).unwrap_or(0), focus.seq);
    Ok(())
}

#[test]
fn pings_are_filed_once_by_key_and_a_refused_one_is_skipped() -> R {
    let t = joined()?;
    let first = t.ping("review?")?;
    wait_for("the ping filed", WAIT, || {
        (t.host.filed().len() == 1).then_some(())
    })?;
    let cursor = wait_for("the cursor saved", WAIT, || {
        let c = t.host.cursors.lock().ok()?.ping_cursor;
        (c == first).then_some(c)
    })?;
    let key = t.host.filed().remove(0);
    assert!(key.starts_with(&t.server.url), "{key}");
    assert!(key.contains(&format!("#{first}#")), "{key}");

    // The hold policy refuses the next one: it is skipped, and the cursor moves past it, so
    // a reconnect does not offer it again and again.
    *t.host.refuse_titles_with.lock().map_err(|_| "poisoned")? = Some("Bo".into());
    let refused = t.ping("again")?;
    wait_for("the refused ping skipped", WAIT, || {
        (t.host.cursors.lock().ok()?.ping_cursor == refused).then_some(())
    })?;
    assert_eq!(t.host.filed().len(), 1);
    assert!(refused > cursor);
    Ok(())
}

#[test]
fn a_ping_the_log_cannot_take_comes_again_on_the_next_connection() -> R {
    let t = joined()?;
    *t.host.log_broken.lock().map_err(|_| "poisoned")? = true;
    let id = t.ping("review?")?;
    // Not filed: the stream ends, says why, and reconnects from the old cursor.
    let offline = wait_for("the stream to give up", WAIT, || {
        match t.team.info().connection {
            Connection::Offline { message, .. } => Some(message),
            _ => None,
        }
    })?;
    assert!(offline.contains("a ping could not be filed"), "{offline}");
    assert_eq!(
        t.host.cursors.lock().map(|c| c.ping_cursor).unwrap_or(-1),
        0
    );
    *t.host.log_broken.lock().map_err(|_| "poisoned")? = false;
    wait_for("the ping filed after the reconnect", WAIT, || {
        (t.host.cursors.lock().ok()?.ping_cursor == id).then_some(())
    })?;
    assert_eq!(t.host.filed().len(), 1);
    Ok(())
}

#[test]
fn subscribers_hear_every_change_of_the_team() -> R {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    let dir = tempfile::tempdir()?;
    let host = Arc::new(FakeHost::default());
    let team = Team::start(membership::file(dir.path()), &host);
    let (tell, heard) = std::sync::mpsc::channel();
    team.subscribe(move |info| {
        // The test may have stopped listening: a send that fails tells nothing.
        if tell.send(info.clone()).is_err() {
            log::debug!("nobody listens to the team's changes any more");
        }
    });
    team.join(&server.url, &invite, "Ana", false)?;
    let mate = Client::new(&server.url)?;
    mate.join(&invite, "Bo")?;
    let mut last: Option<TeamInfo> = None;
    wait_for("Bo in what a subscriber heard", WAIT, || {
        for info in heard.try_iter() {
            last = Some(info);
        }
        let info = last.as_ref()?;
        (info.connection == Connection::Online && info.members.iter().any(|m| m.name == "Bo"))
            .then_some(())
    })?;
    // A join resets the host's cursors, and the server's database id is noted.
    let cursors = host.cursors.lock().map_err(|_| "poisoned")?.clone();
    assert!(cursors.instance.is_some());
    let left = team.leave(false)?;
    assert_eq!(left.connection, Connection::NotJoined);
    wait_for("the leave heard", WAIT, || {
        heard
            .try_iter()
            .any(|info| info.membership.is_none())
            .then_some(())
    })?;
    team.stop();
    Ok(())
}

//! The team client against a real sync server in this process (on 127.0.0.1:0): sharing a
//! switch, a ping through the hold policy, leaving and joining again (the old membership's
//! threads must not touch the new one), and leaving while the server is down. No window.

use std::sync::Arc;
use weft_core::testing::wait_for;

use weft_core::clock::SystemClock;
use weft_proto::sync::{PingOutcome, PingRequest, SyncEvent};
use weft_proto::{Connection, Source, State, Target};
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::Client;

mod common;
use common::{local, Local, R, WAIT};

fn online(local: &Local) -> Result<(), weft_core::testing::TimedOut> {
    wait_for("the team stream", WAIT, || {
        (local.team.info().connection == Connection::Online).then_some(())
    })
}

#[test]
fn a_switch_is_shared_and_a_ping_meets_the_hold_policy() -> R {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    let ana = local(Arc::new(SystemClock))?;
    ana.team.join(&server.url, &invite, "Ana", false)?;
    online(&ana)?;

    // A teammate reduced to a client.
    let mate = Client::new(&server.url)?;
    let bo = mate.join(&invite, "Bo")?;
    let mate = mate.with_token(&bo.token);
    ana.weft
        .switch(Target::Focus, Source::Cli, Some("parser"))?;
    let seen = wait_for("Ana's focus on the server", WAIT, || {
        let view = mate.team(bo.team.id).ok()?;
        let seen = view.members.into_iter().find(|m| m.name == "Ana")?;
        (seen.state == Some(State::Focus)).then_some(seen)
    })?;
    assert_eq!(seen.intent, None, "the intent is shared only when opted in");
    ana.team.share(true)?;
    wait_for("the intent, once opted in", WAIT, || {
        let view = mate.team(bo.team.id).ok()?;
        let seen = view.members.into_iter().find(|m| m.name == "Ana")?;
        (seen.intent.as_deref() == Some("parser")).then_some(())
    })?;

    // Bo's ping lands in Ana's hold policy: she is focusing, so it is held.
    let sent = mate.ping(
        bo.team.id,
        &PingRequest {
            to: "ana".into(),
            text: "review?".into(),
            urgent: false,
        },
    )?;
    assert!(matches!(sent.outcome, PingOutcome::Held { .. }), "{sent:?}");
    wait_for("the ping held", WAIT, || {
        (ana.weft.status().held == 1).then_some(())
    })?;
    let inbox = ana.weft.inbox()?;
    assert_eq!(inbox[0].title, "Ping from Bo");
    assert_eq!(inbox[0].body, "review?");
    assert_eq!(inbox[0].from.as_deref(), Some("Bo"));
    Ok(())
}

#[test]
fn leaving_and_joining_again_starts_clean() -> R {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    let ana = local(Arc::new(SystemClock))?;
    ana.team.join(&server.url, &invite, "Ana", false)?;
    online(&ana)?;
    assert!(
        matches!(
            ana.team.join(&server.url, &invite, "Ana", false),
            Err(weft_team::Error::AlreadyJoined { .. })
        ),
        "one team at a time"
    );

    // Leaving tells the server: the team hears it, and the name is free again.
    let observer = Client::new(&server.url)?;
    let cy = observer.join(&invite, "Cy")?;
    let observer = observer.with_token(&cy.token);
    let mut events = observer.events(cy.team.id, 0)?;
    let left = ana.team.leave(false)?;
    assert_eq!(left.connection, Connection::NotJoined);
    assert!(left.members.is_empty());
    let gone = wait_for("Cy to hear that Ana left", WAIT, || {
        match events.next()? {
            Ok(SyncEvent::Left { name, .. }) => Some(name),
            _ => None,
        }
    })?;
    assert_eq!(gone, "Ana");
    assert!(
        matches!(ana.team.leave(false), Err(weft_team::Error::NotJoined)),
        "not in a team any more"
    );

    // Joining again under the same name shares again; nothing the old membership's threads
    // still do marks the new one refused.
    ana.team.join(&server.url, &invite, "Ana", false)?;
    online(&ana)?;
    ana.weft.switch(Target::Focus, Source::Cli, None)?;
    wait_for("the new membership's status on the server", WAIT, || {
        let view = observer.team(cy.team.id).ok()?;
        let ana = view.members.into_iter().find(|m| m.name == "Ana")?;
        (ana.state == Some(State::Focus)).then_some(())
    })?;
    assert_eq!(ana.team.info().connection, Connection::Online);
    Ok(())
}

#[test]
fn leaving_an_unreachable_server_keeps_the_membership_unless_forced() -> R {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    let ana = local(Arc::new(SystemClock))?;
    ana.team.join(&server.url, &invite, "Ana", false)?;
    drop(server);
    let refused = ana
        .team
        .leave(false)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("still in the team"), "{refused}");
    assert!(ana.team.info().membership.is_some());
    // Switching works with the server gone.
    assert!(ana.weft.switch(Target::Focus, Source::Cli, None)?.switched);
    let forced = ana.team.leave(true)?;
    assert_eq!(forced.connection, Connection::NotJoined);
    assert!(forced.membership.is_none());
    Ok(())
}

#[test]
fn a_member_removed_by_the_admin_stops_and_says_so() -> R {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    let ana = local(Arc::new(SystemClock))?;
    let joined = ana.team.join(&server.url, &invite, "Ana", false)?;
    online(&ana)?;
    let id = joined
        .membership
        .as_ref()
        .map(|m| m.member_id)
        .ok_or("no membership")?;
    server.hub.remove_member(id)?;
    let message = wait_for("Ana's Weft to stop sharing", WAIT, || {
        match ana.team.info().connection {
            Connection::Offline {
                message,
                retry_at: None,
            } => Some(message),
            _ => None,
        }
    })?;
    assert!(message.contains("removed from the team"), "{message}");
    // Switching still works, and leaving (already gone on the server) cleans up here.
    assert!(ana.weft.switch(Target::Focus, Source::Cli, None)?.switched);
    assert_eq!(ana.team.leave(false)?.connection, Connection::NotJoined);
    Ok(())
}

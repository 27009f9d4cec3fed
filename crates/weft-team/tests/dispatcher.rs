//! The dispatcher that puts the team client beside the core: requests routed to the one or
//! the other, the team's errors on the wire, and what each publishes reaching the other
//! (a switch pushed to the server, a join seen by a window before its answer).

use std::sync::Arc;
use weft_core::clock::SystemClock;
use weft_core::testing::wait_for;
use weft_proto::{Connection, ErrorKind, Event, Request, Response, Source, State, Target};
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::Client;

mod common;
use common::{local, R, WAIT};

fn answer(local: &common::Local, request: Request) -> Response {
    local.dispatcher.answer(request, None)
}

#[test]
fn team_requests_reach_the_team_and_its_errors_keep_their_kind() -> R {
    let ana = local(Arc::new(SystemClock))?;
    let Response::Team(info) = answer(&ana, Request::Team) else {
        return Err("the team was not answered".into());
    };
    assert_eq!(info.connection, Connection::NotJoined);
    for request in [
        Request::TeamLeave { force: false },
        Request::TeamShare { share_intent: true },
        Request::Ping {
            to: "bo".into(),
            text: "hi".into(),
            urgent: false,
        },
    ] {
        match answer(&ana, request) {
            Response::Error(report) => {
                assert_eq!(report.kind, ErrorKind::Team);
                assert!(report.message.starts_with("this Weft is not in a team"));
            }
            other => return Err(format!("not refused: {other:?}").into()),
        }
    }
    match answer(
        &ana,
        Request::TeamJoin {
            server: "ftp://nowhere".into(),
            invite: "wfi_x".into(),
            name: "Ana".into(),
            share_intent: false,
        },
    ) {
        Response::Error(report) => assert_eq!(report.kind, ErrorKind::Team),
        other => return Err(format!("joined a non-server: {other:?}").into()),
    }
    // The core's requests are the core's.
    assert!(matches!(answer(&ana, Request::Status), Response::Status(_)));
    Ok(())
}

#[test]
fn a_join_is_seen_by_a_watcher_before_it_is_answered_and_switches_are_shared() -> R {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    let ana = local(Arc::new(SystemClock))?;
    let window = ana.weft.watch();
    let joined = answer(
        &ana,
        Request::TeamJoin {
            server: server.url.clone(),
            invite: invite.clone(),
            name: "Ana".into(),
            share_intent: false,
        },
    );
    assert!(matches!(joined, Response::Team(_)), "{joined:?}");
    // Already there when the answer came: the team with its new membership.
    let seen: Vec<Event> = window.try_iter().collect();
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::Team(info) if info.membership.is_some())),
        "{seen:?}"
    );

    // A switch through the socket's dispatcher reaches the server through the team.
    let mate = Client::new(&server.url)?;
    let bo = mate.join(&invite, "Bo")?;
    let mate = mate.with_token(&bo.token);
    let switched = answer(
        &ana,
        Request::Switch {
            to: Target::Focus,
            source: Source::Cli,
            intent: None,
            minutes: None,
            stash: None,
        },
    );
    assert!(matches!(switched, Response::Switched(_)), "{switched:?}");
    wait_for("Ana's focus on the server", WAIT, || {
        let view = mate.team(bo.team.id).ok()?;
        let seen = view.members.into_iter().find(|m| m.name == "Ana")?;
        (seen.state == Some(State::Focus)).then_some(())
    })?;
    Ok(())
}

//! The team client against a real sync server behind what real deployments put in its way: a
//! real nginx on loopback (stock, and one that buffers the stream), and a clock that runs two
//! hours fast. No window.

use chrono::Utc;
use std::sync::Arc;
use weft_core::testing::wait_for;

use weft_core::clock::{ManualClock, SystemClock};
use weft_proto::sync::StatusUpdate;
use weft_proto::{Connection, Source, State, Target};
use weft_sync::testing::proxy::{Kind, Proxy};
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::Client;

mod common;
use common::{local, Local, R, WAIT};

/// A teammate reduced to a client that shares `state`.
fn teammate(url: &str, invite: &str, state: State) -> Result<(), Box<dyn std::error::Error>> {
    let joined = Client::new(url)?.join(invite, "Bo")?;
    Client::new(url)?.with_token(&joined.token).put_status(
        joined.team.id,
        joined.member_id,
        &StatusUpdate {
            seq: 1,
            state,
            since: Utc::now(),
            until: None,
            intent: None,
        },
    )?;
    Ok(())
}

fn shown(local: &Local, name: &str) -> Option<Option<State>> {
    let info = local.team.info();
    info.members
        .into_iter()
        .find(|m| m.name == name)
        .map(|m| m.state)
}

#[test]
fn the_team_is_live_through_a_stock_nginx() -> R {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    let proxy = Proxy::start(&Kind::Nginx(String::new()), &server.url)?;
    let ana = local(Arc::new(SystemClock))?;
    ana.team.join(&proxy.url, &invite, "Ana", false)?;
    wait_for("the stream, live through nginx", WAIT, || {
        (ana.team.info().connection == Connection::Online).then_some(())
    })
    .map_err(|e| format!("{e}: {:?}\n{}", ana.team.info(), proxy.log()))?;
    teammate(&proxy.url, &invite, State::Focus)?;
    wait_for("Bo's focus, live", WAIT, || {
        (shown(&ana, "Bo") == Some(Some(State::Focus))).then_some(())
    })?;
    Ok(())
}

#[test]
fn behind_a_proxy_that_buffers_the_stream_the_team_is_still_listed() -> R {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    teammate(&server.url, &invite, State::Focus)?;
    // An nginx that buffers whatever the server asks: the stream's events never come through.
    let buffering = Kind::Nginx("proxy_ignore_headers X-Accel-Buffering;".into());
    let proxy = Proxy::start(&buffering, &server.url)?;
    let ana = local(Arc::new(SystemClock))?;
    ana.team.join(&proxy.url, &invite, "Ana", false)?;
    let info = wait_for("the team listed without the stream", WAIT, || {
        let info = ana.team.info();
        (info.members.len() == 2).then_some(info)
    })?;
    assert_ne!(info.connection, Connection::Online, "{info:?}");
    assert_eq!(shown(&ana, "Bo"), Some(Some(State::Focus)));
    Ok(())
}

#[test]
fn a_clock_two_hours_fast_is_shown_and_sharing_resumes_once_it_is_right() -> R {
    let server = TestServer::start(Config::default())?;
    let invite = server.hub.create_team("Core")?.1;
    let clock = Arc::new(ManualClock::new(Utc::now() + chrono::Duration::hours(2)));
    let ana = local(clock.clone())?;
    ana.team.join(&server.url, &invite, "Ana", false)?;
    ana.weft.switch(Target::Focus, Source::Cli, None)?;
    let message = wait_for("the clock's problem, shown", WAIT, || {
        match ana.team.info().connection {
            Connection::Offline {
                message,
                retry_at: Some(_),
            } if message.contains("clock") => Some(message),
            _ => None,
        }
    })?;
    assert!(
        message.starts_with(
            "your status was not shared: your clock is about 2 h ahead of the server's"
        ),
        "{message}"
    );
    let mate = Client::new(&server.url)?;
    let bo = mate.join(&invite, "Bo")?;
    let mate = mate.with_token(&bo.token);
    let ana_on_server = |mate: &Client| {
        mate.team(bo.team.id)
            .ok()
            .and_then(|v| v.members.into_iter().find(|m| m.name == "Ana"))
    };
    assert_eq!(ana_on_server(&mate).and_then(|m| m.state), None);

    // The clock is set right; the next switch is shared, and the message goes.
    clock.jump(-chrono::Duration::hours(2));
    ana.weft.switch(Target::Coordination, Source::Cli, None)?;
    wait_for("Ana's coordination on the server", WAIT, || {
        (ana_on_server(&mate)?.state == Some(State::Coordination)).then_some(())
    })?;
    wait_for("the connection without the clock's problem", WAIT, || {
        (ana.team.info().connection == Connection::Online).then_some(())
    })
    .map_err(|e| format!("{e}: {:?}", ana.team.info().connection))?;
    Ok(())
}

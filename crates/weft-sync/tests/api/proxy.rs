//! The live stream through real reverse proxies on loopback, configured the stock way
//! (nginx's `location / { proxy_pass …; }`, Caddy's `reverse_proxy`): events arrive as they
//! happen, not when a proxy's buffer fills.

use crate::support::*;
use weft_proto::sync::*;
use weft_proto::State;
use weft_sync::testing::proxy::{Kind, Proxy};
use weft_sync::testing::TestServer;

/// Joins two members through `proxy`, follows one's stream and sees the other's switches.
fn live_through(proxy: &Proxy, code: &str) -> R {
    let (ana, ana_j) = join(&proxy.url, code, "Ana")?;
    let (bo, bo_j) = join(&proxy.url, code, "Bo")?;
    let team = ana_j.team.id;
    let stream = Stream::open(&ana, team, 0)?;
    let snapshot = stream
        .until("the snapshot", |e| matches!(e, SyncEvent::Snapshot(_)))
        .map_err(|e| format!("{e}\nproxy log:\n{}", proxy.log()))?;
    assert!(matches!(&snapshot[..], [SyncEvent::Snapshot(v)] if v.members.len() == 2));
    for (seq, state) in [
        (1, State::Focus),
        (2, State::Coordination),
        (3, State::Focus),
    ] {
        bo.put_status(team, bo_j.member_id, &status(seq, state, None))?;
        stream.until(
            "Bo's switch, through the proxy",
            member_is(bo_j.member_id, |m| m.seq == seq && m.state == Some(state)),
        )?;
    }
    bo.ping(
        team,
        &PingRequest {
            to: "ana".into(),
            text: "through the proxy".into(),
            urgent: false,
        },
    )?;
    stream.until(
        "Bo's ping",
        |e| matches!(e, SyncEvent::Ping(p) if p.text == "through the proxy"),
    )?;
    Ok(())
}

fn through(kind: Kind) -> R {
    let server = TestServer::start(config())?;
    let code = invite(&server, "Core")?;
    let proxy = Proxy::start(&kind, &server.url)?;
    live_through(&proxy, &code)
}

#[test]
fn the_stream_is_live_through_a_stock_nginx() -> R {
    through(Kind::Nginx(String::new()))
}

#[test]
fn the_stream_is_live_through_a_stock_caddy() -> R {
    through(Kind::Caddy(String::new()))
}

/// The nginx block README.md gives, word for word.
#[test]
fn the_stream_is_live_through_the_readme_s_nginx_block() -> R {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))?;
    let block = readme
        .split("location / {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .ok_or("README.md has no nginx location block")?;
    let settings: String = block
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("proxy_pass") && !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(settings.contains("proxy_buffering off;"), "{settings}");
    through(Kind::Nginx(settings))
}

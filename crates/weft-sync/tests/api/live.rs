//! Statuses and pings reach the right members live; forecasts; seq order; the slow client.

use crate::support::*;
use chrono::Utc;
use std::io::{Read, Write};
use weft_proto::sync::*;
use weft_proto::{State, MAX_INTENT_CHARS};
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::Error;

#[test]
fn statuses_and_pings_go_live_to_the_right_members() -> R {
    let server = TestServer::start(config())?;
    let code = invite(&server, "Core")?;
    let (bo, bo_j) = join(&server.url, &code, "bo")?;
    let (ana, ana_j) = join(&server.url, &code, "Ana")?;
    let (cy, cy_j) = join(&server.url, &code, "Cy")?;
    let team = ana_j.team.id;
    assert!(matches!(
        join(&server.url, &code, "ANA"),
        Err(Error::Refused { status: 409, .. })
    ));

    let view = bo.team(team)?;
    assert_eq!(view.me, bo_j.member_id);
    let names: Vec<_> = view.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Ana", "bo", "Cy"]);
    assert!(view
        .members
        .iter()
        .all(|m| m.state.is_none() && m.seq == 0 && !m.online));

    let bo_stream = Stream::open(&bo, team, 0)?;
    let first = bo_stream.until("snapshot", |_| true)?;
    assert!(
        matches!(&first[0], SyncEvent::Snapshot(v) if v.me == bo_j.member_id && v.members.len() == 3)
    );
    assert!(
        matches!(&first[0], SyncEvent::Snapshot(v) if v.instance == view.instance && !v.instance.is_empty()),
        "the snapshot and the team name the same database: {first:?} {view:?}"
    );
    let cy_stream = Stream::open(&cy, team, 0)?;
    let ana_stream = Stream::open(&ana, team, 0)?;

    let mut update = status(1, State::Focus, Some(50));
    update.intent = Some("parser".into());
    let ack = ana.put_status(team, ana_j.member_id, &update)?;
    assert_eq!(
        ack,
        StatusAck {
            applied: true,
            seq: 1
        }
    );
    bo_stream.until(
        "Ana's focus",
        member_is(ana_j.member_id, |m| {
            m.state == Some(State::Focus)
                && m.seq == 1
                && m.intent.as_deref() == Some("parser")
                && m.online
        }),
    )?;
    let shown = bo
        .team(team)?
        .members
        .into_iter()
        .find(|m| m.id == ana_j.member_id);
    assert_eq!(shown.and_then(|m| m.until), update.until);

    let sent = bo.ping(
        team,
        &PingRequest {
            to: "ana".into(),
            text: "review?".into(),
            urgent: false,
        },
    )?;
    assert_eq!(sent.to, "Ana");
    let got = ana_stream.until("the ping", |e| matches!(e, SyncEvent::Ping(_)))?;
    assert!(
        matches!(got.last(), Some(SyncEvent::Ping(p)) if p.id == sent.id && p.from == "bo" && p.text == "review?")
    );

    // A marker after the ping: Cy and Bo see it, and no ping before it.
    cy.put_status(team, cy_j.member_id, &status(1, State::Coordination, None))?;
    for stream in [&cy_stream, &bo_stream] {
        let seen = stream.until("Cy's status", member_is(cy_j.member_id, |m| m.seq == 1))?;
        assert!(
            !seen.iter().any(|e| matches!(e, SyncEvent::Ping(_))),
            "{seen:?}"
        );
    }
    drop(ana_stream);
    Ok(())
}

#[test]
fn the_sender_learns_where_a_ping_lands() -> R {
    let server = TestServer::start(Config {
        urgent_budget: 2,
        ..config()
    })?;
    let (_, team, (ana, ana_j), (bo, _)) = core(&server)?;
    let ping = |text: &str, urgent: bool| PingRequest {
        to: "Ana".into(),
        text: text.into(),
        urgent,
    };

    let queued = bo.ping(team, &ping("while away", false))?;
    assert_eq!(queued.outcome, PingOutcome::Queued);

    let stream = Stream::open(&ana, team, 0)?;
    let backlog = stream.until("the queued ping", |e| matches!(e, SyncEvent::Ping(_)))?;
    assert!(matches!(backlog.last(), Some(SyncEvent::Ping(p)) if p.id == queued.id));
    assert_eq!(
        bo.ping(team, &ping("no status yet", false))?.outcome,
        PingOutcome::Delivered
    );

    ana.put_status(team, ana_j.member_id, &status(1, State::Coordination, None))?;
    assert_eq!(
        bo.ping(team, &ping("coordinating", false))?.outcome,
        PingOutcome::Delivered
    );

    let focus = status(2, State::Focus, Some(90));
    ana.put_status(team, ana_j.member_id, &focus)?;
    let held = bo.ping(team, &ping("later", false))?;
    assert_eq!(
        held.outcome,
        PingOutcome::Held {
            until: focus.until,
            over_budget: false
        }
    );
    for _ in 0..2 {
        let urgent = bo.ping(team, &ping("prod is down", true))?;
        assert!(urgent.urgent);
        assert_eq!(urgent.outcome, PingOutcome::Delivered);
    }
    let over = bo.ping(team, &ping("still down", true))?;
    assert!(!over.urgent);
    assert_eq!(
        over.outcome,
        PingOutcome::Held {
            until: focus.until,
            over_budget: true
        }
    );
    let relayed = stream.until(
        "the over-budget ping",
        |e| matches!(e, SyncEvent::Ping(p) if p.id == over.id),
    )?;
    assert!(matches!(relayed.last(), Some(SyncEvent::Ping(p)) if !p.urgent));

    // Resuming after a ping skips it and everything before it.
    drop(stream);
    let resumed = Stream::open(&ana, team, held.id)?;
    let seen = resumed.until(
        "the last ping",
        |e| matches!(e, SyncEvent::Ping(p) if p.id == over.id),
    )?;
    let ids: Vec<i64> = seen
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Ping(p) => Some(p.id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| *id > held.id));

    // A planned end already past is not named as when the ping will show.
    let now = Utc::now();
    let overrun = StatusUpdate {
        seq: 3,
        state: State::Focus,
        since: second(now - chrono::Duration::hours(2)),
        until: Some(second(now - chrono::Duration::minutes(5))),
        intent: None,
    };
    ana.put_status(team, ana_j.member_id, &overrun)?;
    assert_eq!(
        bo.ping(team, &ping("overran", false))?.outcome,
        PingOutcome::Held {
            until: None,
            over_budget: false
        }
    );

    for (bad, status) in [
        (ping("", false), 400),
        (ping(&"x".repeat(MAX_PING_CHARS + 1), false), 400),
    ] {
        assert!(
            matches!(bo.ping(team, &bad), Err(Error::Refused { status: s, .. }) if s == status)
        );
    }
    let nobody = PingRequest {
        to: "Zed".into(),
        ..ping("hi", false)
    };
    assert!(matches!(
        bo.ping(team, &nobody),
        Err(Error::Refused { status: 404, .. })
    ));
    let me = PingRequest {
        to: "bo".into(),
        ..ping("hi", false)
    };
    assert!(matches!(
        bo.ping(team, &me),
        Err(Error::Refused { status: 400, .. })
    ));
    Ok(())
}

#[test]
fn the_highest_seq_wins_and_replays_change_nothing() -> R {
    let server = TestServer::start(config())?;
    let (_, team, (ana, ana_j), (bo, _)) = core(&server)?;
    let me = ana_j.member_id;
    let stream = Stream::open(&bo, team, 0)?;
    stream.until("snapshot", |_| true)?;

    assert!(
        ana.put_status(team, me, &status(5, State::Focus, Some(30)))?
            .applied
    );
    let late = ana.put_status(team, me, &status(3, State::Coordination, None))?;
    assert_eq!(
        late,
        StatusAck {
            applied: false,
            seq: 5
        }
    );
    let replay = ana.put_status(team, me, &status(5, State::Coordination, None))?;
    assert_eq!(
        replay,
        StatusAck {
            applied: false,
            seq: 5
        }
    );
    let shown = bo.team(team)?.members.into_iter().find(|m| m.id == me);
    assert!(matches!(shown, Some(m) if m.seq == 5 && m.state == Some(State::Focus)));

    assert!(
        ana.put_status(team, me, &status(9, State::Coordination, None))?
            .applied
    );
    let seen = stream.until("seq 9", member_is(me, |m| m.seq == 9))?;
    let seqs: Vec<u64> = seen
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Member(m) if m.id == me => Some(m.seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, [5, 9], "the refused writes fanned nothing out");
    Ok(())
}

/// How long the test server lets a socket accept no bytes (45 s by default).
const STALL: std::time::Duration = std::time::Duration::from_secs(1);

#[test]
fn a_client_that_never_reads_is_cut_off_and_others_keep_up() -> R {
    let server = TestServer::start(Config {
        channel_capacity: 32,
        stall_timeout: STALL,
        ..config()
    })?;
    let code = invite(&server, "Core")?;
    let (ana, ana_j) = join(&server.url, &code, &"A".repeat(MAX_NAME_CHARS))?;
    let (bo, _) = join(&server.url, &code, "Bo")?;
    let (_, slow_j) = join(&server.url, &code, "Slow")?;
    let team = ana_j.team.id;

    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_recv_buffer_size(4096)?;
    let addr: std::net::SocketAddr = server.url.trim_start_matches("http://").parse()?;
    socket.connect(&addr.into())?;
    let mut slow: std::net::TcpStream = socket.into();
    write!(
        slow,
        "GET /v1/teams/{team}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        slow_j.token
    )?;
    let stream = Stream::open(&bo, team, 0)?;
    let slow_id = slow_j.member_id;
    stream.until("Slow online", |e| match e {
        SyncEvent::Snapshot(v) => v.members.iter().any(|m| m.id == slow_id && m.online),
        SyncEvent::Member(m) => m.id == slow_id && m.online,
        SyncEvent::Ping(_) | SyncEvent::Left { .. } => false,
    })?;

    // Enough events to overflow the kernel's socket buffers (which may grow to tcp_wmem's
    // maximum) several times over, so the server must stop feeding this stream.
    let wmem_max: u64 = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|t| t.split_whitespace().last().and_then(|v| v.parse().ok()))
        .unwrap_or(4 << 20);
    let count = (3 * wmem_max / 400).clamp(6000, 100_000) / 16 * 16;
    let mut update = status(1, State::Focus, Some(60));
    update.intent = Some("i".repeat(MAX_INTENT_CHARS));
    let caller = weft_sync::hub::Caller {
        member: ana_j.member_id,
        team,
    };
    let mut seen = Vec::new();
    for seq in 1..=count {
        let valid = weft_sync::validate::status(
            &StatusUpdate {
                seq,
                ..update.clone()
            },
            Utc::now(),
        )?;
        server.hub.put_status(caller, valid)?;
        if seq % 16 == 0 {
            // A normal client keeps up (half the channel at a time): it sees each event promptly.
            seen.extend(stream.until(
                "a recent event",
                member_is(ana_j.member_id, |m| m.seq == seq),
            )?);
        }
    }
    assert!(
        ana.put_status(
            team,
            ana_j.member_id,
            &StatusUpdate {
                seq: count + 1,
                ..update
            }
        )?
        .applied
    );
    seen.extend(stream.until(
        "the last event",
        member_is(ana_j.member_id, |m| m.seq == count + 1),
    )?);

    // Without reading anything, the slow client is dropped: its socket accepted no bytes
    // for the stall timeout (the server may have dropped it already while the events went).
    let offline = member_is(slow_id, |m| !m.online);
    if !seen.iter().any(&offline) {
        stream.until("Slow offline while it never reads", offline)?;
    }

    // The slow reader now reads: it finds its stream ended, long before all events.
    slow.set_read_timeout(Some(WAIT))?;
    let mut text = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match slow.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                text.extend_from_slice(&buffer[..n]);
                if text.ends_with(b"\r\n0\r\n\r\n") {
                    break;
                }
            }
            // Dropped with unsent bytes: the connection may be reset rather than closed.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => {
                return Err(format!(
                    "the server did not end the slow stream: {e}; got {} bytes, {} events",
                    text.len(),
                    String::from_utf8_lossy(&text)
                        .matches("event: member")
                        .count()
                )
                .into())
            }
        }
    }
    let received = String::from_utf8_lossy(&text)
        .matches("event: member")
        .count();
    assert!(
        received < count as usize / 2,
        "the slow client got {received} events"
    );
    Ok(())
}

#[test]
fn a_member_may_open_only_a_few_streams() -> R {
    let server = TestServer::start(Config {
        max_streams_per_member: 2,
        ..config()
    })?;
    let (_, team, (ana, ana_j), (bo, _)) = core(&server)?;
    let first = Stream::open(&ana, team, 0)?;
    let _second = Stream::open(&ana, team, 0)?;
    first.until("snapshot", |_| true)?;
    assert!(
        matches!(ana.events(team, 0), Err(Error::RateLimited { retry_after }) if retry_after > 0)
    );
    let path = format!("/v1/teams/{team}/events");
    let (status, retry_after) = raw_get(&server.url, &path, Some(&ana_j.token), "retry-after")?;
    assert_eq!((status, retry_after.as_deref()), (429, Some("15")));
    let bo_stream = Stream::open(&bo, team, 0)?;
    bo_stream.until("snapshot", |_| true)?;
    Ok(())
}

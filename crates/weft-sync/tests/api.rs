//! The sync server end to end: a real server on 127.0.0.1:0 (in-process, or the real binary
//! for the CLI, restart and signal tests) driven by the real `weft-sync-client`.

use chrono::{Duration as Span, Utc};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use weft_proto::sync::*;
use weft_proto::{State, MAX_INTENT_CHARS};
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::{Client, Error};

type R = Result<(), Box<dyn std::error::Error>>;

const WAIT: Duration = Duration::from_secs(10);

fn config() -> Config {
    Config {
        rate_per_second: 0,
        ..Config::default()
    }
}

fn invite(server: &TestServer, team: &str) -> Result<String, weft_sync::Error> {
    Ok(server.hub.create_team(team)?.1)
}

fn join(url: &str, invite: &str, name: &str) -> Result<(Client, Joined), Error> {
    let joined = Client::new(url)?.join(invite, name)?;
    Ok((Client::new(url)?.with_token(&joined.token), joined))
}

fn rfc(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn status(seq: u64, state: State, until_minutes: Option<i64>) -> StatusUpdate {
    let now = Utc::now();
    StatusUpdate {
        seq,
        state,
        since: rfc(now),
        until: until_minutes.map(|m| rfc(now + Span::minutes(m))),
        intent: None,
    }
}

/// A live stream read on its own thread.
struct Stream {
    rx: mpsc::Receiver<Result<SyncEvent, String>>,
}

impl Stream {
    fn open(client: &Client, team: i64, after_ping: i64) -> Result<Stream, Error> {
        let events = client.events(team, after_ping)?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for event in events {
                if tx.send(event.map_err(|e| e.to_string())).is_err() {
                    return;
                }
            }
        });
        Ok(Stream { rx })
    }

    /// Events up to and including the first that matches, within [`WAIT`].
    fn until(
        &self,
        what: &str,
        matches: impl Fn(&SyncEvent) -> bool,
    ) -> Result<Vec<SyncEvent>, String> {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Ok(event)) => {
                    let done = matches(&event);
                    seen.push(event);
                    if done {
                        return Ok(seen);
                    }
                }
                Ok(Err(e)) => {
                    return Err(format!(
                        "stream failed waiting for {what}: {e}; saw {seen:?}"
                    ))
                }
                Err(_) => return Err(format!("no {what} within {WAIT:?}; saw {seen:?}")),
            }
        }
    }

    /// True when the stream ends within [`WAIT`] (events before the end are skipped).
    fn ends(&self) -> bool {
        let deadline = Instant::now() + WAIT;
        loop {
            match self
                .rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
    }
}

fn member_is(id: i64, check: impl Fn(&Member) -> bool) -> impl Fn(&SyncEvent) -> bool {
    move |e| matches!(e, SyncEvent::Member(m) if m.id == id && check(m))
}

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
    let code = invite(&server, "Core")?;
    let (ana, ana_j) = join(&server.url, &code, "Ana")?;
    let (bo, _) = join(&server.url, &code, "Bo")?;
    let team = ana_j.team.id;
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
            until: focus.until.clone(),
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
            until: focus.until.clone(),
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
fn what_is_not_yours_is_refused() -> R {
    let server = TestServer::start(config())?;
    let core = invite(&server, "Core")?;
    let other = invite(&server, "Other")?;
    let (ana, ana_j) = join(&server.url, &core, "Ana")?;
    let (bo, bo_j) = join(&server.url, &core, "Bo")?;
    let (eve, eve_j) = join(&server.url, &other, "Eve")?;
    let team = ana_j.team.id;
    let before = eve.team(eve_j.team.id)?;
    let update = status(1, State::Focus, None);
    let code = |r: Result<StatusAck, Error>| match r {
        Err(Error::Refused { status, code, .. }) => (status, code),
        other => (0, format!("{other:?}")),
    };

    let anonymous = Client::new(&server.url)?;
    assert_eq!(
        code(anonymous.put_status(team, ana_j.member_id, &update)),
        (401, "unauthorized".into())
    );
    let forged =
        Client::new(&server.url)?.with_token("wft_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        code(forged.put_status(team, ana_j.member_id, &update)),
        (401, "unauthorized".into())
    );
    assert!(matches!(forged.team(team), Err(e) if e.is_auth()));
    assert!(matches!(
        anonymous.events(team, 0),
        Err(Error::Refused { status: 401, .. })
    ));
    assert_eq!(
        code(eve.put_status(team, ana_j.member_id, &update)),
        (403, "forbidden".into())
    );
    assert_eq!(
        code(eve.put_status(team, eve_j.member_id, &update)),
        (403, "forbidden".into())
    );
    assert_eq!(
        code(bo.put_status(team, ana_j.member_id, &update)),
        (403, "forbidden".into())
    );
    assert!(matches!(
        ana.team(eve_j.team.id),
        Err(Error::Refused { status: 403, .. })
    ));
    assert!(matches!(
        ana.team(9999),
        Err(Error::Refused { status: 403, .. })
    ));
    assert!(matches!(
        ana.events(eve_j.team.id, 0),
        Err(Error::Refused { status: 403, .. })
    ));
    let ping = PingRequest {
        to: "Eve".into(),
        text: "hi".into(),
        urgent: true,
    };
    assert!(matches!(
        ana.ping(eve_j.team.id, &ping),
        Err(Error::Refused { status: 403, .. })
    ));
    assert!(matches!(
        ana.ping(team, &ping),
        Err(Error::Refused { status: 404, .. })
    ));
    assert!(matches!(
        Client::new(&server.url)?.join("wfi_nope", "Mallory"),
        Err(Error::Refused { status: 403, .. })
    ));

    // A header is there on 401.
    let raw = raw_get(
        &server.url,
        &format!("/v1/teams/{team}"),
        None,
        "WWW-Authenticate",
    )?;
    assert_eq!(raw, (401, Some("Bearer".into())));
    assert_eq!(eve.team(eve_j.team.id)?, before);
    assert!(ana
        .team(team)?
        .members
        .iter()
        .all(|m| m.seq == 0 && m.id != eve_j.member_id));
    assert_eq!(bo.team(team)?.me, bo_j.member_id);
    Ok(())
}

/// The status and one header's value of a GET over a raw socket (`token` as bearer, if any).
fn raw_get(
    url: &str,
    path: &str,
    token: Option<&str>,
    header: &str,
) -> Result<(u16, Option<String>), Box<dyn std::error::Error>> {
    let mut stream = std::net::TcpStream::connect(url.trim_start_matches("http://"))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let prefix = format!("{}: ", header.to_ascii_lowercase());
    let value = text.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .starts_with(&prefix)
            .then(|| l[prefix.len()..].to_string())
    });
    Ok((status, value))
}

#[test]
fn bad_input_gets_a_json_error() -> R {
    let server = TestServer::start(config())?;
    let code = invite(&server, "Core")?;
    let (ana, ana_j) = join(&server.url, &code, "Ana")?;
    let team = ana_j.team.id;
    let path = format!("/v1/teams/{team}/members/{}/status", ana_j.member_id);
    let now = rfc(Utc::now());
    let json_error = |(status, body): (u16, String)| -> (u16, String) {
        let parsed: Result<ApiError, _> = serde_json::from_str(&body);
        match parsed {
            Ok(e) => (status, format!("{}: {}", e.error, e.message)),
            Err(_) => (0, format!("not an ApiError: {status} {body}")),
        }
    };
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{not json".to_vec(), 400, "not valid JSON"),
        (
            b"{\"seq\":1,\"state\":\"focus\",\"since\":\"\xff\xfe\"}".to_vec(),
            400,
            "not valid JSON",
        ),
        (
            format!(r#"{{"seq":1,"state":"focus","since":"{now}","mood":"grumpy"}}"#).into_bytes(),
            400,
            "mood",
        ),
        (
            format!(r#"{{"seq":"one","state":"focus","since":"{now}"}}"#).into_bytes(),
            400,
            "invalid type",
        ),
        (
            format!(r#"{{"seq":-1,"state":"focus","since":"{now}"}}"#).into_bytes(),
            400,
            "seq",
        ),
        (
            format!(r#"{{"seq":0,"state":"focus","since":"{now}"}}"#).into_bytes(),
            400,
            "seq",
        ),
        (
            format!(r#"{{"seq":{},"state":"focus","since":"{now}"}}"#, u64::MAX).into_bytes(),
            400,
            "seq",
        ),
        (
            format!(r#"{{"seq":1,"state":"sleep","since":"{now}"}}"#).into_bytes(),
            400,
            "sleep",
        ),
        (
            br#"{"seq":1,"state":"focus","since":"1969-12-31T23:59:59Z"}"#.to_vec(),
            400,
            "since",
        ),
        (
            br#"{"seq":1,"state":"focus","since":"-2000-01-01T00:00:00Z"}"#.to_vec(),
            400,
            "since",
        ),
        (
            br#"{"seq":1,"state":"focus","since":"9999-12-31T00:00:00Z"}"#.to_vec(),
            400,
            "since",
        ),
        (
            br#"{"seq":1,"state":"focus","since":"tomorrow"}"#.to_vec(),
            400,
            "since",
        ),
        (
            format!(
                r#"{{"seq":1,"state":"focus","since":"{now}","until":"2001-01-01T00:00:00Z"}}"#
            )
            .into_bytes(),
            400,
            "until",
        ),
        (
            format!(
                r#"{{"seq":1,"state":"focus","since":"{now}","until":"9999-01-01T00:00:00Z"}}"#
            )
            .into_bytes(),
            400,
            "until",
        ),
        (
            format!(
                r#"{{"seq":1,"state":"focus","since":"{now}","intent":"{}"}}"#,
                "x".repeat(201)
            )
            .into_bytes(),
            400,
            "intent",
        ),
        (vec![b' '; MAX_BODY_BYTES + 1], 413, "too_large"),
    ];
    for (body, status, needle) in cases {
        let (got, message) = json_error(ana.raw("PUT", &path, &body)?);
        assert_eq!(got, status, "{message}");
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
    assert_eq!(ana.team(team)?.members[0].seq, 0, "nothing was stored");
    let (status, message) = json_error(ana.raw("GET", "/v1/nowhere", b"")?);
    assert_eq!(
        (status, message.starts_with("not_found")),
        (404, true),
        "{message}"
    );
    let (status, message) = json_error(ana.raw("DELETE", "/v1/join", b"")?);
    assert_eq!(status, 405, "{message}");
    let anonymous = Client::new(&server.url)?;
    for (name, expected) in [
        ("", 400),
        ("a\u{1b}[31m", 400),
        (&*"n".repeat(MAX_NAME_CHARS + 1), 400),
    ] {
        assert!(
            matches!(anonymous.join(&code, name), Err(Error::Refused { status, .. }) if status == expected)
        );
    }
    let (status, _) = json_error(anonymous.raw(
        "POST",
        "/v1/join",
        br#"{"invite":"x","name":"y","admin":true}"#,
    )?);
    assert_eq!(status, 400);
    assert_eq!(anonymous.health()?.status, "ok");
    Ok(())
}

#[test]
fn the_highest_seq_wins_and_replays_change_nothing() -> R {
    let server = TestServer::start(config())?;
    let code = invite(&server, "Core")?;
    let (ana, ana_j) = join(&server.url, &code, "Ana")?;
    let (bo, _) = join(&server.url, &code, "Bo")?;
    let team = ana_j.team.id;
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

#[test]
fn each_token_is_rate_limited() -> R {
    let server = TestServer::start(Config {
        rate_per_second: 2,
        ..Config::default()
    })?;
    let code = invite(&server, "Core")?;
    let (ana, ana_j) = join(&server.url, &code, "Ana")?;
    let (bo, _) = join(&server.url, &code, "Bo")?;
    let team = ana_j.team.id;
    let mut answers = Vec::new();
    for _ in 0..8 {
        answers.push(ana.team(team).map(|_| ()));
    }
    assert!(answers[..4].iter().all(|a| a.is_ok()), "{answers:?}");
    assert!(
        answers
            .iter()
            .any(|a| matches!(a, Err(Error::RateLimited { retry_after }) if *retry_after >= 1)),
        "{answers:?}"
    );
    // Keep asking until refused (a stalled test machine may refill a token in between).
    let path = format!("/v1/teams/{team}");
    let refused = (0..50)
        .map(|_| ana.raw("GET", &path, b""))
        .find(|answer| matches!(answer, Ok((429, _)) | Err(_)));
    let Some(Ok((_, body))) = refused else {
        return Err(format!("no JSON 429: {refused:?}").into());
    };
    assert_eq!(
        serde_json::from_str::<ApiError>(&body)?.error,
        "rate_limited"
    );
    let refused = (0..50)
        .map(|_| raw_get(&server.url, &path, Some(&ana_j.token), "Retry-After"))
        .find(|answer| !matches!(answer, Ok((200, _))));
    let Some(Ok((429, Some(retry_after)))) = refused else {
        return Err(format!("no 429 with Retry-After: {refused:?}").into());
    };
    assert!(retry_after.parse::<u64>()? >= 1);
    assert!(bo.team(team).is_ok(), "other tokens are not limited");
    Ok(())
}

#[test]
fn a_client_that_never_reads_is_cut_off_and_others_keep_up() -> R {
    let server = TestServer::start(Config {
        channel_capacity: 32,
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
        SyncEvent::Ping(_) => false,
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
    // The server may have ended it already while the events were sent.
    let offline = member_is(slow_id, |m| !m.online);
    if !seen.iter().any(&offline) {
        stream.until("Slow offline", offline)?;
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

// The real binary: CLI, restart, signals.

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn weft_sync(args: &[&str]) -> Result<std::process::Output, std::io::Error> {
    Command::new(env!("CARGO_BIN_EXE_weft-sync"))
        .args(args)
        .output()
}

fn serve(db: &str) -> Result<(Proc, String), Box<dyn std::error::Error>> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft-sync"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let proc = Proc(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(WAIT)?;
    let url = line
        .trim()
        .strip_prefix("weft-sync listening on ")
        .ok_or(format!("odd line {line:?}"))?;
    Ok((proc, url.to_string()))
}

fn terminate(proc: &mut Proc) -> Result<std::process::ExitStatus, Box<dyn std::error::Error>> {
    Command::new("kill")
        .args(["-TERM", &proc.0.id().to_string()])
        .status()?;
    let deadline = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < deadline {
        if let Some(status) = proc.0.try_wait()? {
            return Ok(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("weft-sync did not stop within 2.5 s of SIGTERM".into())
}

#[test]
fn the_binary_keeps_statuses_across_restarts_and_stops_on_sigterm() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("sync.db");
    let db = db.to_str().ok_or("path")?;
    let created = weft_sync(&["team", "create", "Core", "--db", db])?;
    assert!(created.status.success());
    let out = String::from_utf8(created.stdout)?;
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("Created team \"Core\" (id 1)"),
        "{out}"
    );
    let code = lines.last().ok_or("no output")?.to_string();
    assert!(code.starts_with("wfi_") && code.len() >= 26, "{out}");

    let (mut first, url) = serve(db)?;
    let (ana, ana_j) = join(&url, &code, "Ana")?;
    let update = status(7, State::Focus, Some(25));
    assert!(
        ana.put_status(ana_j.team.id, ana_j.member_id, &update)?
            .applied
    );
    let stream = Stream::open(&ana, ana_j.team.id, 0)?;
    stream.until("snapshot", |_| true)?;
    assert!(terminate(&mut first)?.success());
    assert!(stream.ends(), "the open stream ended with the server");

    let listed = String::from_utf8(weft_sync(&["team", "list", "--db", db])?.stdout)?;
    assert!(
        listed.contains("Core") && listed.contains("(1 member)"),
        "{listed}"
    );
    let invited = weft_sync(&["team", "invite", "core", "--db", db])?;
    let new_code = String::from_utf8(invited.stdout)?
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(new_code.starts_with("wfi_") && new_code != code);

    let (mut second, url) = serve(db)?;
    let ana = Client::new(&url)?.with_token(&ana_j.token);
    let me = ana
        .team(ana_j.team.id)?
        .members
        .into_iter()
        .find(|m| m.id == ana_j.member_id)
        .ok_or("Ana")?;
    assert_eq!(
        (me.seq, me.state, me.until),
        (7, Some(State::Focus), update.until)
    );
    assert!(
        matches!(
            join(&url, &code, "Bo"),
            Err(Error::Refused { status: 403, .. })
        ),
        "the old code was replaced"
    );
    assert!(join(&url, &new_code, "Bo").is_ok());
    assert!(terminate(&mut second)?.success());
    Ok(())
}

#[test]
fn the_binary_says_what_is_wrong() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("sync.db");
    let db = db.to_str().ok_or("path")?;
    let no_db = weft_sync(&["serve", "--listen", "127.0.0.1:0"])?;
    assert_eq!(no_db.status.code(), Some(2));
    let empty = weft_sync(&["team", "create", " ", "--db", db])?;
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8(empty.stderr)?.contains("must not be empty"));
    assert!(weft_sync(&["team", "create", "Core", "--db", db])?
        .status
        .success());
    let twice = weft_sync(&["team", "create", "core", "--db", db])?;
    assert_eq!(twice.status.code(), Some(1));
    let missing = weft_sync(&["team", "invite", "Nope", "--db", db])?;
    assert_eq!(missing.status.code(), Some(1));

    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        b"this is not a database, but someone's notes".repeat(100),
    )?;
    let before = std::fs::read(&garbage)?;
    let refused = weft_sync(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        garbage.to_str().ok_or("path")?,
    ])?;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8(refused.stderr)?.contains("is not a SQLite database"));
    assert_eq!(
        std::fs::read(&garbage)?,
        before,
        "the file was left untouched"
    );
    Ok(())
}

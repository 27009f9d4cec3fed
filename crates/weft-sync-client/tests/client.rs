//! The client against a real server on 127.0.0.1:0 (and a few fake ones): what each failure
//! looks like to the app.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;
use weft_proto::sync::{PingRequest, StatusUpdate, SyncEvent};
use weft_proto::State;
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::{Client, Error, Frame};

type R = Result<(), Box<dyn std::error::Error>>;

/// A one-shot server that answers every connection with `answer`.
fn fake(answer: &'static str) -> Result<String, std::io::Error> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    Ok(url)
}

#[test]
fn failures_read_as_sentences() -> R {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}");
    let down = Client::new(&url)?.health();
    match down {
        Err(e @ Error::Unreachable(_)) => {
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("cannot reach the sync server at {url}: ")),
                "{text}"
            );
            assert!(text.contains("refused"), "{text}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    let bad = Client::new("sync.example.com");
    assert!(matches!(&bad, Err(Error::InvalidUrl(u)) if u == "sync.example.com"));
    if let Err(e) = bad {
        assert!(e.to_string().contains("is not a sync server address"));
    }

    let garbage = fake("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")?;
    assert!(matches!(
        Client::new(&garbage)?.health(),
        Err(Error::Protocol(_))
    ));
    let bare =
        fake("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad")?;
    match Client::new(&bare)?.health() {
        Err(Error::Refused {
            status: 502,
            code,
            message,
        }) => {
            assert_eq!(code, "unknown");
            assert!(message.contains("502"), "{message}");
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    Ok(())
}

#[test]
fn refusals_carry_the_server_s_reason() -> R {
    let server = TestServer::start(Config {
        rate_per_second: 1,
        ..Config::default()
    })?;
    let code = server.hub.create_team("Core")?.1;
    let client = Client::new(&format!("{}/", server.url))?;
    assert_eq!(client.server(), server.url);
    assert_eq!(client.health()?.status, "ok");

    let wrong = client.join("wfi_wrong", "Ana");
    assert!(
        matches!(&wrong, Err(e @ Error::Refused { status: 403, code, .. }) if code == "forbidden" && e.is_auth())
    );
    let joined = client.join(&code, "Ana")?;
    let taken = client.join(&code, "ana");
    assert!(matches!(&taken, Err(e @ Error::Refused { status: 409, .. }) if !e.is_auth()));
    if let Err(e) = taken {
        assert_eq!(
            e.to_string(),
            "the sync server refused the request (409): the name \"ana\" is taken in this team"
        );
    }
    let stranger = Client::new(&server.url)?.with_token("wft_unknown");
    assert!(matches!(stranger.team(joined.team.id), Err(e) if e.is_auth()));

    let ana = client.clone().with_token(&joined.token);
    let mut limited = None;
    for _ in 0..5 {
        if let Err(e) = ana.team(joined.team.id) {
            limited = Some(e);
            break;
        }
    }
    assert!(
        matches!(limited, Some(Error::RateLimited { retry_after: 1 })),
        "{limited:?}"
    );
    Ok(())
}

#[test]
fn the_stream_yields_events_and_ends_with_the_server() -> R {
    let server = TestServer::start(Config {
        rate_per_second: 0,
        ..Config::default()
    })?;
    let code = server.hub.create_team("Core")?.1;
    let anonymous = Client::new(&server.url)?;
    let ana_j = anonymous.join(&code, "Ana")?;
    let bo_j = anonymous.join(&code, "Bo")?;
    let ana = Client::new(&server.url)?.with_token(&ana_j.token);
    let bo = Client::new(&server.url)?.with_token(&bo_j.token);
    let team = ana_j.team.id;

    let events = ana.events(team, 0)?;
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        // Until the stream ends or the test stops listening (its receiver is dropped).
        events
            .map_while(|event| tx.send(event.map_err(|e| e.to_string())).ok())
            .for_each(drop);
    });
    let wait = Duration::from_secs(10);
    assert!(
        matches!(rx.recv_timeout(wait)?, Ok(SyncEvent::Snapshot(v)) if v.me == ana_j.member_id)
    );
    let update = StatusUpdate {
        seq: 1,
        state: State::Coordination,
        since: weft_proto::time::parse("2026-01-01T09:00:00Z")?,
        until: None,
        intent: None,
    };
    assert!(bo.put_status(team, bo_j.member_id, &update)?.applied);
    let sent = bo.ping(
        team,
        &PingRequest {
            to: "Ana".into(),
            text: "lunch?".into(),
            urgent: false,
        },
    )?;
    let mut got_status = false;
    loop {
        match rx.recv_timeout(wait)? {
            Ok(SyncEvent::Member(m)) if m.id == bo_j.member_id && m.seq == 1 => got_status = true,
            Ok(SyncEvent::Ping(p)) => {
                assert_eq!(
                    (p.id, p.from.as_str(), p.text.as_str()),
                    (sent.id, "Bo", "lunch?")
                );
                break;
            }
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
    assert!(got_status);

    drop(server);
    loop {
        match rx.recv_timeout(wait) {
            Ok(_) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => return Err("the stream did not end".into()),
        }
    }
    reader.join().map_err(|_| "reader panicked")?;
    Ok(())
}

#[test]
fn frames_show_keep_alives_and_leaving_ends_the_stream() -> R {
    let server = TestServer::start(Config {
        keep_alive: Duration::from_millis(50),
        ..Config::default()
    })?;
    let code = server.hub.create_team("Core")?.1;
    let ana_j = Client::new(&server.url)?.join(&code, "Ana")?;
    let ana = Client::new(&server.url)?.with_token(&ana_j.token);
    let team = ana_j.team.id;
    let mut events = ana.events(team, 0)?;
    assert!(matches!(
        events.next_frame(),
        Some(Ok(Frame::Event(SyncEvent::Snapshot(_))))
    ));
    let mut keep_alives = 0;
    while keep_alives < 2 {
        match events.next_frame() {
            Some(Ok(Frame::KeepAlive)) => keep_alives += 1,
            Some(Ok(Frame::Event(_))) => {}
            other => return Err(format!("unexpected {other:?}").into()),
        }
    }
    ana.leave(team, ana_j.member_id)?;
    let mut left = false;
    for event in events {
        if matches!(event?, SyncEvent::Left { id, .. } if id == ana_j.member_id) {
            left = true;
        }
    }
    assert!(left, "the stream said so before it ended");
    assert!(matches!(
        ana.team(team),
        Err(Error::Refused { status: 401, .. })
    ));
    Ok(())
}

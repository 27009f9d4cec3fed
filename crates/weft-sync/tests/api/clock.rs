//! A member whose clock is wrong is told so, by how much, and nothing wrong is shared.

use crate::support::*;
use chrono::{Duration as Span, Utc};
use std::io::{Read, Write};
use weft_proto::sync::*;
use weft_proto::State;
use weft_sync::testing::TestServer;
use weft_sync_client::Error;

/// A PUT of `body` with this `Date` header, over a raw socket: the status and the body.
fn put_with_date(
    url: &str,
    path: &str,
    token: &str,
    date: &str,
    body: &str,
) -> Result<(u16, String), Box<dyn std::error::Error>> {
    let mut stream = std::net::TcpStream::connect(url.trim_start_matches("http://"))?;
    write!(
        stream,
        "PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nDate: {date}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok((status, body))
}

#[test]
fn a_clock_two_hours_fast_is_told_so_and_its_times_are_not_shared() -> R {
    let server = TestServer::start(config())?;
    let (_, team, (ana, ana_j), (bo, bo_j)) = core(&server)?;

    // Ana's Weft runs two hours fast: "Focus since 18:10" at the server's 16:10.
    let mut fast = status(1, State::Focus, Some(50));
    fast.since = second(Utc::now() + Span::hours(2));
    match ana.put_status(team, ana_j.member_id, &fast) {
        Err(Error::ClockSkew(message)) => assert!(
            message.starts_with("your clock is about 2 h ahead of the server's"),
            "{message}"
        ),
        other => panic!("not refused as a clock error: {other:?}"),
    }
    // Nothing of it is shown, and a ping to Ana is not forecast from it.
    let shown = bo.team(team)?;
    assert!(shown.members.iter().all(|m| m.state.is_none()), "{shown:?}");
    let sent = bo.ping(
        team,
        &PingRequest {
            to: "Ana".into(),
            text: "review?".into(),
            urgent: false,
        },
    )?;
    assert_eq!(sent.outcome, PingOutcome::Queued);

    // A minute's difference is within the allowance.
    let mut close = status(2, State::Focus, None);
    close.since = second(Utc::now() + Span::seconds(30));
    assert!(ana.put_status(team, ana_j.member_id, &close)?.applied);

    // A clock three hours slow cannot be seen in `since` (a block may have begun three hours
    // ago): the request's Date header tells.
    let path = format!("/v1/teams/{team}/members/{}/status", bo_j.member_id);
    let body = serde_json::to_string(&status(1, State::Focus, None))?;
    let slow = (Utc::now() - Span::hours(3))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let (code, answer) = put_with_date(&server.url, &path, &bo_join_token(&bo_j), &slow, &body)?;
    let answer: ApiError = serde_json::from_str(&answer)?;
    assert_eq!((code, answer.error.as_str()), (400, "clock_skew"));
    assert!(
        answer
            .message
            .starts_with("your clock is about 3 h behind the server's"),
        "{}",
        answer.message
    );
    let right = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let (code, _) = put_with_date(&server.url, &path, &bo_join_token(&bo_j), &right, &body)?;
    assert_eq!(code, 200);
    Ok(())
}

fn bo_join_token(joined: &Joined) -> String {
    joined.token.clone()
}

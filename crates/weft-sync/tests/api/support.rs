//! Helpers: a server with a team, members joined through the client, statuses, and a live
//! stream read on its own thread that tests wait on with a deadline.

use chrono::{DateTime, Duration as Span, SubsecRound, Utc};
use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use weft_proto::sync::*;
use weft_proto::State;
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::{Client, Error};

pub type R = Result<(), Box<dyn std::error::Error>>;

pub const WAIT: Duration = Duration::from_secs(10);

pub fn config() -> Config {
    Config {
        rate_per_second: 0,
        join_rate_per_second: 0,
        ..Config::default()
    }
}

pub fn invite(server: &TestServer, team: &str) -> Result<String, weft_sync::Error> {
    Ok(server.hub.create_team(team)?.1)
}

pub fn join(url: &str, invite: &str, name: &str) -> Result<(Client, Joined), Error> {
    let joined = Client::new(url)?.join(invite, name)?;
    Ok((Client::new(url)?.with_token(&joined.token), joined))
}

/// A member as [`join`] returns it: its client and what the server said.
pub type Joiner = (Client, Joined);

/// Creates the team "Core" on `server`; Ana joins it, then Bo. Returns the invite code, the
/// team's id, Ana and Bo.
pub fn core(
    server: &TestServer,
) -> Result<(String, i64, Joiner, Joiner), Box<dyn std::error::Error>> {
    let code = invite(server, "Core")?;
    let ana = join(&server.url, &code, "Ana")?;
    let bo = join(&server.url, &code, "Bo")?;
    Ok((code, ana.1.team.id, ana, bo))
}

/// The status and error code of a refusal, or 0 and what came instead.
pub fn refused<T: std::fmt::Debug>(r: Result<T, Error>) -> (u16, String) {
    match r {
        Err(Error::Refused { status, code, .. }) => (status, code),
        other => (0, format!("{other:?}")),
    }
}

/// A time as a raw request body writes it, to the second.
pub fn rfc(t: DateTime<Utc>) -> String {
    weft_proto::time::format(second(t))
}

/// A time to the second, as the tests' statuses carry it.
pub fn second(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

pub fn status(seq: u64, state: State, until_minutes: Option<i64>) -> StatusUpdate {
    let now = Utc::now();
    StatusUpdate {
        seq,
        state,
        since: second(now),
        until: until_minutes.map(|m| second(now + Span::minutes(m))),
        intent: None,
    }
}

/// A live stream read on its own thread.
pub struct Stream {
    pub rx: mpsc::Receiver<Result<SyncEvent, String>>,
}

impl Stream {
    pub fn open(client: &Client, team: i64, after_ping: i64) -> Result<Stream, Error> {
        let events = client.events(team, after_ping)?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Until the stream ends or the test stops listening (its receiver is dropped).
            events
                .map_while(|event| tx.send(event.map_err(|e| e.to_string())).ok())
                .for_each(drop);
        });
        Ok(Stream { rx })
    }

    /// Events up to and including the first that matches, within [`WAIT`].
    pub fn until(
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
    pub fn ends(&self) -> bool {
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

pub fn member_is(id: i64, check: impl Fn(&Member) -> bool) -> impl Fn(&SyncEvent) -> bool {
    move |e| matches!(e, SyncEvent::Member(m) if m.id == id && check(m))
}

/// The status and one header's value of a GET over a raw socket (`token` as bearer, if any).
pub fn raw_get(
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

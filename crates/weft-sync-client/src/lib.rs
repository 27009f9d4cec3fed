//! `weft-sync-client`: the blocking client of Weft's sync server, used by the app's team
//! worker (no async runtime).
//!
//! [`Client`] wraps two `ureq` agents, one for requests (connect timeout 5 s, read and write
//! timeouts 10 s) and one for the live stream, and
//! the member's bearer token; [`Client::events`] opens the live stream as an [`Events`]
//! iterator whose reads time out after 45 s, three keep-alive intervals, so a dead server is
//! noticed ([`Events::next_frame`] also shows the keep-alives). Every failure is an [`Error`] whose message is a sentence for people.

mod error;
mod events;

pub use error::Error;
pub use events::{Events, Frame, MAX_EVENT_BYTES};

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;
use weft_proto::sync::{
    Health, JoinRequest, Joined, PingRequest, PingSent, StatusAck, StatusUpdate, TeamView,
};

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one read or write of a request may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the live stream may stay silent (the server sends keep-alives every 15 s).
pub const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(45);

/// A connection to one sync server, optionally as one member.
#[derive(Clone)]
pub struct Client {
    server: String,
    token: Option<String>,
    agent: ureq::Agent,
    stream_agent: ureq::Agent,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the server at `server` (http or https, with a host); a trailing '/' is
    /// dropped.
    pub fn new(server: &str) -> Result<Client, Error> {
        let server = server.trim().trim_end_matches('/').to_string();
        if !valid_url(&server) {
            return Err(Error::InvalidUrl(server));
        }
        let agent = |read: Duration| {
            ureq::AgentBuilder::new()
                .timeout_connect(CONNECT_TIMEOUT)
                .timeout_read(read)
                .timeout_write(IO_TIMEOUT)
                .user_agent(concat!("weft-sync-client/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Ok(Client {
            agent: agent(IO_TIMEOUT),
            stream_agent: agent(STREAM_READ_TIMEOUT),
            server,
            token: None,
        })
    }

    /// The same client acting as the member with this token.
    pub fn with_token(self, token: &str) -> Client {
        Client {
            token: Some(token.trim().to_string()),
            ..self
        }
    }

    /// The server's base URL, without a trailing '/'.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// `GET /v1/health`.
    pub fn health(&self) -> Result<Health, Error> {
        self.call(self.request("GET", "/v1/health"), None::<&()>)
    }

    /// `POST /v1/join`: trades an invite code for a member token.
    pub fn join(&self, invite: &str, name: &str) -> Result<Joined, Error> {
        let body = JoinRequest {
            invite: invite.trim().to_string(),
            name: name.to_string(),
        };
        self.call(self.request("POST", "/v1/join"), Some(&body))
    }

    /// `GET /v1/teams/{team}`.
    pub fn team(&self, team: i64) -> Result<TeamView, Error> {
        self.call(
            self.request("GET", &format!("/v1/teams/{team}")),
            None::<&()>,
        )
    }

    /// `PUT /v1/teams/{team}/members/{member}/status`.
    pub fn put_status(
        &self,
        team: i64,
        member: i64,
        update: &StatusUpdate,
    ) -> Result<StatusAck, Error> {
        let path = format!("/v1/teams/{team}/members/{member}/status");
        self.call(self.request("PUT", &path), Some(update))
    }

    /// `DELETE /v1/teams/{team}/members/{member}`: the member leaves the team (its token
    /// stops working).
    pub fn leave(&self, team: i64, member: i64) -> Result<(), Error> {
        let path = format!("/v1/teams/{team}/members/{member}");
        self.request("DELETE", &path)
            .call()
            .map_err(|e| Error::from_ureq(&self.server, e))?;
        Ok(())
    }

    /// `POST /v1/teams/{team}/pings`.
    pub fn ping(&self, team: i64, ping: &PingRequest) -> Result<PingSent, Error> {
        let path = format!("/v1/teams/{team}/pings");
        self.call(self.request("POST", &path), Some(ping))
    }

    /// Opens the live stream: the snapshot, the pings after `after_ping`, then live events.
    pub fn events(&self, team: i64, after_ping: i64) -> Result<Events, Error> {
        let url = format!(
            "{}/v1/teams/{team}/events?after_ping={after_ping}",
            self.server
        );
        let mut request = self
            .stream_agent
            .request("GET", &url)
            .set("Accept", "text/event-stream");
        if let Some(token) = &self.token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let response = request
            .call()
            .map_err(|e| Error::from_ureq(&self.server, e))?;
        Ok(Events::new(response.into_reader(), self.server.clone()))
    }

    /// Sends a raw request body (for tests of what the server refuses) and returns the
    /// answer's status and body text.
    pub fn raw(&self, method: &str, path: &str, body: &[u8]) -> Result<(u16, String), Error> {
        let request = self
            .request(method, path)
            .set("Content-Type", "application/json");
        let response = match request.send_bytes(body) {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(e) => return Err(Error::from_ureq(&self.server, e)),
        };
        let status = response.status();
        let text = response
            .into_string()
            .map_err(|e| Error::unreachable(&self.server, &e.to_string()))?;
        Ok((status, text))
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        // The Date header tells the server this computer's clock, so it can say when the
        // clock is wrong instead of sharing wrong times (RFC 9110 lets a client send it).
        let request = self
            .agent
            .request(method, &format!("{}{path}", self.server))
            .set("Accept", "application/json")
            .set("Date", &http_date(chrono::Utc::now()));
        match &self.token {
            Some(token) => request.set("Authorization", &format!("Bearer {token}")),
            None => request,
        }
    }

    fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        request: ureq::Request,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let result = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        let response = result.map_err(|e| Error::from_ureq(&self.server, e))?;
        let text = response
            .into_string()
            .map_err(|e| Error::unreachable(&self.server, &e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Protocol(format!(
                "the sync server at {} sent an answer this Weft does not understand: {e}",
                self.server
            ))
        })
    }
}

/// A time as an HTTP date (IMF-fixdate): `Mon, 30 Nov 2026 16:10:00 GMT`.
fn http_date(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// An http(s) URL with a host and nothing that cannot be in a URL.
fn valid_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
            if !port.is_empty() && port.parse::<u16>().is_err() && !host.starts_with('[') {
                return false;
            }
            host
        }
        _ => host,
    };
    !host.is_empty()
        && !host.starts_with(':')
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && !rest.contains(['?', '#'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_http_dates() {
        use chrono::TimeZone;
        let time = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 6, 5, 4).single();
        assert_eq!(
            time.map(http_date).as_deref(),
            Some("Mon, 30 Nov 2026 06:05:04 GMT")
        );
    }

    #[test]
    fn urls_are_checked() {
        for good in [
            "http://127.0.0.1:7070",
            "https://sync.example.com/",
            "http://[::1]:80",
            "https://h/base",
        ] {
            assert!(Client::new(good).is_ok(), "{good}");
        }
        assert_eq!(
            Client::new("https://sync.example.com/")
                .map(|c| c.server().to_string())
                .ok()
                .as_deref(),
            Some("https://sync.example.com")
        );
        for bad in [
            "",
            "sync.example.com",
            "ftp://x",
            "http://",
            "http:///x",
            "http://a b",
            "http://h:port",
            "http://h?x=1",
        ] {
            assert!(
                matches!(Client::new(bad), Err(Error::InvalidUrl(_))),
                "{bad}"
            );
        }
    }
}

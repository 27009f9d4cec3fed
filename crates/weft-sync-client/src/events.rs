//! The live stream as a blocking iterator of [`SyncEvent`]s, parsed from Server-Sent Events.
//!
//! [`Events::next_frame`] also yields the server's keep-alives (every 15 s at most), so a
//! caller can look at its own state at least that often; the [`Iterator`] skips them.

use crate::Error;
use std::io::{BufRead, BufReader, Read};
use weft_proto::sync::SyncEvent;

/// The longest line the client accepts on the stream (an event is far smaller).
const MAX_LINE_BYTES: usize = 1024 * 1024;

/// The most `data` one event may carry over all its lines.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// One thing read from the stream: an event, or a keep-alive comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Event(SyncEvent),
    /// The server is there and has nothing to say.
    KeepAlive,
}

/// Blocking iterator of parsed SSE events (ignores comments and unknown event types); ends
/// (`None`) when the server closes the stream; yields `Err` on a read or parse error, and
/// ends after it.
pub struct Events {
    reader: BufReader<Box<dyn Read + Send + Sync + 'static>>,
    server: String,
    done: bool,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Events {
    pub(crate) fn new(reader: Box<dyn Read + Send + Sync + 'static>, server: String) -> Events {
        Events {
            reader: BufReader::new(reader),
            server,
            done: false,
        }
    }

    fn fail(&mut self, error: Error) -> Option<Result<Frame, Error>> {
        self.done = true;
        Some(Err(error))
    }

    /// The next event or keep-alive; `None` when the server closed the stream, `Err` on a
    /// read or parse error (and `None` after it).
    pub fn next_frame(&mut self) -> Option<Result<Frame, Error>> {
        let mut kind = String::new();
        let mut data = String::new();
        let mut line = Vec::new();
        while !self.done {
            line.clear();
            let read = (&mut self.reader)
                .take(MAX_LINE_BYTES as u64)
                .read_until(b'\n', &mut line);
            match read {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => {}
                Err(e) => {
                    let reason = if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) {
                        "the live stream went silent (timed out)".to_string()
                    } else {
                        format!("the live stream broke off ({e})")
                    };
                    return self.fail(Error::unreachable(&self.server, &reason));
                }
            }
            if !line.ends_with(b"\n") && line.len() >= MAX_LINE_BYTES {
                return self.fail(Error::Protocol(format!(
                    "the sync server at {} sent a line longer than {MAX_LINE_BYTES} bytes",
                    self.server
                )));
            }
            let Ok(text) = std::str::from_utf8(&line) else {
                return self.fail(Error::Protocol(format!(
                    "the sync server at {} sent text that is not UTF-8",
                    self.server
                )));
            };
            let text = text.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                if !data.is_empty() && SyncEvent::KINDS.contains(&kind.as_str()) {
                    return Some(serde_json::from_str(&data).map(Frame::Event).map_err(|e| {
                        Error::Protocol(format!(
                            "the sync server at {} sent a {kind} event this Weft does not understand: {e}",
                            self.server
                        ))
                    }));
                }
                kind.clear();
                data.clear();
                continue;
            }
            if text.starts_with(':') {
                if kind.is_empty() && data.is_empty() {
                    return Some(Ok(Frame::KeepAlive));
                }
                continue;
            }
            let (field, value) = text.split_once(':').unwrap_or((text, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => kind = value.to_string(),
                "data" => {
                    if data.len() + value.len() + 1 > MAX_EVENT_BYTES {
                        return self.fail(Error::Protocol(format!(
                            "the sync server at {} sent an event larger than {MAX_EVENT_BYTES} bytes",
                            self.server
                        )));
                    }
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value);
                }
                _ => {}
            }
        }
        None
    }
}

impl Iterator for Events {
    type Item = Result<SyncEvent, Error>;

    /// The next event; keep-alives are skipped.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_frame()? {
                Ok(Frame::Event(event)) => return Some(Ok(event)),
                Ok(Frame::KeepAlive) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &'static str) -> Vec<Result<SyncEvent, Error>> {
        Events::new(Box::new(text.as_bytes()), "http://test".into()).collect()
    }

    #[test]
    fn parses_events_and_skips_the_rest() {
        let events = parse(
            ": keep-alive\n\nevent: ping\ndata: {\"type\":\"ping\",\"id\":3,\"from\":\"Bo\",\"text\":\"hi\",\"urgent\":false,\"sent_at\":\"2026-11-24T09:00:00Z\"}\n\nevent: future\ndata: {}\n\n",
        );
        assert_eq!(events.len(), 1);
        assert!(matches!(&events[0], Ok(SyncEvent::Ping(p)) if p.id == 3));
        let broken = parse("event: member\ndata: {\"nope\":1}\n\n");
        assert!(matches!(&broken[..], [Err(Error::Protocol(_))]));
        let left = parse("event: left\ndata: {\"type\":\"left\",\"id\":4,\"name\":\"Bo\"}\n\n");
        assert!(matches!(&left[..], [Ok(SyncEvent::Left { id: 4, name })] if name == "Bo"));
    }

    #[test]
    fn frames_include_keep_alives() {
        let mut events = Events::new(
            Box::new(&b": keep-alive\n\nevent: left\ndata: {\"type\":\"left\",\"id\":4,\"name\":\"Bo\"}\n\n: keep-alive\n\n"[..]),
            "http://test".into(),
        );
        let mut frames = Vec::new();
        while let Some(frame) = events.next_frame() {
            frames.push(frame.map_err(|e| e.to_string()));
        }
        assert_eq!(
            frames,
            [
                Ok(Frame::KeepAlive),
                Ok(Frame::Event(SyncEvent::Left {
                    id: 4,
                    name: "Bo".into()
                })),
                Ok(Frame::KeepAlive),
            ]
        );
    }

    #[test]
    fn an_event_too_large_is_refused() {
        // Many short data lines, each well under the line limit, that add up past the cap.
        let line = format!("data: {}\n", "x".repeat(1000));
        let mut text = String::from("event: member\n");
        while text.len() < MAX_EVENT_BYTES + 64 * 1024 {
            text.push_str(&line);
        }
        text.push('\n');
        let events: Vec<_> =
            Events::new(Box::new(std::io::Cursor::new(text)), "http://test".into()).collect();
        assert!(
            matches!(&events[..], [Err(Error::Protocol(m))] if m.contains("larger than")),
            "{events:?}"
        );
    }
}

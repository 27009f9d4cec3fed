//! The live stream as a blocking iterator of [`SyncEvent`]s, parsed from Server-Sent Events.

use crate::Error;
use std::io::{BufRead, BufReader, Read};
use weft_proto::sync::SyncEvent;

/// The longest line the client accepts on the stream (an event is far smaller).
const MAX_LINE_BYTES: usize = 1024 * 1024;

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

    fn fail(&mut self, error: Error) -> Option<Result<SyncEvent, Error>> {
        self.done = true;
        Some(Err(error))
    }
}

impl Iterator for Events {
    type Item = Result<SyncEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
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
                    return self.fail(Error::Unreachable(format!(
                        "cannot reach the sync server at {}: {reason}",
                        self.server
                    )));
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
                if !data.is_empty() && matches!(kind.as_str(), "snapshot" | "member" | "ping") {
                    return Some(serde_json::from_str(&data).map_err(|e| {
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
                continue;
            }
            let (field, value) = text.split_once(':').unwrap_or((text, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => kind = value.to_string(),
                "data" => {
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
    }
}

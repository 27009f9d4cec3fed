//! One member's live stream (`GET /v1/teams/{team}/events`): counts its snapshot and records
//! `(member id, seq, arrival time)` of every other member's event, parsing only those two
//! fields.

use crate::http::{find, BodyLen, Chunked, Conn, Request};
use anyhow::{bail, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A member event as seen by one stream.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub member: i64,
    pub seq: u64,
    pub at: Instant,
}

/// Counters shared by every stream of a round.
#[derive(Debug, Default)]
pub struct StreamCounters {
    pub snapshots: AtomicUsize,
    /// Member events with seq > 0: the switching phase waits on this.
    pub member_events: AtomicUsize,
    pub failed: AtomicUsize,
    pub first_error: Mutex<Option<String>>,
}

/// Where one stream leaves what it saw.
pub type Log = Arc<Mutex<Vec<Delivery>>>;

/// The only fields of a member event the generator reads.
#[derive(Deserialize)]
struct MemberSeq {
    id: i64,
    seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Snapshot,
    Member,
    Other,
}

/// Runs until the connection fails or the task is aborted; a failure is counted, not returned.
pub async fn run(
    addr: SocketAddr,
    path: String,
    token: String,
    me: i64,
    counters: Arc<StreamCounters>,
    log: Log,
) {
    if let Err(err) = follow(addr, &path, &token, me, &counters, &log).await {
        counters.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = counters.first_error.lock() {
            first.get_or_insert_with(|| format!("{err:#}"));
        }
    }
}

async fn follow(
    addr: SocketAddr,
    path: &str,
    token: &str,
    me: i64,
    counters: &StreamCounters,
    log: &Log,
) -> Result<()> {
    let mut conn = Conn::connect(addr).await?;
    conn.send(Request {
        method: "GET",
        path,
        token: Some(token),
        accept: Some("text/event-stream"),
        json: None,
    })
    .await?;
    let head = conn.read_head().await?;
    if head.status != 200 {
        bail!("the event stream answered HTTP {}", head.status);
    }
    let mut decoder = Chunked::default();
    let mut text: Vec<u8> = Vec::with_capacity(4096);
    let mut seen: Vec<Delivery> = Vec::new();
    // Bytes already buffered after the head come first; later ones need a read (what is
    // left in `buf` after decoding is an incomplete chunk header, so never loop without one).
    let mut fresh = !conn.buf.is_empty();
    loop {
        if !fresh && conn.fill().await? == 0 {
            bail!("the server closed the event stream");
        }
        fresh = false;
        let at = Instant::now();
        match head.body {
            BodyLen::Chunked => {
                let used = decoder.decode(&conn.buf, &mut text)?;
                conn.buf.drain(..used);
                if decoder.is_done() {
                    bail!("the server ended the event stream");
                }
            }
            _ => text.append(&mut conn.buf),
        }
        let mut start = 0;
        while let Some(len) = find(&text[start..], b"\n\n") {
            let block = &text[start..start + len];
            start += len + 2;
            match event(block) {
                (Kind::Snapshot, _) => {
                    counters.snapshots.fetch_add(1, Ordering::Relaxed);
                }
                (Kind::Member, Some(data)) => {
                    let member: MemberSeq = serde_json::from_slice(data)?;
                    // Seq 0: a member without a status came online; own events do not count.
                    if member.seq > 0 && member.id != me {
                        seen.push(Delivery {
                            member: member.id,
                            seq: member.seq,
                            at,
                        });
                    }
                }
                _ => {}
            }
        }
        text.drain(..start);
        if !seen.is_empty() {
            counters
                .member_events
                .fetch_add(seen.len(), Ordering::Relaxed);
            if let Ok(mut log) = log.lock() {
                log.append(&mut seen);
            }
            seen.clear();
        }
    }
}

/// The kind and `data:` line of one SSE event block (lines split by `\n`, as axum writes them).
fn event(block: &[u8]) -> (Kind, Option<&[u8]>) {
    let mut kind = None;
    let mut data = None;
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(value) = line.strip_prefix(b"event:") {
            kind = Some(match value.trim_ascii() {
                b"snapshot" => Kind::Snapshot,
                b"member" => Kind::Member,
                _ => Kind::Other,
            });
        } else if let Some(value) = line.strip_prefix(b"data:") {
            data = Some(value.trim_ascii());
        }
    }
    // Without an `event:` line the JSON's leading `"type"` tag says what it is.
    let kind = kind.unwrap_or_else(|| match data {
        Some(d) if d.starts_with(br#"{"type":"snapshot""#) => Kind::Snapshot,
        Some(d) if d.starts_with(br#"{"type":"member""#) => Kind::Member,
        _ => Kind::Other,
    });
    (kind, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A chunked SSE answer written in pieces that split a chunk header and an event.
    #[tokio::test]
    async fn a_stream_records_other_members_events_across_split_writes() -> Result<()> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await?;
            let mut request = [0u8; 1024];
            let _ = sock.read(&mut request).await?;
            let body = concat!(
                "event: snapshot\ndata: {\"type\":\"snapshot\"}\n\n",
                "event: member\ndata: {\"type\":\"member\",\"id\":2,\"seq\":0}\n\n",
                "event: member\ndata: {\"type\":\"member\",\"id\":1,\"seq\":4}\n\n",
                "event: member\ndata: {\"type\":\"member\",\"id\":2,\"seq\":7}\n\n",
            );
            let mut wire = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            for part in [&body[..30], &body[30..100], &body[100..]] {
                wire.extend_from_slice(format!("{:x}\r\n{part}\r\n", part.len()).as_bytes());
            }
            for piece in wire.chunks(7) {
                sock.write_all(piece).await?;
                sock.flush().await?;
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            anyhow::Ok(())
        });
        let counters = Arc::new(StreamCounters::default());
        let log: Log = Arc::default();
        let stream = tokio::spawn(run(
            addr,
            "/events".into(),
            "t".into(),
            1,
            counters.clone(),
            log.clone(),
        ));
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while counters.member_events.load(Ordering::Relaxed) < 1 && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        stream.abort();
        server.abort();
        assert_eq!(counters.snapshots.load(Ordering::Relaxed), 1);
        assert_eq!(counters.failed.load(Ordering::Relaxed), 0);
        let seen: Vec<(i64, u64)> = log
            .lock()
            .map(|l| l.iter().map(|d| (d.member, d.seq)).collect())
            .unwrap_or_default();
        assert_eq!(seen, [(2, 7)], "own events and seq 0 are not recorded");
        Ok(())
    }

    #[test]
    fn events_are_classified_by_name_or_tag() {
        let (kind, data) = event(b"event: member\ndata: {\"type\":\"member\",\"id\":3,\"seq\":9}");
        assert_eq!(kind, Kind::Member);
        let member: Option<MemberSeq> = data.and_then(|d| serde_json::from_slice(d).ok());
        assert!(matches!(member, Some(MemberSeq { id: 3, seq: 9 })));
        assert_eq!(
            event(b"data: {\"type\":\"snapshot\",\"team\":{}}").0,
            Kind::Snapshot
        );
        assert_eq!(event(b": keep-alive").0, Kind::Other);
    }
}

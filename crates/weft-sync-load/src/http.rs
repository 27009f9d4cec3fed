//! A minimal HTTP/1.1 client on plain tokio TCP: one request at a time per connection,
//! keep-alive, bodies by `Content-Length`, chunked or until close.
//!
//! Deliberately tiny instead of hyper: the generator holds 10k live streams in the same two
//! cores as the server it measures, so each stream is one task, one socket and one buffer, and
//! an event costs one `read` plus a scan for the blank line that ends it.

use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Refuse response heads larger than this (the server's are a few hundred bytes).
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How a response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLen {
    Length(usize),
    Chunked,
    UntilClose,
}

/// The parts of a response head the generator looks at.
#[derive(Debug, Clone, Copy)]
pub struct Head {
    pub status: u16,
    pub body: BodyLen,
    /// The server said `Connection: close`.
    pub close: bool,
}

/// A complete response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// The connection may carry another request.
    pub reusable: bool,
}

/// A request to send.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub token: Option<&'a str>,
    pub accept: Option<&'a str>,
    pub json: Option<&'a [u8]>,
}

/// One TCP connection to the server and the bytes read from it but not yet consumed.
pub struct Conn {
    stream: TcpStream,
    host: String,
    /// Read but not yet consumed.
    pub buf: Vec<u8>,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            host: addr.to_string(),
            buf: Vec::with_capacity(2048),
        })
    }

    /// Writes one request.
    pub async fn send(&mut self, req: Request<'_>) -> Result<()> {
        let mut head = String::with_capacity(256);
        let _ = write!(
            head,
            "{} {} HTTP/1.1\r\nHost: {}\r\n",
            req.method, req.path, self.host
        );
        if let Some(token) = req.token {
            let _ = write!(head, "Authorization: Bearer {token}\r\n");
        }
        if let Some(accept) = req.accept {
            let _ = write!(head, "Accept: {accept}\r\n");
        }
        let body = req.json.unwrap_or_default();
        if req.json.is_some() {
            let _ = write!(
                head,
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            );
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        self.stream
            .write_all(&bytes)
            .await
            .context("sending a request")?;
        Ok(())
    }

    /// Reads more bytes into `buf`; 0 means the server closed the connection.
    pub async fn fill(&mut self) -> Result<usize> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(4096);
        }
        let n = self
            .stream
            .read_buf(&mut self.buf)
            .await
            .context("reading from the server")?;
        Ok(n)
    }

    /// Reads and parses the next response head, leaving the body's first bytes in `buf`.
    pub async fn read_head(&mut self) -> Result<Head> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = parse_head(&self.buf[..end])?;
                self.buf.drain(..end + 4);
                return Ok(head);
            }
            if self.buf.len() > MAX_HEAD_BYTES {
                bail!("response head larger than {MAX_HEAD_BYTES} bytes");
            }
            if self.fill().await? == 0 {
                bail!("the server closed the connection before answering");
            }
        }
    }

    /// Sends a request and reads the whole response.
    pub async fn request(&mut self, req: Request<'_>) -> Result<Response> {
        self.send(req).await?;
        let head = self.read_head().await?;
        let body = match head.body {
            BodyLen::Length(n) => {
                while self.buf.len() < n {
                    if self.fill().await? == 0 {
                        bail!("the server closed the connection inside a response body");
                    }
                }
                self.buf.drain(..n).collect()
            }
            BodyLen::Chunked => {
                let mut decoder = Chunked::default();
                let mut out = Vec::new();
                loop {
                    let used = decoder.decode(&self.buf, &mut out)?;
                    self.buf.drain(..used);
                    if decoder.is_done() {
                        break;
                    }
                    if self.fill().await? == 0 {
                        bail!("the server closed the connection inside a chunked body");
                    }
                }
                out
            }
            BodyLen::UntilClose => {
                while self.fill().await? > 0 {}
                std::mem::take(&mut self.buf)
            }
        };
        Ok(Response {
            status: head.status,
            body,
            reusable: !head.close && head.body != BodyLen::UntilClose,
        })
    }
}

fn parse_head(head: &[u8]) -> Result<Head> {
    let text = std::str::from_utf8(head).context("response head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let mut body = BodyLen::UntilClose;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse()
                .with_context(|| format!("bad Content-Length {value:?}"))?;
            if body != BodyLen::Chunked {
                body = BodyLen::Length(n);
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            body = BodyLen::Chunked;
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            close = true;
        }
    }
    if status == 204 || status == 304 {
        body = BodyLen::Length(0);
    }
    Ok(Head {
        status,
        body,
        close,
    })
}

/// Incremental decoder of `Transfer-Encoding: chunked`.
#[derive(Debug, Default)]
pub struct Chunked {
    state: ChunkState,
    remaining: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Data,
    DataEnd,
    Trailer,
    Done,
}

impl Chunked {
    /// Decodes what it can of `input` into `out`; returns how many input bytes it used.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                ChunkState::Size => {
                    let Some(eol) = find(rest, b"\r\n") else {
                        if rest.len() > 1024 {
                            bail!("chunk size line too long");
                        }
                        return Ok(pos);
                    };
                    let line = &rest[..eol];
                    let hex = line.split(|&b| b == b';').next().unwrap_or_default();
                    let hex = std::str::from_utf8(hex).context("chunk size is not UTF-8")?;
                    let size = usize::from_str_radix(hex.trim(), 16)
                        .with_context(|| format!("bad chunk size {hex:?}"))?;
                    pos += eol + 2;
                    if size == 0 {
                        self.state = ChunkState::Trailer;
                    } else {
                        self.remaining = size;
                        self.state = ChunkState::Data;
                    }
                }
                ChunkState::Data => {
                    let take = self.remaining.min(rest.len());
                    if take == 0 {
                        return Ok(pos);
                    }
                    out.extend_from_slice(&rest[..take]);
                    pos += take;
                    self.remaining -= take;
                    if self.remaining == 0 {
                        self.state = ChunkState::DataEnd;
                    }
                }
                ChunkState::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(pos);
                    }
                    if &rest[..2] != b"\r\n" {
                        bail!("chunk not followed by CRLF");
                    }
                    pos += 2;
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailer => {
                    let Some(eol) = find(rest, b"\r\n") else {
                        return Ok(pos);
                    };
                    pos += eol + 2;
                    if eol == 0 {
                        self.state = ChunkState::Done;
                    }
                }
                ChunkState::Done => return Ok(pos),
            }
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }
}

/// The first position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode_across_reads() {
        let wire = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        for split in 0..wire.len() {
            let mut decoder = Chunked::default();
            let mut out = Vec::new();
            let mut pending = wire[..split].to_vec();
            let used = decoder.decode(&pending, &mut out).unwrap_or(usize::MAX);
            pending.drain(..used);
            pending.extend_from_slice(&wire[split..]);
            let used = decoder.decode(&pending, &mut out).unwrap_or(usize::MAX);
            assert_eq!(used, pending.len(), "split at {split}");
            assert!(decoder.is_done());
            assert_eq!(out, b"hello, world");
        }
    }

    #[test]
    fn heads_give_status_and_body_length() {
        let head =
            parse_head(b"HTTP/1.1 201 Created\r\ncontent-length: 12\r\nconnection: close").ok();
        assert!(matches!(
            head,
            Some(Head {
                status: 201,
                body: BodyLen::Length(12),
                close: true
            })
        ));
        let head = parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked").ok();
        assert!(matches!(
            head,
            Some(Head {
                body: BodyLen::Chunked,
                close: false,
                ..
            })
        ));
    }
}

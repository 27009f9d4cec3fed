//! The control socket: `$XDG_RUNTIME_DIR/weft/weft.sock`, mode 0600, in a 0700 directory.
//!
//! Framing is one JSON [`Request`] per line in, one JSON [`Response`] per line out, on a
//! connection that may carry several requests. A request may come in an [`Envelope`] with a
//! deadline on the boot clock: one read after its deadline (the client stopped waiting, e.g.
//! because the app was stopped or busy) is refused, never applied late. [`call`] always sends
//! one; a bare request (scripts, older clients) has no deadline. A line longer than [`MAX_LINE`] or a line that
//! is not a request gets an error response, never a panic. Each connection has its own thread
//! and an idle timeout, so a stuck client cannot hold anything up.

use crate::time::Deadline;
use crate::{Error, Result};
use std::io::{BufRead, BufReader, ErrorKind as IoKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;
use weft_proto::{Envelope, ErrorKind, Event, Request, Response};

/// Longest request line accepted, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// How long a connection may sit idle before the server closes it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a watching connection checks that its client is still there.
const WATCH_CHECK: Duration = Duration::from_secs(2);

/// Connections served at once; more are refused (a local client gone haywire).
const MAX_CONNECTIONS: usize = 64;

/// How long the client waits for the app's answer.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much earlier than the client gives up its request's deadline falls, so that a request
/// the app starts on just in time is also answered in time.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// How long the client waits when the app must ask the sync server (join, leave, ping): the
/// team client's connect, write and read timeouts (5 + 10 + 10 s), with room to spare. The
/// core does not link the team client, so `weft-team` checks at compile time that this still
/// covers its timeouts.
pub const TEAM_TIMEOUT: Duration = Duration::from_secs(45);

fn timeout_for(request: &Request) -> Duration {
    match request {
        Request::TeamJoin { .. } | Request::TeamLeave { .. } | Request::Ping { .. } => TEAM_TIMEOUT,
        _ => CLIENT_TIMEOUT,
    }
}

/// What the socket serves: the app passes its dispatcher.
pub trait Handler: Send + Sync {
    /// Answers one request.
    /// Answers one request; what it changes is committed before `deadline` or not at all.
    fn handle(&self, request: Request, deadline: Option<Deadline>) -> Response;
    /// Starts following events for a [`Request::Watch`] connection.
    fn watch(&self) -> Receiver<Event>;
}

/// Binds the socket. The caller must hold the [instance lock](crate::instance): any socket
/// file already there was left by a crashed instance and is removed.
pub fn bind(path: &Path) -> Result<UnixListener> {
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => log::info!("removed a stale control socket at {}", path.display()),
        Err(e) if e.kind() == IoKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    let listener = UnixListener::bind(path).map_err(|e| Error::io(path, e))?;
    // After listen(2): `weft status --follow` takes this change of mode (inotify ATTRIB) as
    // the sign that the socket takes connections.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io(path, e))?;
    Ok(listener)
}

/// Serves requests on a background thread until the process ends.
pub fn serve(listener: UnixListener, handler: Arc<dyn Handler>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("weft-control".into())
        .spawn(move || {
            let open = Arc::new(AtomicUsize::new(0));
            for stream in listener.incoming() {
                match stream {
                    Ok(mut stream) if open.load(Ordering::SeqCst) >= MAX_CONNECTIONS => {
                        let _ = send(
                            &mut stream,
                            &Response::error(ErrorKind::Unavailable, "too many connections"),
                        );
                    }
                    Ok(stream) => {
                        let handler = handler.clone();
                        let open = open.clone();
                        open.fetch_add(1, Ordering::SeqCst);
                        let spawned = std::thread::Builder::new()
                            .name("weft-control-conn".into())
                            .spawn(move || {
                                serve_connection(stream, &handler);
                                open.fetch_sub(1, Ordering::SeqCst);
                            });
                        if let Err(e) = spawned {
                            log::error!("control socket: cannot start a connection thread: {e}");
                        }
                    }
                    Err(e) => {
                        log::warn!("control socket: accept failed: {e}");
                        // E.g. out of file descriptors: do not spin.
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
            }
        })
        .map(drop)
}

fn serve_connection(stream: UnixStream, handler: &Arc<dyn Handler>) {
    let timeouts = stream
        .set_read_timeout(Some(IDLE_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IDLE_TIMEOUT)));
    if let Err(e) = timeouts {
        log::warn!("control socket: {e}");
    }
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let response = match read_line(&mut reader) {
            Ok(Some(line)) if line.trim().is_empty() => continue,
            Ok(Some(line)) => match parse_request(&line) {
                Ok((Request::Watch, _)) => {
                    stream_events(&mut writer, &handler.watch());
                    return;
                }
                Ok((request, Some(deadline))) if crate::time::boot_ms() > deadline => {
                    expired(&request, deadline)
                }
                Ok((request, deadline)) => {
                    handler.handle(request, deadline.map(Deadline::at_boot_ms))
                }
                Err(e) => {
                    Response::error(ErrorKind::BadRequest, format!("not a Weft request: {e}"))
                }
            },
            Ok(None) => return,
            Err(LineError::TooLong) => {
                let _ = send(
                    &mut writer,
                    &Response::error(
                        ErrorKind::BadRequest,
                        format!("request longer than {MAX_LINE} bytes"),
                    ),
                );
                return;
            }
            Err(LineError::NotUtf8) => {
                Response::error(ErrorKind::BadRequest, "request is not valid UTF-8")
            }
            Err(LineError::Io(e)) => {
                if !matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) {
                    log::debug!("control socket: connection ended: {e}");
                }
                return;
            }
        };
        if send(&mut writer, &response).is_err() {
            return;
        }
    }
}

/// A request, bare or in an [`Envelope`], and its deadline on the boot clock if it has one.
fn parse_request(line: &str) -> serde_json::Result<(Request, Option<u64>)> {
    let value: serde_json::Value = serde_json::from_str(line)?;
    if value.get("request").is_some() {
        let envelope: Envelope = serde_json::from_value(value)?;
        Ok((envelope.request, Some(envelope.deadline_boot_ms)))
    } else {
        Ok((serde_json::from_value(value)?, None))
    }
}

/// The answer to a request read after its deadline: it is not carried out.
fn expired(request: &Request, deadline: u64) -> Response {
    let late = crate::time::boot_ms().saturating_sub(deadline);
    let what = serde_json::to_value(request)
        .ok()
        .and_then(|v| v.get("cmd").and_then(|c| c.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "a".to_owned());
    log::warn!(
        "refused a {what} request read {late} ms past its deadline: its client had stopped \
         waiting (was Weft stopped or busy?), so it was not carried out"
    );
    Response::error(
        ErrorKind::Unavailable,
        format!(
            "Weft read this request {late} ms after its sender stopped waiting for an answer, so \
             it was not carried out; try again"
        ),
    )
}

/// Writes events until the app drops the watcher or the client goes away. Between events it
/// checks every [`WATCH_CHECK`] whether the client has closed its end, so a window that
/// closed while nothing happened does not keep this thread (and its watcher) alive.
fn stream_events(writer: &mut UnixStream, events: &Receiver<Event>) {
    loop {
        let event = match events.recv_timeout(WATCH_CHECK) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) if client_left(writer) => return,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let Ok(mut line) = serde_json::to_vec(&event) else {
            return;
        };
        line.push(b'\n');
        if writer
            .write_all(&line)
            .and_then(|()| writer.flush())
            .is_err()
        {
            return;
        }
    }
}

/// True when the peer has closed the connection. A watcher sends nothing after `watch`, so
/// anything it does send is read and ignored.
fn client_left(stream: &UnixStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut scratch = [0u8; 256];
    let left = match (&*stream).read(&mut scratch) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != IoKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    left
}

enum LineError {
    TooLong,
    NotUtf8,
    Io(std::io::Error),
}

/// Reads one `\n`-terminated line of at most [`MAX_LINE`] bytes; `None` at end of stream.
fn read_line(reader: &mut impl BufRead) -> std::result::Result<Option<String>, LineError> {
    let mut bytes = Vec::new();
    let read = reader
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut bytes)
        .map_err(LineError::Io)?;
    if read == 0 {
        return Ok(None);
    }
    if bytes.last() != Some(&b'\n') && bytes.len() > MAX_LINE {
        return Err(LineError::TooLong);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| LineError::NotUtf8)
}

fn send(writer: &mut impl Write, response: &Response) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(response).map_err(std::io::Error::other)?;
    line.push(b'\n');
    writer.write_all(&line)?;
    writer.flush()
}

fn connect(socket: &Path) -> Result<UnixStream> {
    match UnixStream::connect(socket) {
        Ok(stream) => Ok(stream),
        Err(e)
            if matches!(
                e.kind(),
                IoKind::NotFound | IoKind::ConnectionRefused | IoKind::NotADirectory
            ) =>
        {
            Err(Error::NotRunning {
                socket: socket.to_owned(),
            })
        }
        Err(e) => Err(Error::io(socket, e)),
    }
}

/// Follows the running app: an iterator of its events, starting with the current status. It
/// ends when the app closes the connection (e.g. because it quit).
pub fn watch(socket: &Path) -> Result<impl Iterator<Item = Result<Event>>> {
    let stream = connect(socket)?;
    let mut line = serde_json::to_vec(&Request::Watch).map_err(|e| Error::Protocol {
        socket: socket.to_owned(),
        detail: e.to_string(),
    })?;
    line.push(b'\n');
    (&stream)
        .write_all(&line)
        .map_err(|e| Error::io(socket, e))?;
    let socket = socket.to_owned();
    Ok(BufReader::new(stream).lines().map(move |line| {
        let line = line.map_err(|e| Error::io(&socket, e))?;
        serde_json::from_str(&line).map_err(|e| Error::Protocol {
            socket: socket.clone(),
            detail: format!("{e}: {line}"),
        })
    }))
}

/// Sends one request to the running app and waits for its answer. The request goes in an
/// [`Envelope`] whose deadline falls [`DEADLINE_MARGIN`] before this call gives up, so a
/// request this call gave up on is never carried out later.
pub fn call(socket: &Path, request: &Request) -> Result<Response> {
    let stream = connect(socket)?;
    let timeout = timeout_for(request);
    let protocol = |detail: String| Error::Protocol {
        socket: socket.to_owned(),
        detail,
    };
    let io = |e: std::io::Error| {
        if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) {
            Error::Timeout {
                socket: socket.to_owned(),
                seconds: timeout.as_secs(),
            }
        } else {
            Error::io(socket, e)
        }
    };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    // The app refuses the request once this client has stopped waiting for it.
    let budget = timeout.saturating_sub(DEADLINE_MARGIN).as_millis();
    let envelope = Envelope {
        deadline_boot_ms: crate::time::boot_ms()
            .saturating_add(u64::try_from(budget).unwrap_or(u64::MAX)),
        request: request.clone(),
    };
    let mut line = serde_json::to_vec(&envelope).map_err(|e| protocol(e.to_string()))?;
    line.push(b'\n');
    let mut writer = &stream;
    writer.write_all(&line).map_err(io)?;
    let mut reader = BufReader::new(&stream);
    let mut answer = String::new();
    let read = reader.read_line(&mut answer).map_err(io)?;
    if read == 0 {
        return Err(protocol(
            "the app closed the connection without answering".into(),
        ));
    }
    serde_json::from_str(&answer).map_err(|e| protocol(format!("{e}: {}", answer.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use weft_proto::Status;

    struct EchoStatus;

    fn focus() -> Status {
        Status {
            state: weft_proto::State::Focus,
            since: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 24, 9, 0, 0)
                .single()
                .unwrap_or_default(),
            intent: None,
            until: None,
            stash: None,
            held: 0,
            degraded: Vec::new(),
            hotkey: None,
            hotkey_changeable: false,
        }
    }

    impl Handler for EchoStatus {
        fn handle(&self, request: Request, _deadline: Option<Deadline>) -> Response {
            match request {
                Request::Status => Response::Status(focus()),
                _ => Response::Done,
            }
        }

        fn watch(&self) -> Receiver<Event> {
            let (tx, rx) = std::sync::mpsc::sync_channel(4);
            let _ = tx.try_send(Event::Status(focus()));
            let _ = tx.try_send(Event::Raise);
            rx
        }
    }

    fn echo_status() -> Arc<dyn Handler> {
        Arc::new(EchoStatus)
    }

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn a_watcher_that_hangs_up_is_let_go_without_any_event() -> TestResult {
        let (mut server_end, client_end) = UnixStream::pair()?;
        let (_tx, rx) = std::sync::mpsc::sync_channel::<Event>(4);
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            stream_events(&mut server_end, &rx);
            let _ = done_tx.send(());
        });
        assert!(
            matches!(
                done_rx.recv_timeout(WATCH_CHECK / 2),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout)
            ),
            "a connected watcher is kept"
        );
        drop(client_end);
        // No event is ever sent: the hang-up alone ends the stream.
        assert!(done_rx.recv_timeout(WATCH_CHECK * 5).is_ok());
        Ok(())
    }

    #[test]
    fn serves_requests_over_a_private_socket() -> TestResult {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("rt/weft/weft.sock");
        assert!(matches!(
            call(&socket, &Request::Status),
            Err(Error::NotRunning { .. })
        ));
        // A stale socket file from a crash is replaced.
        std::fs::create_dir_all(dir.path().join("rt/weft"))?;
        drop(UnixListener::bind(&socket)?);
        assert!(matches!(
            call(&socket, &Request::Status),
            Err(Error::NotRunning { .. })
        ));
        serve(bind(&socket)?, echo_status())?;
        assert_eq!(std::fs::metadata(&socket)?.mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(dir.path().join("rt/weft"))?.mode() & 0o777,
            0o700
        );
        assert!(matches!(
            call(&socket, &Request::Status)?,
            Response::Status(_)
        ));
        assert_eq!(call(&socket, &Request::OpenWindow)?, Response::Done);
        let events: Vec<Event> = watch(&socket)?.collect::<Result<_>>()?;
        assert_eq!(events, vec![Event::Status(focus()), Event::Raise]);
        Ok(())
    }

    /// Counts the switches it is asked for.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Handler for Counting {
        fn handle(&self, request: Request, _deadline: Option<Deadline>) -> Response {
            if matches!(request, Request::Switch { .. }) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
            Response::Done
        }

        fn watch(&self) -> Receiver<Event> {
            std::sync::mpsc::sync_channel(1).1
        }
    }

    fn toggle() -> Request {
        Request::Switch {
            to: weft_proto::Target::Toggle,
            source: weft_proto::Source::Cli,
            intent: None,
            minutes: None,
            stash: None,
        }
    }

    #[test]
    fn a_request_read_past_its_deadline_is_refused_not_applied() -> TestResult {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("weft.sock");
        let counting = Arc::new(Counting::default());
        serve(bind(&socket)?, counting.clone())?;
        let stream = UnixStream::connect(&socket)?;
        let mut writer = &stream;
        let mut reader = BufReader::new(&stream);
        let mut ask = |value: serde_json::Value| -> std::result::Result<Response, Box<dyn std::error::Error>> {
            writer.write_all(format!("{value}\n").as_bytes())?;
            let mut line = String::new();
            reader.read_line(&mut line)?;
            Ok(serde_json::from_str(&line)?)
        };
        let now = crate::time::boot_ms();
        let past = serde_json::json!({"deadline_boot_ms": now - 1, "request": toggle()});
        match ask(past)? {
            Response::Error(report) => {
                assert_eq!(report.kind, ErrorKind::Unavailable);
                assert!(
                    report.message.contains("not carried out"),
                    "{}",
                    report.message
                );
            }
            other => panic!("a late request was answered {other:?}"),
        }
        assert_eq!(counting.0.load(Ordering::SeqCst), 0, "not applied");
        let future = serde_json::json!({"deadline_boot_ms": now + 60_000, "request": toggle()});
        assert_eq!(ask(future)?, Response::Done);
        // A bare request (a script, an older client) has no deadline and is still served.
        assert_eq!(ask(serde_json::to_value(toggle())?)?, Response::Done);
        assert_eq!(counting.0.load(Ordering::SeqCst), 2);
        // An envelope is checked as strictly as a request.
        let stray =
            serde_json::json!({"deadline_boot_ms": now + 60_000, "request": toggle(), "x": 1});
        assert!(matches!(ask(stray)?, Response::Error(_)));
        // The client always sends one, with a deadline ahead of its own timeout.
        assert_eq!(call(&socket, &toggle())?, Response::Done);
        assert_eq!(counting.0.load(Ordering::SeqCst), 3);
        Ok(())
    }

    #[test]
    fn bad_lines_get_errors_and_the_connection_survives() -> TestResult {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("weft.sock");
        serve(bind(&socket)?, echo_status())?;
        let stream = UnixStream::connect(&socket)?;
        let mut writer = &stream;
        let mut reader = BufReader::new(&stream);
        let mut ask = |bytes: &[u8]| -> std::result::Result<Response, Box<dyn std::error::Error>> {
            writer.write_all(bytes)?;
            let mut line = String::new();
            reader.read_line(&mut line)?;
            Ok(serde_json::from_str(&line)?)
        };
        for bad in [
            &b"{not json\n"[..],
            b"{\"cmd\":\"explode\"}\n",
            b"\xff\xfe\n",
        ] {
            assert!(
                matches!(
                    ask(bad)?,
                    Response::Error(weft_proto::ErrorReport {
                        kind: ErrorKind::BadRequest,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            ask(b"{\"cmd\":\"status\"}\n")?,
            Response::Status(_)
        ));
        let mut huge = vec![b'x'; MAX_LINE + 10];
        huge.push(b'\n');
        assert!(matches!(ask(&huge)?, Response::Error(_)));
        Ok(())
    }
}

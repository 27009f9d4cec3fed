//! The monitor tests' fixtures: a private `dbus-daemon` (no service activation), a small
//! notification server that answers `Notify` with ids, and the senders (zbus in this process,
//! `gdbus call` in another), each stopped when dropped.

use super::super::{Bus, Config, Error, Event, Monitor, Observed};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::Duration;
use weft_core::testing::wait_for;
use zbus::message::Type;
use zbus::{Connection, Message, MessageStream, Variant};

pub(super) type TestResult = Result<(), Box<dyn std::error::Error>>;

pub(super) const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
pub(super) const PATH: &str = "/org/freedesktop/Notifications";
pub(super) const WAIT: Duration = Duration::from_secs(10);
/// A summary the fake server answers with an error.
pub(super) const REFUSE_ME: &str = "refuse me";

/// A bus without service activation: only what the test starts answers on it. `@EXTRA@` takes
/// more policy.
const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=@DIR@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    @EXTRA@
  </policy>
</busconfig>
"#;

/// A child process killed when the test ends, however it ends.
pub(super) struct Proc(pub(super) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private `dbus-daemon`, killed on drop.
pub(super) struct TestBus {
    pub(super) daemon: Proc,
    pub(super) address: String,
    _dir: tempfile::TempDir,
}

impl TestBus {
    pub(super) fn start() -> Result<TestBus, Box<dyn std::error::Error>> {
        TestBus::with_policy("")
    }

    pub(super) fn with_policy(extra: &str) -> Result<TestBus, Box<dyn std::error::Error>> {
        let dir = tempfile::Builder::new().prefix("weft-monitor-").tempdir()?;
        let config = dir.path().join("bus.conf");
        let text = BUS_CONFIG
            .replace("@DIR@", &dir.path().display().to_string())
            .replace("@EXTRA@", extra);
        std::fs::write(&config, text)?;
        let mut daemon = Proc(
            Command::new("dbus-daemon")
                .arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?,
        );
        let stdout = daemon.0.stdout.take().ok_or("dbus-daemon has no stdout")?;
        // The address is printed once the bus listens.
        let mut address = String::new();
        BufReader::new(stdout).read_line(&mut address)?;
        let address = address.trim().to_owned();
        if address.is_empty() {
            return Err("dbus-daemon printed no address".into());
        }
        Ok(TestBus {
            daemon,
            address,
            _dir: dir,
        })
    }

    pub(super) fn connect(&self) -> zbus::Result<Connection> {
        zbus::block_on(zbus::connection::Builder::address(self.address.as_str()).build())
    }

    pub(super) fn config(&self, own_pid: u32) -> Config {
        Config {
            bus: Bus::Address(self.address.clone()),
            own_pid,
            ..Config::default()
        }
    }

    pub(super) fn monitor(&self, own_pid: u32) -> Result<(Monitor, Receiver<Event>), Error> {
        let (tx, rx) = mpsc::sync_channel(64);
        Ok((Monitor::start(self.config(own_pid), tx)?, rx))
    }
}

/// A notification server that answers `Notify` with 1, 2, 3…, and [`REFUSE_ME`] with an error.
/// With a gate, each answer waits for a `()` on it (so a sender stays connected until the test
/// has seen its call).
pub(super) struct FakeServer {
    conn: Connection,
}

impl FakeServer {
    pub(super) fn start(
        bus: &TestBus,
        gate: Option<Receiver<()>>,
    ) -> Result<FakeServer, Box<dyn std::error::Error>> {
        let conn = bus.connect()?;
        let stream = MessageStream::from(&conn);
        zbus::block_on(conn.request_name(NOTIFICATIONS))?;
        let served = conn.clone();
        std::thread::Builder::new()
            .name("fake-notifications".into())
            .spawn(move || zbus::block_on(serve(served, stream, gate)))?;
        Ok(FakeServer { conn })
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        let _ = zbus::block_on(self.conn.clone().close());
    }
}

async fn serve(conn: Connection, mut stream: MessageStream, gate: Option<Receiver<()>>) {
    use futures_core::Stream;
    use std::pin::Pin;
    let mut next_id = 0u32;
    while let Some(Ok(message)) =
        std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await
    {
        let header = message.header();
        if header.message_type() != Type::MethodCall {
            continue;
        }
        match header.member().map(|m| m.as_str()) {
            Some("Notify") => {}
            // `gdbus call` asks for the method's signature first.
            Some("Introspect") => {
                let answered = match Message::method_return(&header).build(&(INTROSPECTION,)) {
                    Ok(reply) => conn.send(&reply).await.is_ok(),
                    Err(_) => false,
                };
                if !answered {
                    return;
                }
                continue;
            }
            _ => continue,
        }
        if let Some(gate) = &gate {
            if gate.recv_timeout(WAIT).is_err() {
                return;
            }
        }
        let summary = message
            .body()
            .deserialize::<(
                &str,
                u32,
                &str,
                &str,
                &str,
                Vec<&str>,
                HashMap<&str, Variant<'_>>,
                i32,
            )>()
            .map(|(_, _, _, summary, ..)| summary == REFUSE_ME);
        let reply = if matches!(summary, Ok(true)) {
            Message::error(&header, "org.freedesktop.Notifications.Error.Refused").build(&("no",))
        } else {
            next_id += 1;
            Message::method_return(&header).build(&(next_id,))
        };
        match reply {
            Ok(reply) => {
                if conn.send(&reply).await.is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

const INTROSPECTION: &str = r#"<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
  </interface>
</node>"#;

/// What a test sends.
pub(super) struct Note<'a> {
    pub(super) app_name: &'a str,
    pub(super) replaces_id: u32,
    pub(super) summary: &'a str,
    pub(super) body: &'a str,
    pub(super) hints: Vec<(&'a str, Variant<'a>)>,
}

impl<'a> Note<'a> {
    pub(super) fn new(app_name: &'a str, summary: &'a str) -> Note<'a> {
        Note {
            app_name,
            replaces_id: 0,
            summary,
            body: "",
            hints: Vec::new(),
        }
    }
}

/// Sends `note` from this process; the server's answer (its id).
pub(super) fn notify(conn: &Connection, note: Note<'_>) -> zbus::Result<u32> {
    let hints: HashMap<&str, Variant<'_>> = note.hints.into_iter().collect();
    let reply = zbus::block_on(conn.call_method(
        Some(NOTIFICATIONS),
        PATH,
        Some(NOTIFICATIONS),
        "Notify",
        &(
            note.app_name,
            note.replaces_id,
            "",
            note.summary,
            note.body,
            Vec::<&str>::new(),
            hints,
            5000i32,
        ),
    ))?;
    reply.body().deserialize::<u32>()
}

/// Starts `gdbus call … Notify` from another process; `hints` in GVariant text.
pub(super) fn gdbus_notify(
    bus: &TestBus,
    app_name: &str,
    summary: &str,
    hints: &str,
) -> std::io::Result<Proc> {
    Command::new("gdbus")
        .args(["call", "--address", &bus.address, "--dest", NOTIFICATIONS])
        .args(["--object-path", PATH, "--method"])
        .arg("org.freedesktop.Notifications.Notify")
        .args([app_name, "0", "", summary, "body", "[]", hints, "5000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Proc)
}

/// The next event, waited for.
pub(super) fn next(rx: &Receiver<Event>) -> Result<Event, Box<dyn std::error::Error>> {
    Ok(wait_for("an event from the monitor", WAIT, || {
        rx.try_recv().ok()
    })?)
}

/// The next event, which must be an observed call.
pub(super) fn next_observed(
    rx: &Receiver<Event>,
) -> Result<(super::super::CallId, Observed), Box<dyn std::error::Error>> {
    match next(rx)? {
        Event::Observed { call, notification } => Ok((call, notification)),
        other => Err(format!("expected an observed call, got {other:?}").into()),
    }
}

impl Proc {
    /// Waits for the process (killed on drop if this fails) and returns its output.
    pub(super) fn wait(mut self) -> std::io::Result<std::process::Output> {
        wait_for("the sender to exit", WAIT, || {
            self.0.try_wait().ok().flatten()
        })
        .map_err(std::io::Error::other)?;
        let mut stdout = String::new();
        if let Some(mut out) = self.0.stdout.take() {
            std::io::Read::read_to_string(&mut out, &mut stdout)?;
        }
        let status = self.0.wait()?;
        Ok(std::process::Output {
            status,
            stdout: stdout.into_bytes(),
            stderr: Vec::new(),
        })
    }
}

pub(super) fn open(gate: &SyncSender<()>) -> Result<(), mpsc::SendError<()>> {
    gate.send(())
}

//! The `weft` CLI and its output: every command and format, with standard output a pipe whose
//! reader has gone (as in `weft log | head -1`) and with standard output `/dev/full`. A closed
//! pipe ends the command quietly with exit 0; any other write error is one line on standard
//! error and exit 1; nothing panics. Also: oversized text is cut or refused before it is sent
//! (exit 2 for bad arguments), never turned into "request longer than 65536 bytes".
//!
//! `log`, `summary`, `autostart` and `status --format` run without the app; the rest against a
//! real app on a private desktop, in a team on a real `weft-sync` on loopback.

use std::process::{Output, Stdio};
use std::time::Duration;
use weft_e2e::notifications::NotificationCapture;
use weft_e2e::sink::Sink;
use weft_e2e::sync::SyncServer;
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::{Connection, Request, Response, State, TeamInfo};

const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(30);

fn weft(desktop: &Desktop, args: &[&str], stdout: Stdio) -> anyhow::Result<Output> {
    Ok(desktop
        .command(weft_e2e::bin_dir().join("weft"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()?)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `weft ARGS` with its output going to `sink`, and checks how it ended.
fn into_sink(desktop: &Desktop, args: &[&str], sink: Sink) -> anyhow::Result<()> {
    let output = weft(desktop, args, sink.stdio()?)?;
    let err = stderr(&output);
    assert!(
        !err.contains("panicked"),
        "weft {args:?} to {sink:?}: {err}"
    );
    match sink {
        Sink::ClosedPipe => {
            assert_eq!(
                output.status.code(),
                Some(0),
                "weft {args:?} to a closed pipe: {err}"
            );
            assert_eq!(err, "", "weft {args:?} to a closed pipe says nothing");
        }
        Sink::DevFull => {
            assert_eq!(
                output.status.code(),
                Some(1),
                "weft {args:?} to /dev/full: {err}"
            );
            assert_eq!(
                err, "weft: cannot write the output: No space left on device\n",
                "weft {args:?} to /dev/full says one line"
            );
        }
    }
    Ok(())
}

/// `weft ARGS` prints something when it can, then ends as it should when it cannot.
fn every_way(desktop: &Desktop, args: &[&str]) -> anyhow::Result<()> {
    let output = weft(desktop, args, Stdio::piped())?;
    assert!(
        output.status.success() && !output.stdout.is_empty(),
        "weft {args:?} prints: {}",
        stderr(&output)
    );
    into_sink(desktop, args, Sink::ClosedPipe)?;
    into_sink(desktop, args, Sink::DevFull)
}

#[test]
fn commands_without_the_app_survive_a_closed_pipe_and_a_full_disk() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    weft_e2e::seed::berlin_day(&desktop)?;
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["log"],
        vec!["log", "--json"],
        vec!["log", "--since", "2026-11-01"],
        vec!["--help"],
        vec!["--version"],
        vec!["help", "summary"],
        // Without the app: its not-running line, and start at login.
        vec!["status", "--format", "waybar"],
        vec!["status", "--format", "i3blocks"],
        vec!["autostart", "status", "--json"],
    ];
    for format in ["text", "md", "json", "csv"] {
        commands.push(vec!["summary", "--date", "2026-11-10", "--format", format]);
        commands.push(vec![
            "summary",
            "--date",
            "2026-11-10",
            "--week",
            "--format",
            format,
        ]);
    }
    for args in &commands {
        every_way(&desktop, args)?;
    }
    // Bad usage is still exit 2, whatever happens to the output.
    let bad = weft(
        &desktop,
        &["log", "--since", "someday"],
        Sink::DevFull.stdio()?,
    )?;
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    Ok(())
}

/// A desktop with a panel and a notification server, and Weft on it (hotkey off).
struct Person {
    app: App,
    _capture: NotificationCapture,
    _watcher: Watcher,
    desktop: Desktop,
}

impl Person {
    fn start() -> anyhow::Result<Person> {
        let desktop = Desktop::start()?;
        desktop.write_config("hotkey = \"off\"\n")?;
        let capture = NotificationCapture::start(desktop.bus_address())?;
        let watcher = Watcher::start(desktop.bus_address())?;
        let app = App::start(&desktop, &[])?;
        app.wait_until_serving(START)?;
        Ok(Person {
            app,
            _capture: capture,
            _watcher: watcher,
            desktop,
        })
    }

    fn team(&self) -> anyhow::Result<TeamInfo> {
        match self.app.call(&Request::Team)? {
            Response::Team(info) => Ok(info),
            other => anyhow::bail!("unexpected answer {other:?}"),
        }
    }

    fn wait_online(&self) -> anyhow::Result<()> {
        wait_for("the team stream to connect", SOON, || {
            (self.team().ok()?.connection == Connection::Online).then_some(())
        })
        .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", self.app.log()))
    }

    fn state(&self) -> anyhow::Result<State> {
        match self.app.call(&Request::Status)? {
            Response::Status(status) => Ok(status.state),
            other => anyhow::bail!("unexpected answer {other:?}"),
        }
    }
}

#[test]
fn commands_with_the_app_survive_a_closed_pipe_and_a_full_disk() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let dir = tempfile::tempdir()?;
    let server = SyncServer::start(dir.path(), &[])?;
    let invite = server.create_team("Platform")?;
    let url = server.url();
    let ana = Person::start()?;
    let desktop = &ana.desktop;

    // Joining prints the team: the join happens even when nobody reads that.
    let join = [
        "team",
        "join",
        url.as_str(),
        invite.as_str(),
        "--name",
        "Ana",
    ];
    into_sink(desktop, &join, Sink::ClosedPipe)?;
    ana.wait_online()?;
    // A teammate to ping, joined straight at the server.
    weft_sync_client::Client::new(&url)?.join(&invite, "Bo")?;

    let commands: [&[&str]; 15] = [
        &["status"],
        &["status", "--json"],
        &["toggle"],
        &["focus", "release", "notes", "--for", "25m"],
        &["coordinate"],
        &["notify", "--title", "Build failed", "--from", "CI"],
        &["notify", "--title", "Deploy done", "--body", "all green"],
        &["inbox"],
        &["inbox", "--json"],
        &["team"],
        &["team", "--json"],
        &["team", "share", "on"],
        &["team", "share", "off"],
        &["ping", "Bo", "got", "a", "minute?"],
        &["summary", "--week"],
    ];
    for args in commands {
        every_way(desktop, args)?;
    }
    // The status bar's formats, and start at login (on, then off again).
    for format in ["waybar", "polybar", "i3blocks", "json", "text"] {
        every_way(desktop, &["status", "--format", format])?;
    }
    for args in [
        &["autostart", "status"][..],
        &["autostart", "status", "--json"],
        &["autostart", "on"],
        &["autostart", "off"],
    ] {
        every_way(desktop, args)?;
    }

    // Leaving prints the team too: it happens, and the full disk is reported.
    into_sink(desktop, &["team", "leave"], Sink::DevFull)?;
    wait_for("the membership to go", SOON, || {
        ana.team().ok().filter(|t| t.membership.is_none())
    })?;
    every_way(desktop, &["team"])?;
    into_sink(desktop, &join, Sink::DevFull)?;
    ana.wait_online()?;
    into_sink(desktop, &["team", "leave"], Sink::ClosedPipe)?;
    wait_for("the membership to go again", SOON, || {
        ana.team().ok().filter(|t| t.membership.is_none())
    })?;
    Ok(())
}

#[test]
fn oversized_text_is_cut_or_refused_before_it_is_sent() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let ana = Person::start()?;
    let desktop = &ana.desktop;
    let run = |args: &[&str]| weft(desktop, args, Stdio::piped());
    let huge = "x".repeat(70 * 1024);

    // README: a body over 4000 characters is cut to 4000 with a marker, and notify says so.
    let cut = run(&["notify", "--title", "Long", "--body", &huge])?;
    assert_eq!(cut.status.code(), Some(0), "{}", stderr(&cut));
    assert!(
        stderr(&cut).contains("the body was cut to 4000 characters"),
        "{}",
        stderr(&cut)
    );
    let inbox = match ana.app.call(&Request::Inbox)? {
        Response::Inbox(items) => items,
        other => anyhow::bail!("unexpected answer {other:?}"),
    };
    let long = inbox.iter().find(|i| i.title == "Long");
    let body = long.map(|i| i.body.as_str()).unwrap_or_default();
    assert_eq!(body.chars().count(), weft_proto::MAX_BODY_CHARS);
    assert!(body.ends_with(weft_proto::TRUNCATION_MARKER), "{body}");

    // Every other text field over its limit is a bad argument: exit 2, said before sending.
    let refused: [(&[&str], &str); 9] = [
        (
            &["notify", "--title", &huge],
            "the title is 71680 characters long; the limit is 200",
        ),
        (
            &["notify", "--title", "t", "--from", &huge],
            "the sender name is 71680 characters long; the limit is 64",
        ),
        (
            &["focus", &huge],
            "the intent is 71680 characters long; the limit is 200",
        ),
        (
            &["coordinate", "--stash", &huge],
            "the stash note is 71680 characters long; the limit is 500",
        ),
        (
            &["ping", "Bo", &huge],
            "the ping is 71680 characters long; the limit is 500",
        ),
        (
            &["ping", &huge, "hi"],
            "the name is 71680 characters long; the limit is 64",
        ),
        (
            &[
                "team",
                "join",
                "http://127.0.0.1:9",
                "wfi_x",
                "--name",
                &huge,
            ],
            "the name is 71680 characters long; the limit is 64",
        ),
        (
            &["team", "join", "http://127.0.0.1:9", &huge, "--name", "Ana"],
            "the invite code is 71680 characters long; the limit is 200",
        ),
        (
            &["team", "join", "sync.example.com", "wfi_x", "--name", "Ana"],
            "\"sync.example.com\" is not a sync server address; use one like https://sync.example.com",
        ),
    ];
    for (args, said) in refused {
        let output = run(args)?;
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{}: {err}", args[0]);
        assert_eq!(err, format!("weft: {said}\n"), "{}", args[0]);
        assert!(output.stdout.is_empty());
    }
    assert_eq!(ana.state()?, State::Coordination, "nothing was switched");

    // What the app finds wrong with an argument is bad usage too.
    let stash = run(&["coordinate", "--stash", "where was I"])?;
    assert_eq!(stash.status.code(), Some(2), "{}", stderr(&stash));
    assert!(
        stderr(&stash).contains("a stash note is written when leaving focus"),
        "{}",
        stderr(&stash)
    );
    Ok(())
}

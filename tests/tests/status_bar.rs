//! `weft status --format …` and `--follow`, as a status bar runs them, against the real app
//! on a private desktop: every format once; a follower across a switch, a held notification,
//! a team's connection and a teammate focusing, a quit and restart, and a `kill -9`, every
//! line one complete JSON object; `--follow` into a pipe whose reader leaves; a format that
//! does not exist.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;
use weft_e2e::notifications::NotificationCapture;
use weft_e2e::proc::Proc;
use weft_e2e::sync::SyncServer;
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::sync::StatusUpdate;
use weft_proto::State;

/// Generous, because the machine is shared: these bound a hang, they time nothing.
const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(30);

/// A desktop with a panel and a notification server (Weft itself is started by the tests).
struct Seat {
    _capture: NotificationCapture,
    _watcher: Watcher,
    desktop: Desktop,
}

impl Seat {
    fn start() -> anyhow::Result<Seat> {
        let desktop = Desktop::start()?;
        desktop.write_config("hotkey = \"off\"\n")?;
        Ok(Seat {
            _capture: NotificationCapture::start(desktop.bus_address())?,
            _watcher: Watcher::start(desktop.bus_address())?,
            desktop,
        })
    }

    fn app(&self) -> anyhow::Result<App> {
        let app = App::start(&self.desktop, &[])?;
        app.wait_until_serving(START)?;
        Ok(app)
    }
}

/// `weft status --follow ARGS`, its lines read by a thread as they come.
struct Follower {
    proc: Proc,
    lines: Receiver<String>,
    /// Lines read and not yet matched by a wait.
    seen: Vec<String>,
    /// Lines read and passed by a wait.
    checked: Vec<String>,
}

impl Follower {
    fn start(desktop: &Desktop, format: &str) -> anyhow::Result<Follower> {
        Follower::start_in(desktop, format, None)
    }

    /// Like [`Follower::start`], with `XDG_RUNTIME_DIR` set to `runtime` when given.
    fn start_in(
        desktop: &Desktop,
        format: &str,
        runtime: Option<&std::path::Path>,
    ) -> anyhow::Result<Follower> {
        let mut command = desktop.command(weft_e2e::bin_dir().join("weft"));
        if let Some(runtime) = runtime {
            command.env("XDG_RUNTIME_DIR", runtime);
        }
        let mut proc = Proc::spawn(
            "weft status --follow",
            command
                .args(["status", "--follow", "--format", format])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )?;
        let stdout = proc
            .child_mut()
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Follower {
            proc,
            lines,
            seen: Vec::new(),
            checked: Vec::new(),
        })
    }

    /// Waits for a line that satisfies `wanted`, and returns it parsed.
    fn wait(
        &mut self,
        what: &str,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> anyhow::Result<serde_json::Value> {
        let found = wait_for(what, SOON, || {
            while let Ok(line) = self.lines.try_recv() {
                self.seen.push(line);
            }
            self.seen
                .iter()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|value| wanted(value))
        });
        let found = found.map_err(|e| anyhow::anyhow!("{e}; lines so far: {:#?}", self.seen))?;
        // Later waits look only at lines after this one.
        let at = self
            .seen
            .iter()
            .position(|l| {
                serde_json::from_str::<serde_json::Value>(l).ok().as_ref() == Some(&found)
            })
            .unwrap_or(0);
        self.checked.extend(self.seen.drain(..=at));
        Ok(found)
    }
}

#[test]
fn every_format_once_and_a_format_that_does_not_exist() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let seat = Seat::start()?;
    let desktop = &seat.desktop;
    // Not running: a line saying so, exit 0, so a bar shows it instead of an error.
    let stopped = desktop.weft_ok(&["status", "--format", "waybar"])?;
    let stopped: serde_json::Value = serde_json::from_str(stopped.trim_end())?;
    assert_eq!(
        stopped["class"],
        serde_json::json!(["stopped"]),
        "{stopped}"
    );
    assert_eq!(stopped["text"], "Weft not running");

    let app = seat.app()?;
    desktop.weft_ok(&["focus", "write", "the", "<report>", "--for", "50m"])?;
    desktop.weft_ok(&["notify", "--title", "Build failed"])?;
    let until = match app.call(&weft_proto::Request::Status)? {
        weft_proto::Response::Status(status) => status.until,
        other => anyhow::bail!("unexpected answer {other:?}"),
    };
    let until = until
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
        .ok_or_else(|| anyhow::anyhow!("no planned end"))?;

    let waybar = desktop.weft_ok(&["status", "--format", "waybar"])?;
    assert_eq!(waybar.lines().count(), 1, "{waybar}");
    let waybar: serde_json::Value = serde_json::from_str(waybar.trim_end())?;
    assert_eq!(waybar["alt"], "focus");
    assert_eq!(waybar["class"], serde_json::json!(["focus", "held"]));
    let text = waybar["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("Focus ") && text.ends_with(&format!("m → {until}")),
        "{waybar}"
    );
    let tooltip = waybar["tooltip"].as_str().unwrap_or_default();
    assert!(
        tooltip.contains("Intent: write the &lt;report&gt;")
            && tooltip.contains(&format!("Planned end: {until}"))
            && tooltip.contains("Held: 1"),
        "{waybar}"
    );
    assert!(
        waybar["percentage"].as_u64().is_some_and(|p| p <= 100),
        "{waybar}"
    );

    let polybar = desktop.weft_ok(&["status", "--format", "polybar"])?;
    assert!(
        polybar.starts_with("Focus ") && polybar.ends_with(&format!("m → {until} · 1 held\n")),
        "{polybar:?}"
    );
    let i3blocks = desktop.weft_ok(&["status", "--format", "i3blocks"])?;
    let i3: Vec<&str> = i3blocks.lines().collect();
    assert_eq!(i3.len(), 3, "{i3blocks:?}");
    assert_eq!(i3[0], polybar.trim_end());
    assert_eq!(&i3[1..], ["Focus", "#D08770"]);

    let json = desktop.weft_ok(&["status", "--format", "json"])?;
    assert_eq!(json.lines().count(), 1, "{json}");
    let json: serde_json::Value = serde_json::from_str(json.trim_end())?;
    assert_eq!(json["running"], true);
    assert_eq!(json["state"], "focus");
    assert_eq!(json["intent"], "write the <report>");
    assert_eq!(json["held"], 1);
    assert_eq!(json["team"], "not_joined");

    let text = desktop.weft_ok(&["status", "--format", "text"])?;
    assert!(
        text.starts_with("Focus ")
            && text.ends_with(&format!("m → {until} · 1 held · write the <report>\n")),
        "{text:?}"
    );

    let nonsense = desktop.weft(&["status", "--format", "nonsense"])?;
    let err = String::from_utf8_lossy(&nonsense.stderr);
    assert_eq!(nonsense.status.code(), Some(2), "{err}");
    assert!(
        err.contains("waybar, polybar, i3blocks, json, text"),
        "the formats are named: {err}"
    );
    assert!(nonsense.stdout.is_empty());
    Ok(())
}

#[test]
fn a_follower_sees_every_change_and_outlives_the_app() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let dir = tempfile::tempdir()?;
    let server = SyncServer::start(dir.path(), &[])?;
    let invite = server.create_team("Platform")?;
    let seat = Seat::start()?;
    let desktop = &seat.desktop;

    // Started before the app: it says so, then waits.
    let mut waybar = Follower::start(desktop, "waybar")?;
    waybar.wait("a stopped line", |v| v["alt"] == "stopped")?;
    let mut app = seat.app()?;
    let mut json = Follower::start(desktop, "json")?;
    waybar.wait("coordination", |v| v["alt"] == "coordination")?;
    json.wait("coordination", |v| v["state"] == "coordination")?;

    // A switch, then a held notification.
    desktop.weft_ok(&["focus", "--for", "25m"])?;
    waybar.wait("focus", |v| {
        v["alt"] == "focus"
            && v["percentage"].is_u64()
            && v["class"] == serde_json::json!(["focus"])
    })?;
    desktop.weft_ok(&["notify", "--title", "Build failed"])?;
    waybar.wait("held", |v| {
        v["class"] == serde_json::json!(["focus", "held"])
    })?;
    json.wait("held 1", |v| v["state"] == "focus" && v["held"] == 1)?;

    // The team: the connection, then a teammate focusing.
    let url = server.url();
    desktop.weft_ok(&[
        "team",
        "join",
        url.as_str(),
        invite.as_str(),
        "--name",
        "Ana",
    ])?;
    json.wait("the team online", |v| v["team"] == "online")?;
    let bo = weft_sync_client::Client::new(&url)?;
    let joined = bo.join(&invite, "Bo")?;
    let bo = bo.with_token(&joined.token);
    bo.put_status(
        joined.team.id,
        joined.member_id,
        &StatusUpdate {
            seq: 1,
            state: State::Focus,
            since: chrono::Utc::now(),
            until: None,
            intent: None,
        },
    )?;
    // Bo's Weft is online while its stream is open.
    let _bo_online = bo.events(joined.team.id, 0)?;
    json.wait("Bo focusing", |v| {
        v["teammates_focusing"] == serde_json::json!(["Bo"])
    })?;
    waybar.wait("Bo in the tooltip", |v| {
        v["tooltip"]
            .as_str()
            .is_some_and(|t| t.contains("Teammates focusing: Bo"))
    })?;

    // A quit: not running, then back in the state it left.
    app.stop();
    waybar.wait("stopped after a quit", |v| {
        v["class"] == serde_json::json!(["stopped"])
    })?;
    json.wait("stopped after a quit", |v| v["running"] == false)?;
    let mut app = {
        drop(app);
        seat.app()?
    };
    waybar.wait("focus again", |v| v["alt"] == "focus")?;
    json.wait("running again", |v| {
        v["running"] == true && v["state"] == "focus"
    })?;

    // kill -9: the socket file stays behind, and the follower still notices.
    app.kill9();
    waybar.wait("stopped after kill -9", |v| v["alt"] == "stopped")?;
    json.wait("stopped after kill -9", |v| v["running"] == false)?;
    drop(app);
    let _app = seat.app()?;
    waybar.wait("focus after kill -9", |v| v["alt"] == "focus")?;
    json.wait("running after kill -9", |v| v["running"] == true)?;

    // Every line was one complete JSON object, and the followers never ended.
    for follower in [&mut waybar, &mut json] {
        while let Ok(line) = follower.lines.try_recv() {
            follower.checked.push(line);
        }
        follower.checked.append(&mut follower.seen);
        for line in &follower.checked {
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| anyhow::anyhow!("{line:?} is not one JSON object: {e}"))?;
            assert!(value.is_object(), "{line}");
        }
        assert!(
            follower.proc.try_status().is_none(),
            "the follower is still running"
        );
    }
    Ok(())
}

#[test]
fn a_follower_keeps_up_with_quick_restarts() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let seat = Seat::start()?;
    let mut app = seat.app()?;
    let mut json = Follower::start(&seat.desktop, "json")?;
    json.wait("running", |v| v["running"] == true)?;
    // The next app starts as soon as the last one is gone, without waiting for the follower
    // to notice: its socket can be made before the follower sees the old connection end.
    for round in 0..4 {
        if round % 2 == 0 {
            app.kill9();
        } else {
            app.stop();
        }
        drop(app);
        app = seat.app()?;
        json.wait("not running", |v| v["running"] == false)?;
        json.wait("running again", |v| v["running"] == true)?;
    }
    assert!(
        json.proc.try_status().is_none(),
        "the follower is still running"
    );
    Ok(())
}

#[test]
fn a_follower_that_cannot_reach_the_socket_says_not_running_and_stays() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let seat = Seat::start()?;
    // A socket path longer than a socket address holds: connecting fails with an error that
    // is not "no app there", as an unreadable socket does.
    let runtime = seat.desktop.dir().join("r".repeat(120));
    std::fs::create_dir_all(&runtime)?;
    let mut json = Follower::start_in(&seat.desktop, "json", Some(&runtime))?;
    json.wait("not running", |v| v["running"] == false)?;
    assert!(
        json.proc.try_status().is_none(),
        "the follower is still running"
    );
    Ok(())
}

#[test]
fn a_follower_started_before_the_socket_folder_exists_watches_the_folder_above(
) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let _serial = weft_e2e::serial();
    let seat = Seat::start()?;
    // A login where no Weft has run yet: `$XDG_RUNTIME_DIR/weft` is not there.
    let runtime = seat.desktop.dir().join("fresh-runtime");
    std::fs::create_dir_all(&runtime)?;
    let mut json = Follower::start_in(&seat.desktop, "json", Some(&runtime))?;
    json.wait("not running", |v| v["running"] == false)?;
    // It waits by inotify on the runtime folder (no timer): the kernel lists that watch.
    let watching = |inode: u64| {
        let fds = std::fs::read_dir(format!("/proc/{}/fdinfo", json.proc.pid())).ok()?;
        let wanted = format!(" ino:{inode:x} ");
        fds.flatten()
            .filter_map(|fd| std::fs::read_to_string(fd.path()).ok())
            .any(|info| info.contains(&wanted))
            .then_some(())
    };
    let inode = std::fs::metadata(&runtime)?.ino();
    wait_for("a watch on the runtime folder", SOON, || watching(inode))?;
    // Once the folder is made, it watches that one for the socket.
    std::fs::create_dir(runtime.join("weft"))?;
    let inode = std::fs::metadata(runtime.join("weft"))?.ino();
    wait_for("a watch on the socket's folder", SOON, || watching(inode))?;
    Ok(())
}

#[test]
fn a_follower_whose_reader_leaves_exits_quietly() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let seat = Seat::start()?;
    let _app = seat.app()?;
    let mut proc = Proc::spawn(
        "weft status --follow",
        seat.desktop
            .command(weft_e2e::bin_dir().join("weft"))
            .args(["status", "--follow", "--format", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?;
    // Read one line, as `head -1` does, then close the pipe.
    let stdout = proc
        .child_mut()
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first)?;
    let first: serde_json::Value = serde_json::from_str(first.trim_end())?;
    assert_eq!(first["state"], "coordination", "{first}");
    // The reader is gone now: the follower ends without waiting for the next change.
    let status = wait_for("the follower to exit", SOON, || proc.try_status())?;
    // Nothing changed, and the elapsed minute has not turned since the line read: no later
    // line can have been what ended it, only the closed pipe.
    let since = first["since"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no since in {first}"))?;
    let since = chrono::DateTime::parse_from_rfc3339(since)?.with_timezone(&chrono::Utc);
    assert_eq!(
        (chrono::Utc::now() - since).num_minutes(),
        first["elapsed_minutes"].as_i64().unwrap_or(-1),
        "the follower exited only after the minute turned: {first}"
    );
    let mut err = String::new();
    if let Some(mut stderr) = proc.child_mut().stderr.take() {
        std::io::Read::read_to_string(&mut stderr, &mut err)?;
    }
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "", "nothing on standard error");
    Ok(())
}

#[test]
fn a_follower_redraws_when_the_elapsed_minute_turns() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let seat = Seat::start()?;
    // Focus began 40 s ago (a log from a run that crashed): the minute turns in 20 s, more
    // than the app and the follower take to start on a busy machine. The test holds either
    // way: it compares the next line with the first, whichever minute that shows.
    let began = chrono::Utc::now() - chrono::Duration::seconds(40);
    {
        let mut store = weft_core::store::Store::open(&seat.desktop.database())?;
        store.record_app_event(weft_core::store::AppEvent::Start, began)?;
        store.record_switch(&weft_core::machine::Switch {
            at: began,
            from: State::Coordination,
            to: State::Focus,
            source: weft_proto::Source::Cli,
            intent: None,
            stash: None,
            until: None,
        })?;
    }
    let _app = seat.app()?;
    let mut json = Follower::start(&seat.desktop, "json")?;
    let first = json.wait("a focus line", |v| v["state"] == "focus")?;
    let minutes = first["elapsed_minutes"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no elapsed_minutes in {first}"))?;
    // Nothing changes but the time: the next line is the next minute's, and nothing between.
    // It may have come with the first one already (read in the same wait).
    let next = wait_for("the next minute's line", Duration::from_secs(90), || {
        if json.seen.is_empty() {
            if let Ok(line) = json.lines.recv_timeout(Duration::from_millis(200)) {
                json.seen.push(line);
            }
        }
        (!json.seen.is_empty()).then(|| json.seen.remove(0))
    })?;
    let next: serde_json::Value = serde_json::from_str(&next)?;
    assert_eq!(next["elapsed_minutes"], minutes + 1, "{first} then {next}");
    assert_eq!(next["since"], first["since"]);
    Ok(())
}

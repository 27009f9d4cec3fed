//! `weft-bench`: the start-up, memory and hotkey-latency figures of the binaries in
//! `$WEFT_BIN_DIR` (`make bench` points it at the release build).
//!
//! - start to tray-ready: from spawning `weft-app` to its StatusNotifierItem registering with
//!   the harness's watcher, median of several runs;
//! - PSS of the whole process tree (the app and its WebKit helpers), from
//!   `/proc/PID/smaps_rollup`: tray-only, window open, and after the window closes;
//! - a switch over the control socket, request to committed answer;
//! - hotkey to committed switch: from xdotool sending Ctrl+Alt+F to the control socket
//!   reporting the new state (the app reports a switch only after its commit), over many presses;
//! - a notification: to its committed answer when held, and to the notification server when
//!   delivered at once;
//! - in a team (a `weft-sync` from the same folder on loopback): the tray's PSS once
//!   connected, and a switch to a teammate's live stream seeing it;
//! - other apps' notifications: another client's `Notify` during focus to its committed Inbox
//!   item; how long that `Notify` call itself takes with Weft watching and without Weft; the
//!   tray's PSS before and after a flood of 10,000 in one focus block;
//! - a status bar's follower (`weft status --format json --follow`): a switch request to the
//!   follower's line naming the new state, over many switches, and the follower's PSS;
//! - under Wayland (a headless sway, no X server, the real xdg-desktop-portal and the harness's
//!   GlobalShortcuts backend): start to tray-ready, tray-only PSS, and the portal's `Activated`
//!   to committed switch, over many activations (`weft-bench wayland` prints only these).

use anyhow::Context;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use weft_e2e::app::{process_name, pss_kib};
use weft_e2e::notifications::NotificationCapture;
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::{Request, Response, State};

const STARTS: usize = 7;
const PRESSES: usize = 60;
const LIMIT: Duration = Duration::from_secs(60);

fn main() -> anyhow::Result<()> {
    // `weft-bench wayland`: only the Wayland figures.
    if std::env::args().nth(1).as_deref() == Some("wayland") {
        return wayland();
    }
    let desktop = Desktop::start()?;
    let notifications = NotificationCapture::start(desktop.bus_address())?;
    let watcher = Watcher::start(desktop.bus_address())?;
    println!(
        "weft-bench: binaries from {}",
        weft_e2e::bin_dir().display()
    );
    let other_app = zbus::blocking::connection::Builder::address(desktop.bus_address())?.build()?;
    let without_weft = notify_calls(&other_app, "without Weft")?;

    tray_ready(&desktop, &watcher)?;
    let app = App::start(&desktop, &[])?;
    wait_for("the tray", LIMIT, || watcher.items().last().cloned())?;
    app.wait_until_serving(LIMIT)?;
    app.wait_for_log("registered", LIMIT)?;
    memory(&app)?;
    switch_round_trip(&app)?;
    status_follow(&desktop, &app)?;
    hotkey_latency(&desktop, &app)?;
    notify_latency(&app, &notifications)?;
    other_apps(&app, &other_app, &without_weft)?;
    team(&app)?;
    drop(app);
    wayland()?;
    Ok(())
}

/// The Wayland figures, beside the X11 ones: start to tray-ready, tray-only PSS, and the
/// portal's `Activated` (sent by the desktop's backend) to the committed switch.
fn wayland() -> anyhow::Result<()> {
    let panel = weft_e2e::wayland::WaylandPanel::start(weft_e2e::portal::Offer::GlobalShortcuts)?;
    let desktop = panel.desktop();
    let watcher = &panel.panel.watcher;
    println!("under Wayland (headless sway, no X server; xdg-desktop-portal 1.16):");
    tray_ready(desktop, watcher)?;
    watcher.clear();
    let app = App::start(desktop, &[])?;
    wait_for("the tray", LIMIT, || watcher.items().last().cloned())?;
    app.wait_until_serving(LIMIT)?;
    app.wait_for_log("global hotkey bound by the desktop portal", LIMIT)?;
    let (tray, parts) = settled_pss(&app);
    println!("PSS tray-only under Wayland: {tray:.1} MB ({parts})");
    let backend = panel.portal.shortcuts()?;
    // This app's session: the one of the last bind (the earlier runs' apps bound before).
    let session = backend
        .bind_calls()
        .last()
        .map(|call| call.session.clone())
        .context("Weft bound no shortcut")?;
    let mut samples = Vec::new();
    for _ in 0..PRESSES {
        let before = state(&app).context("status")?;
        let sent = Instant::now();
        backend.activate_in(&session, "toggle")?;
        // Poll every millisecond: finer than wait_for, so the poll adds at most 1 ms.
        loop {
            if state(&app).is_some_and(|s| s != before) {
                break;
            }
            anyhow::ensure!(sent.elapsed() < LIMIT, "Activated did not switch");
            std::thread::sleep(Duration::from_millis(1));
        }
        samples.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "portal Activated to committed switch: median {:.1} ms, p95 {:.1} ms over {PRESSES} activations",
        percentile(&samples, 50.0),
        percentile(&samples, 95.0)
    );
    Ok(())
}

/// Joins a team on a local `weft-sync`, then measures the tray's PSS and how soon a teammate
/// following the live stream sees a switch.
fn team(app: &App) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = weft_e2e::sync::SyncServer::start(dir.path(), &["--rate-limit", "0"])?;
    let invite = server.create_team("Bench")?;
    let join = Request::TeamJoin {
        server: server.url(),
        invite: invite.clone(),
        name: "Ana".into(),
        share_intent: false,
    };
    match app.call(&join)? {
        Response::Team(_) => {}
        other => anyhow::bail!("joining failed: {other:?}"),
    }
    wait_for("the team stream", LIMIT, || {
        match app.call(&Request::Team).ok()? {
            Response::Team(info) => {
                (info.connection == weft_proto::Connection::Online).then_some(())
            }
            _ => None,
        }
    })?;
    let (pss, parts) = settled_pss(app);
    println!("PSS tray-only, in a team and connected: {pss:.1} MB ({parts})");

    // A teammate's Weft, reduced to its stream.
    let client = weft_sync_client::Client::new(&server.url())?;
    let joined = client.join(&invite, "Observer")?;
    let mate = client.with_token(&joined.token);
    let events = mate.events(joined.team.id, 0)?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for event in events {
            if let Ok(weft_proto::sync::SyncEvent::Member(m)) = event {
                if tx.send((Instant::now(), m)).is_err() {
                    return;
                }
            }
        }
    });
    let mut samples = Vec::new();
    for _ in 0..40 {
        let asked = Instant::now();
        let to = match state(app) {
            Some(State::Focus) => weft_proto::Target::Coordination,
            _ => weft_proto::Target::Focus,
        };
        switch_to(app, to)?;
        let want = match to {
            weft_proto::Target::Focus => State::Focus,
            _ => State::Coordination,
        };
        loop {
            let (at, member) = rx
                .recv_timeout(Duration::from_secs(10))
                .context("the teammate's stream saw no switch within 10 s")?;
            if member.name == "Ana" && member.state == Some(want) {
                samples.push((at - asked).as_secs_f64() * 1000.0);
                break;
            }
        }
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "switch to a teammate's stream seeing it: median {:.1} ms, p95 {:.1} ms ({} switches)",
        percentile(&samples, 50.0),
        percentile(&samples, 95.0),
        samples.len()
    );
    Ok(())
}

fn switch_to(app: &App, to: weft_proto::Target) -> anyhow::Result<()> {
    let answer = app.call(&Request::Switch {
        to,
        source: weft_proto::Source::Cli,
        intent: None,
        minutes: None,
        stash: None,
    })?;
    anyhow::ensure!(matches!(answer, Response::Switched(_)), "{answer:?}");
    Ok(())
}

fn notify(app: &App, title: &str) -> anyhow::Result<weft_proto::NotifyOutcome> {
    match app.call(&Request::Notify {
        title: title.to_owned(),
        body: Some("bench".into()),
        urgency: weft_proto::Urgency::Normal,
        from: Some("bench".into()),
    })? {
        Response::Notified(outcome) => Ok(outcome),
        other => anyhow::bail!("unexpected answer {other:?}"),
    }
}

/// A notification over the control socket: to its committed answer when held (focus), and to
/// the notification server receiving it (coordination).
fn notify_latency(app: &App, capture: &NotificationCapture) -> anyhow::Result<()> {
    switch_to(app, weft_proto::Target::Focus)?;
    let mut held = Vec::new();
    for n in 0..PRESSES {
        let asked = Instant::now();
        let outcome = notify(app, &format!("held {n}"))?;
        held.push(asked.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(outcome.disposition == weft_proto::Disposition::Held);
    }
    println!(
        "notify to held item committed (socket): median {:.1} ms, p95 {:.1} ms over {PRESSES}",
        percentile(&held, 50.0),
        percentile(&held, 95.0)
    );
    switch_to(app, weft_proto::Target::Coordination)?;
    let mut delivered = Vec::new();
    for n in 0..PRESSES {
        let summary = format!("bench: direct {n}");
        let asked = Instant::now();
        notify(app, &format!("direct {n}"))?;
        let popup = wait_for("the popup", LIMIT, || {
            capture
                .received()
                .into_iter()
                .find(|p| p.summary == summary)
        })?;
        delivered.push(popup.at.duration_since(asked).as_secs_f64() * 1000.0);
    }
    println!(
        "notify to popup at the notification server (coordination): median {:.1} ms, p95 {:.1} ms over {PRESSES}",
        percentile(&delivered, 50.0),
        percentile(&delivered, 95.0)
    );
    Ok(())
}

/// How many notifications the flood sends in one focus block.
const FLOOD: u32 = 10_000;

/// Another app's `Notify` call on the session bus; returns how long the call took (what the
/// sending app waits), in milliseconds.
fn other_notify(conn: &zbus::blocking::Connection, title: &str) -> anyhow::Result<f64> {
    let hints: std::collections::HashMap<&str, zbus::zvariant::Value<'_>> =
        std::collections::HashMap::new();
    let asked = Instant::now();
    conn.call_method(
        Some("org.freedesktop.Notifications"),
        "/org/freedesktop/Notifications",
        Some("org.freedesktop.Notifications"),
        "Notify",
        &(
            "Slack",
            0u32,
            "",
            title,
            "bench",
            Vec::<&str>::new(),
            hints,
            5000i32,
        ),
    )?;
    Ok(asked.elapsed().as_secs_f64() * 1000.0)
}

/// The `Notify` call's own time, over [`PRESSES`] calls; printed, and returned for the
/// comparison with Weft watching.
fn notify_calls(conn: &zbus::blocking::Connection, label: &str) -> anyhow::Result<Vec<f64>> {
    let mut took = Vec::new();
    for n in 0..PRESSES {
        took.push(other_notify(conn, &format!("call {n}"))?);
    }
    println!(
        "another app's Notify call, {label}: median {:.2} ms, p95 {:.2} ms over {PRESSES}",
        percentile(&took, 50.0),
        percentile(&took, 95.0)
    );
    Ok(took)
}

fn held(app: &App) -> Option<u32> {
    match app.call(&Request::Status).ok()? {
        Response::Status(status) => Some(status.held),
        _ => None,
    }
}

/// Other apps' notifications: an observed `Notify` to its committed Inbox item, the call's
/// own time with Weft watching, and the tray's PSS around a flood in one focus block.
fn other_apps(
    app: &App,
    conn: &zbus::blocking::Connection,
    without_weft: &[f64],
) -> anyhow::Result<()> {
    switch_to(app, weft_proto::Target::Coordination)?;
    switch_to(app, weft_proto::Target::Focus)?;
    let mut filed = Vec::new();
    for n in 0..PRESSES {
        let before = held(app).context("no status")?;
        let asked = Instant::now();
        other_notify(conn, &format!("observed {n}"))?;
        wait_for("the observed notification held", LIMIT, || {
            (held(app)? > before).then_some(())
        })?;
        filed.push(asked.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "another app's Notify to its held Inbox item committed: median {:.1} ms, p95 {:.1} ms over {PRESSES}",
        percentile(&filed, 50.0),
        percentile(&filed, 95.0)
    );
    let with_weft = notify_calls(conn, "with Weft watching")?;
    println!(
        "  (median without Weft {:.2} ms, with {:.2} ms)",
        percentile(without_weft, 50.0),
        percentile(&with_weft, 50.0)
    );
    switch_to(app, weft_proto::Target::Coordination)?;
    switch_to(app, weft_proto::Target::Focus)?;
    let (before, _) = settled_pss(app);
    let started = Instant::now();
    for n in 0..FLOOD {
        other_notify(conn, &format!("flood {n}"))?;
    }
    wait_for("the flood committed", Duration::from_secs(600), || {
        (held(app)? >= FLOOD).then_some(())
    })?;
    let committed = started.elapsed();
    let (after, parts) = settled_pss(app);
    println!(
        "flood of {FLOOD} in one focus block: all committed after {:.1} s; PSS tray {before:.1} MB before, {after:.1} MB after ({parts})",
        committed.as_secs_f64()
    );
    switch_to(app, weft_proto::Target::Coordination)?;
    Ok(())
}

/// A switch request over the control socket until its committed answer: the cost of the
/// commit itself (WAL, `synchronous = FULL`, so one fsync) plus the socket round trip.
fn switch_round_trip(app: &App) -> anyhow::Result<()> {
    let mut samples = Vec::new();
    for _ in 0..PRESSES {
        let asked = Instant::now();
        let answer = app.call(&Request::Switch {
            to: weft_proto::Target::Toggle,
            source: weft_proto::Source::Cli,
            intent: None,
            minutes: None,
            stash: None,
        })?;
        samples.push(asked.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            matches!(answer, Response::Switched(_)),
            "unexpected answer {answer:?}"
        );
    }
    println!(
        "switch request to committed answer (socket): median {:.1} ms, p95 {:.1} ms over {PRESSES} switches",
        percentile(&samples, 50.0),
        percentile(&samples, 95.0)
    );
    Ok(())
}

/// A status bar's follower: from a switch request to the follower's line with the new state,
/// and the follower's own PSS once it has followed them all.
fn status_follow(desktop: &Desktop, app: &App) -> anyhow::Result<()> {
    use std::io::BufRead;
    let mut follower = desktop
        .command(weft_e2e::bin_dir().join("weft"))
        .args(["status", "--format", "json", "--follow"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = follower.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, String)>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let state_of = |line: &str| -> Option<String> {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        value["state"].as_str().map(str::to_owned)
    };
    let mut current = rx
        .recv_timeout(LIMIT)
        .ok()
        .and_then(|(_, line)| state_of(&line))
        .context("the follower printed no state")?;
    let mut samples = Vec::new();
    for _ in 0..PRESSES {
        let asked = Instant::now();
        switch_to(app, weft_proto::Target::Toggle)?;
        let seen = loop {
            let (at, line) = rx
                .recv_timeout(LIMIT)
                .context("the follower printed no line for a switch")?;
            match state_of(&line) {
                Some(state) if state != current => {
                    current = state;
                    break at;
                }
                _ => {}
            }
        };
        samples.push(seen.duration_since(asked).as_secs_f64() * 1000.0);
    }
    let pss = pss_kib(follower.id()).map_or(0.0, |kib| kib as f64 / 1024.0);
    let _ = follower.kill();
    let _ = follower.wait();
    println!(
        "status bar follower: switch request to its line median {:.1} ms, p95 {:.1} ms over {PRESSES} switches; PSS {pss:.1} MB",
        percentile(&samples, 50.0),
        percentile(&samples, 95.0)
    );
    Ok(())
}

fn tray_ready(desktop: &Desktop, watcher: &Watcher) -> anyhow::Result<()> {
    let mut samples = Vec::new();
    for _ in 0..STARTS {
        watcher.clear();
        let started = Instant::now();
        let mut app = App::start(desktop, &[])?;
        let item = wait_for("the tray item", LIMIT, || watcher.items().last().cloned())?;
        samples.push(item.at.duration_since(started));
        app.wait_until_serving(LIMIT)?;
        app.stop();
    }
    let ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    println!(
        "start to tray-ready: median {:.0} ms over {STARTS} runs (min {:.0}, max {:.0}; first run {:.0})",
        percentile(&ms, 50.0),
        ms.iter().cloned().fold(f64::INFINITY, f64::min),
        ms.iter().cloned().fold(0.0, f64::max),
        ms[0]
    );
    Ok(())
}

/// PSS of the app's process tree in MB, with a per-process breakdown.
fn tree_pss(app: &App) -> (f64, String) {
    let mut total = 0u64;
    let mut parts = Vec::new();
    for pid in app.process_tree() {
        if let Some(kib) = pss_kib(pid) {
            total += kib;
            parts.push(format!("{} {:.1}", process_name(pid), kib as f64 / 1024.0));
        }
    }
    (total as f64 / 1024.0, parts.join(" + "))
}

/// Waits until the tree's PSS stops moving (within 0.5 MB over a second), at most 20 s.
fn settled_pss(app: &App) -> (f64, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = tree_pss(app);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = tree_pss(app);
        if (now.0 - last.0).abs() < 0.5 || Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

fn has_web_process(app: &App) -> bool {
    app.process_tree()
        .iter()
        .any(|pid| process_name(*pid).starts_with("WebKitWebProces"))
}

fn memory(app: &App) -> anyhow::Result<()> {
    let (tray, parts) = settled_pss(app);
    println!("PSS tray-only: {tray:.1} MB ({parts})");
    for cycle in 1..=2 {
        let asked = Instant::now();
        expect_done(app.call(&Request::OpenWindow)?)?;
        wait_for("the web process", LIMIT, || {
            has_web_process(app).then_some(())
        })?;
        println!(
            "open to web process running (cycle {cycle}): {:.0} ms",
            asked.elapsed().as_secs_f64() * 1000.0
        );
        let (open, parts) = settled_pss(app);
        println!("PSS window open (cycle {cycle}): {open:.1} MB ({parts})");
        expect_done(app.call(&Request::CloseWindow)?)?;
        wait_for("the web process to exit", LIMIT, || {
            (!has_web_process(app)).then_some(())
        })?;
        let (closed, parts) = settled_pss(app);
        println!("PSS after the window closed (cycle {cycle}): {closed:.1} MB ({parts})");
    }
    Ok(())
}

fn expect_done(response: Response) -> anyhow::Result<()> {
    anyhow::ensure!(response == Response::Done, "unexpected answer {response:?}");
    Ok(())
}

fn state(app: &App) -> Option<State> {
    match app.call(&Request::Status) {
        Ok(Response::Status(status)) => Some(status.state),
        _ => None,
    }
}

fn hotkey_latency(desktop: &Desktop, app: &App) -> anyhow::Result<()> {
    // One long-lived xdotool reading commands from stdin, so no process start is timed, and
    // `--delay 0`, so xdotool does not wait (12 ms by default) before it flushes the press.
    let mut xdotool = Command::new("xdotool")
        .arg("-")
        .envs(desktop.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start xdotool")?;
    let mut input = xdotool.stdin.take().context("xdotool stdin")?;
    let mut samples = Vec::new();
    // global-hotkey polls X11 every 50 ms; presses sent in lock-step with that poll would all
    // land at the same phase, so each press waits a varying 0-59 ms first (a fixed sequence).
    let mut jitter: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..PRESSES {
        jitter ^= jitter << 13;
        jitter ^= jitter >> 7;
        jitter ^= jitter << 17;
        std::thread::sleep(Duration::from_millis(jitter % 60));
        let before = state(app).context("status")?;
        let pressed = Instant::now();
        input.write_all(b"key --delay 0 ctrl+alt+f\n")?;
        input.flush()?;
        // Poll every millisecond: finer than wait_for, so the poll adds at most 1 ms.
        loop {
            if state(app).is_some_and(|s| s != before) {
                break;
            }
            anyhow::ensure!(pressed.elapsed() < LIMIT, "the hotkey did not switch");
            std::thread::sleep(Duration::from_millis(1));
        }
        samples.push(pressed.elapsed().as_secs_f64() * 1000.0);
    }
    drop(input);
    let _ = xdotool.wait();
    println!(
        "hotkey to committed switch: median {:.1} ms, p95 {:.1} ms over {PRESSES} presses",
        percentile(&samples, 50.0),
        percentile(&samples, 95.0)
    );
    Ok(())
}

/// Nearest-rank percentile.
fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

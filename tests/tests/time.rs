//! End-to-end tests of time that did not pass at the desk: a suspend (the wall clock jumps
//! ahead of the monotonic clock, made real with libfaketime), a request the CLI gave up on
//! while the app was stopped (SIGSTOP/SIGCONT of the real app), and a `TZ` that names no zone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use weft_e2e::{wait_for, App, Desktop};

const START: Duration = Duration::from_secs(60);
const SOON: Duration = Duration::from_secs(30);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(output: &Output) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(
        output.status.success(),
        "weft failed: {}",
        text(&output.stderr)
    );
    Ok(serde_json::from_str(&text(&output.stdout))?)
}

fn kill(signal: &str, pid: u32) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()?;
    anyhow::ensure!(status.success(), "kill {signal} {pid} failed");
    Ok(())
}

/// Lets a stopped app go on, also when the test fails half-way.
struct Continue(u32);

impl Drop for Continue {
    fn drop(&mut self) {
        let _ = kill("-CONT", self.0);
    }
}

#[test]
fn a_request_the_cli_gave_up_on_is_never_applied_later() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let app = App::start(&desktop, &[])?;
    app.wait_until_serving(START)?;
    let before = json(&desktop.weft(&["status", "--json"])?)?;
    assert_eq!(before["state"], "coordination");

    kill("-STOP", app.pid())?;
    let resume = Continue(app.pid());
    // The kernel queues the connection and the request while the app is stopped; the CLI
    // gives up after its timeout.
    let toggle = desktop.weft(&["toggle"])?;
    assert_eq!(toggle.status.code(), Some(1), "{}", text(&toggle.stderr));
    assert!(
        text(&toggle.stderr).contains("did not answer"),
        "{}",
        text(&toggle.stderr)
    );
    drop(resume);

    // The app reads the request when it goes on, and refuses it.
    app.wait_for_log("past its deadline", SOON)?;
    let after = json(&desktop.weft(&["status", "--json"])?)?;
    assert_eq!(
        after["state"], "coordination",
        "the toggle was applied late"
    );
    assert_eq!(after["since"], before["since"]);
    let log = json(&desktop.weft(&["log", "--json"])?)?;
    assert_eq!(log.as_array().map(Vec::len), Some(0), "{log}");
    // And it serves the next request as usual.
    desktop.weft_ok(&["toggle"])?;
    assert_eq!(
        json(&desktop.weft(&["status", "--json"])?)?["state"],
        "focus"
    );
    Ok(())
}

#[test]
fn an_unknown_time_zone_is_named_with_the_zone_used() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let app = App::start_with(
        &desktop,
        &weft_e2e::bin_dir().join("weft-app"),
        &[],
        &[("TZ", "Nowhere/Invalid")],
    )?;
    app.wait_until_serving(START)?;
    app.wait_for_log("TZ=\"Nowhere/Invalid\" is not a time zone", SOON)?;
    let warnings = app.log().matches("is not a time zone").count();
    assert_eq!(warnings, 1, "once:\n{}", app.log());

    let cli = |tz: &str| -> anyhow::Result<Output> {
        Ok(desktop
            .command(weft_e2e::bin_dir().join("weft"))
            .args(["status"])
            .env("TZ", tz)
            .stdin(Stdio::null())
            .output()?)
    };
    let bad = cli("Nowhere/Invalid")?;
    assert!(bad.status.success(), "{}", text(&bad.stderr));
    let stderr = text(&bad.stderr);
    assert_eq!(stderr.matches("is not a time zone").count(), 1, "{stderr}");
    assert!(
        stderr.contains("weft: warning: TZ=\"Nowhere/Invalid\" is not a time zone this system knows; times are shown in the system zone, "),
        "{stderr}"
    );
    for good in ["Europe/Berlin", "UTC", "CET-1CEST,M3.5.0,M10.5.0/3", ""] {
        let ok = cli(good)?;
        assert!(ok.status.success(), "{}", text(&ok.stderr));
        assert_eq!(text(&ok.stderr), "", "TZ={good:?}");
    }
    Ok(())
}

/// libfaketime, preloaded: the wall clock follows an offset read from a file the test
/// rewrites; the monotonic clock stays real (`DONT_FAKE_MONOTONIC`), as in a suspend.
struct FakeTime {
    library: PathBuf,
    file: PathBuf,
}

impl FakeTime {
    fn new(dir: &Path) -> anyhow::Result<FakeTime> {
        let library = [
            "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
            "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
            "/usr/lib/faketime/libfaketimeMT.so.1",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "libfaketime is missing: install the faketime package (scripts/setup.sh)"
            )
        })?;
        let fake = FakeTime {
            library,
            file: dir.join("faketime.rc"),
        };
        fake.set("+0")?;
        Ok(fake)
    }

    /// `+3h`: from now on the wall clock reads three hours later.
    fn set(&self, offset: &str) -> anyhow::Result<()> {
        std::fs::write(&self.file, format!("{offset}\n"))?;
        Ok(())
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LD_PRELOAD", self.library.display().to_string()),
            ("FAKETIME_TIMESTAMP_FILE", self.file.display().to_string()),
            ("FAKETIME_NO_CACHE", "1".into()),
            ("DONT_FAKE_MONOTONIC", "1".into()),
            // Days in UTC, so the day of the block is the date of its RFC 3339 start.
            ("TZ", "UTC".into()),
        ]
    }
}

#[test]
fn a_suspend_in_planned_focus_is_untracked_and_the_block_ends_as_planned() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    let fake = FakeTime::new(desktop.dir())?;
    let env = fake.env();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = App::start_with(
        &desktop,
        &weft_e2e::bin_dir().join("weft-app"),
        &[],
        &env_refs,
    )?;
    app.wait_until_serving(START)?;
    // The CLI runs on the same faked clock as the app.
    let weft = |args: &[&str]| -> anyhow::Result<Output> {
        Ok(desktop
            .command(weft_e2e::bin_dir().join("weft"))
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .output()?)
    };
    let focus = weft(&["focus", "release notes", "--for", "50m"])?;
    assert!(focus.status.success(), "{}", text(&focus.stderr));
    let planned = json(&weft(&["status", "--json"])?)?;
    let until = planned["until"].as_str().unwrap_or_default().to_owned();
    let since = planned["since"].as_str().unwrap_or_default().to_owned();
    let date = since.get(..10).unwrap_or_default().to_owned();

    // The machine sleeps for three hours: the wall clock jumps, the monotonic clock does not.
    fake.set("+3h")?;
    app.wait_for_log("is untracked", SOON)?;
    let status = wait_for("the planned end to apply", SOON, || {
        let status = json(&weft(&["status", "--json"]).ok()?).ok()?;
        (status["state"] == "coordination").then_some(status)
    })?;
    assert_eq!(
        status["since"], until,
        "the block ended at its planned end, not at the wake"
    );
    let log = json(&weft(&["log", "--json"])?)?;
    let last = log.as_array().and_then(|l| l.last()).cloned();
    assert_eq!(
        last.as_ref()
            .map(|s| (s["source"].clone(), s["at"].clone())),
        Some((serde_json::json!("timer"), serde_json::json!(until))),
        "{log}"
    );

    let day = json(&weft(&["summary", "--date", &date, "--format", "json"])?)?;
    let day = if day.is_array() { day[0].clone() } else { day };
    let focus_seconds = day["focus_seconds"].as_i64().unwrap_or(-1);
    assert!(
        // Bounded loosely: how long the test took before the jump depends on the machine.
        (0..1800).contains(&focus_seconds),
        "only the time before the suspend counts as focus, not 3 h: {day}"
    );
    let blocks = day["focus_blocks"].as_array().cloned().unwrap_or_default();
    assert_eq!(blocks.len(), 1, "{day}");
    assert_eq!(blocks[0]["intent"], "release notes");
    assert_eq!(blocks[0]["open"], false);
    Ok(())
}

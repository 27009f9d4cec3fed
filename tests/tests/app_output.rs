//! `weft-app` and its output: `--help` and `--version` (no display needed), and the line a
//! second instance says after opening the first one's window, with standard output a pipe
//! whose reader has gone (as in `weft-app --help | head -1`) and with standard output
//! `/dev/full`. A closed pipe ends quietly with exit 0; any other write error is one line on
//! standard error and exit 1 (and no "could not start" notice); a closed standard error costs
//! only the message; nothing panics.

use std::process::{Command, Output, Stdio};
use std::time::Duration;
use weft_e2e::notifications::NotificationCapture;
use weft_e2e::proc::Proc;
use weft_e2e::sink::Sink;
use weft_e2e::watcher::Watcher;
use weft_e2e::{wait_for, App, Desktop};
use weft_proto::{Request, Response};

const START: Duration = Duration::from_secs(60);
const FULL: &str = "weft-app: cannot write the output: No space left on device";

/// `weft-app ARGS` without a display: only what needs none (arguments, help, version).
fn weft_app(args: &[&str], stdout: Stdio, stderr: Stdio) -> anyhow::Result<Output> {
    let binary = weft_e2e::bin_dir().join("weft-app");
    anyhow::ensure!(
        binary.is_file(),
        "{} does not exist: build it first (`make build`)",
        binary.display()
    );
    Ok(Command::new(binary)
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .output()?)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_and_version_survive_a_closed_pipe_and_a_full_disk() -> anyhow::Result<()> {
    for args in [&["--help"][..], &["-h"], &["--version"], &["-V"]] {
        let read = weft_app(args, Stdio::piped(), Stdio::piped())?;
        assert!(
            read.status.success() && !read.stdout.is_empty(),
            "weft-app {args:?} prints: {}",
            text(&read.stderr)
        );

        let closed = weft_app(args, Sink::ClosedPipe.stdio()?, Stdio::piped())?;
        assert_eq!(
            closed.status.code(),
            Some(0),
            "weft-app {args:?} to a closed pipe: {}",
            text(&closed.stderr)
        );
        assert_eq!(text(&closed.stderr), "", "weft-app {args:?} says nothing");

        let full = weft_app(args, Sink::DevFull.stdio()?, Stdio::piped())?;
        assert_eq!(
            full.status.code(),
            Some(1),
            "weft-app {args:?} to /dev/full: {}",
            text(&full.stderr)
        );
        assert_eq!(text(&full.stderr), format!("{FULL}\n"), "weft-app {args:?}");

        // Standard error closed as well: the line is lost, the exit code is not.
        for err in [Sink::ClosedPipe, Sink::DevFull] {
            let output = weft_app(args, Stdio::piped(), err.stdio()?)?;
            assert_eq!(output.status.code(), Some(0), "weft-app {args:?}");
        }
        let both = weft_app(args, Sink::DevFull.stdio()?, Sink::ClosedPipe.stdio()?)?;
        assert_eq!(both.status.code(), Some(1), "weft-app {args:?}");
    }
    Ok(())
}

#[test]
fn usage_errors_say_so_once_and_survive_a_closed_standard_error() -> anyhow::Result<()> {
    for args in [&["--bogus"][..], &["--view", "nowhere"], &["--view"]] {
        let said = weft_app(args, Stdio::piped(), Stdio::piped())?;
        assert_eq!(said.status.code(), Some(2), "weft-app {args:?}");
        let err = text(&said.stderr);
        assert!(err.starts_with("weft-app: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        for sink in [Sink::ClosedPipe, Sink::DevFull] {
            let output = weft_app(args, sink.stdio()?, sink.stdio()?)?;
            assert_eq!(
                output.status.code(),
                Some(2),
                "weft-app {args:?}, output and errors to {sink:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn a_second_instance_survives_a_closed_pipe_and_a_full_disk() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let desktop = Desktop::start()?;
    desktop.write_config("hotkey = \"off\"\n")?;
    let notifications = NotificationCapture::start(desktop.bus_address())?;
    let watcher = Watcher::start(desktop.bus_address())?;
    let first = App::start(&desktop, &[])?;
    first.wait_until_serving(START)?;
    wait_for("the tray item to register", START, || {
        watcher.items().last().cloned()
    })
    .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", first.log()))?;

    for sink in [Sink::ClosedPipe, Sink::DevFull] {
        let err_path = desktop.dir().join(format!("second-{sink:?}.err"));
        let mut second = Proc::spawn(
            "the second weft-app",
            desktop
                .command(weft_e2e::bin_dir().join("weft-app"))
                .stdin(Stdio::null())
                .stdout(sink.stdio()?)
                .stderr(std::fs::File::create(&err_path)?),
        )?;
        let status = wait_for("the second instance to exit", START, || second.try_status())?;
        let err = std::fs::read_to_string(&err_path)?;
        assert!(!err.contains("panicked"), "{sink:?}: {err}");
        match sink {
            Sink::ClosedPipe => {
                assert_eq!(status.code(), Some(0), "to a closed pipe: {err}");
                assert!(!err.contains("cannot write"), "{err}");
            }
            Sink::DevFull => {
                assert_eq!(status.code(), Some(1), "to /dev/full: {err}");
                assert_eq!(
                    err.lines()
                        .filter(|l| l.starts_with("weft-app: "))
                        .collect::<Vec<_>>(),
                    [FULL],
                    "one line, the output's: {err}"
                );
            }
        }
    }
    // The output is not a failure to start: no fatal notice.
    let fatal: Vec<_> = notifications
        .received()
        .into_iter()
        .filter(|n| n.body.contains("could not start"))
        .map(|n| n.body)
        .collect();
    assert!(fatal.is_empty(), "{fatal:?}");
    assert_eq!(first.call(&Request::CloseWindow)?, Response::Done);
    Ok(())
}

//! The real `weft-sync-load` and its output: `--help` and a small real round
//! (four clients on a real `weft-sync` on loopback), with standard output a pipe whose reader
//! has gone and with standard output `/dev/full`. A closed pipe costs only the table (the exit
//! code is the run's); any other write error is one line on standard error and exit 1; a
//! closed standard error costs only the messages; nothing panics.
//!
//! Needs the `weft-sync` binary next to this one: `cargo build -p weft-sync` first.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use weft_output::testing::Sink;

type R = Result<(), Box<dyn std::error::Error>>;

const FULL: &str = "weft-sync-load: cannot write the output: No space left on device";

fn load(args: &[&str], stdout: Stdio, stderr: Stdio) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_weft-sync-load"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .output()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `weft-sync` built beside this binary.
fn server_bin() -> Result<PathBuf, Box<dyn std::error::Error>> {
    let load = PathBuf::from(env!("CARGO_BIN_EXE_weft-sync-load"));
    let server = load.with_file_name("weft-sync");
    if !server.is_file() {
        return Err(format!(
            "{} does not exist: build it first (cargo build -p weft-sync)",
            server.display()
        )
        .into());
    }
    Ok(server)
}

/// Runs `weft-sync-load ARGS` to a pipe that is read, to a closed pipe and to /dev/full.
fn every_way(args: &[&str]) -> R {
    let read = load(args, Stdio::piped(), Stdio::piped())?;
    assert!(
        read.status.success() && !read.stdout.is_empty(),
        "weft-sync-load {args:?} prints: {}",
        text(&read.stderr)
    );

    let closed = load(args, Sink::ClosedPipe.stdio()?, Stdio::piped())?;
    let err = text(&closed.stderr);
    assert_eq!(
        closed.status.code(),
        Some(0),
        "{args:?} to a closed pipe: {err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("cannot write"),
        "{args:?}: {err}"
    );

    let full = load(args, Sink::DevFull.stdio()?, Stdio::piped())?;
    let err = text(&full.stderr);
    assert_eq!(full.status.code(), Some(1), "{args:?} to /dev/full: {err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("weft-sync-load: "))
            .collect::<Vec<_>>(),
        [FULL],
        "{args:?} to /dev/full says one line: {err}"
    );

    // Standard error closed too: the line is lost, the exit code is not.
    let both = load(args, Sink::DevFull.stdio()?, Sink::ClosedPipe.stdio()?)?;
    assert_eq!(both.status.code(), Some(1), "{args:?}");
    Ok(())
}

#[test]
fn help_and_the_table_survive_a_closed_pipe_and_a_full_disk() -> R {
    every_way(&["--help"])?;
    every_way(&["-h"])?;
    let server = server_bin()?;
    let server = server.to_str().ok_or("path")?;
    every_way(&[
        "--clients",
        "4",
        "--team-size",
        "2",
        "--seconds",
        "0.2",
        "--grace",
        "0.2",
        "--settle",
        "0",
        "--server-bin",
        server,
    ])
}

#[test]
fn a_failed_run_keeps_its_exit_code_with_a_closed_standard_error() -> R {
    for err in [Sink::ClosedPipe, Sink::DevFull] {
        let failed = load(
            &["--server-bin", "/nonexistent/weft-sync"],
            Stdio::piped(),
            err.stdio()?,
        )?;
        assert_eq!(failed.status.code(), Some(1), "errors to {err:?}");
        let usage = load(&["--clients", "many"], Stdio::piped(), err.stdio()?)?;
        assert_eq!(usage.status.code(), Some(2), "errors to {err:?}");
    }
    Ok(())
}

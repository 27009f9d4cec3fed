//! The real `weft-sync` binary and its output: every command that prints (`team create`,
//! `invite`, `remove-member`, `list`, `serve`'s address, `--help`, `--version`), with standard
//! output a pipe whose reader has gone (as in `weft-sync team list | head -1`) and with
//! standard output `/dev/full`. A closed pipe ends the command quietly with exit 0; any other
//! write error is one line on standard error and exit 1; a closed standard error costs only
//! the message; nothing panics.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use weft_output::testing::Sink;
use weft_sync::testing::TestServer;
use weft_sync::Config;
use weft_sync_client::Client;

type R = Result<(), Box<dyn std::error::Error>>;

fn weft_sync(args: &[&str], stdout: Stdio, stderr: Stdio) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_weft-sync"))
        .args(args)
        // The server's info log goes to standard error too; these runs check only their output.
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .output()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `weft-sync ARGS` prints something to a pipe that is read, and succeeds.
fn prints(args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let output = weft_sync(args, Stdio::piped(), Stdio::piped())?;
    assert!(
        output.status.success() && !output.stdout.is_empty(),
        "weft-sync {args:?} prints: {}",
        text(&output.stderr)
    );
    Ok(text(&output.stdout))
}

/// Runs `weft-sync ARGS` with its output going to `sink`, and checks how it ended.
fn into_sink(args: &[&str], sink: Sink) -> R {
    let output = weft_sync(args, sink.stdio()?, Stdio::piped())?;
    let err = text(&output.stderr);
    assert!(
        !err.contains("panicked"),
        "weft-sync {args:?} to {sink:?}: {err}"
    );
    match sink {
        Sink::ClosedPipe => {
            assert_eq!(
                output.status.code(),
                Some(0),
                "weft-sync {args:?} to a closed pipe: {err}"
            );
            assert_eq!(err, "", "weft-sync {args:?} to a closed pipe says nothing");
        }
        Sink::DevFull => {
            assert_eq!(
                output.status.code(),
                Some(1),
                "weft-sync {args:?} to /dev/full: {err}"
            );
            assert_eq!(
                err, "weft-sync: cannot write the output: No space left on device\n",
                "weft-sync {args:?} to /dev/full says one line"
            );
        }
    }
    Ok(())
}

/// Joins `names` to `team` through a server on `db` that stops before this returns.
fn join_members(db: &Path, invite: &str, names: &[&str]) -> R {
    let config = Config {
        rate_per_second: 0,
        join_rate_per_second: 0,
        ..Config::default()
    };
    let server = TestServer::start_on(db, config)?;
    for name in names {
        Client::new(&server.url)?.join(invite, name)?;
    }
    drop(server);
    Ok(())
}

#[test]
fn every_printing_command_survives_a_closed_pipe_and_a_full_disk() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("sync.db");
    let db_text = db.to_str().ok_or("path")?;

    for args in [
        &["--help"][..],
        &["--version"],
        &["help", "team"],
        &["team", "--help"],
        &["team", "list", "--db", db_text],
    ] {
        prints(args)?;
        into_sink(args, Sink::ClosedPipe)?;
        into_sink(args, Sink::DevFull)?;
    }
    assert!(prints(&["team", "list", "--db", db_text])?.starts_with("No teams yet"));

    // Each run creates its own team: the team exists whatever happened to the output.
    let created = prints(&["team", "create", "Core", "--db", db_text])?;
    let invite = created.lines().last().ok_or("no invite")?.to_owned();
    into_sink(
        &["team", "create", "Piped", "--db", db_text],
        Sink::ClosedPipe,
    )?;
    into_sink(&["team", "create", "Full", "--db", db_text], Sink::DevFull)?;
    let listed = prints(&["team", "list", "--db", db_text])?;
    for team in ["Core", "Piped", "Full"] {
        assert!(listed.contains(team), "{listed}");
    }
    let list = ["team", "list", "--db", db_text];
    into_sink(&list, Sink::ClosedPipe)?;
    into_sink(&list, Sink::DevFull)?;

    // Members to remove, one per run; the invite is replaced only after they joined.
    join_members(&db, &invite, &["Ana", "Bo", "Cy"])?;
    let invite_args = ["team", "invite", "core", "--db", db_text];
    prints(&invite_args)?;
    into_sink(&invite_args, Sink::ClosedPipe)?;
    into_sink(&invite_args, Sink::DevFull)?;
    prints(&["team", "remove-member", "core", "Ana", "--db", db_text])?;
    into_sink(
        &["team", "remove-member", "core", "Bo", "--db", db_text],
        Sink::ClosedPipe,
    )?;
    into_sink(
        &["team", "remove-member", "core", "Cy", "--db", db_text],
        Sink::DevFull,
    )?;
    let listed = prints(&list)?;
    assert!(listed.contains("Core  (0 members)"), "{listed}");

    // A server that cannot say where it listens does not start, by the same rule.
    let serve = ["serve", "--listen", "127.0.0.1:0", "--db", db_text];
    into_sink(&serve, Sink::ClosedPipe)?;
    into_sink(&serve, Sink::DevFull)?;
    Ok(())
}

#[test]
fn errors_keep_their_exit_codes_whatever_happens_to_the_output() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("sync.db");
    let db_text = db.to_str().ok_or("path")?;
    for out in [Sink::ClosedPipe, Sink::DevFull] {
        for err in [Sink::ClosedPipe, Sink::DevFull] {
            // Bad usage (clap), a bad argument (the library), a failure: 2, 2, 1.
            for (args, code) in [
                (&["serve", "--listen", "127.0.0.1:0"][..], 2),
                (&["team", "create", " ", "--db", db_text], 2),
                (&["team", "invite", "Nope", "--db", db_text], 1),
            ] {
                let output = weft_sync(args, out.stdio()?, err.stdio()?)?;
                assert_eq!(
                    output.status.code(),
                    Some(code),
                    "weft-sync {args:?}, output to {out:?}, errors to {err:?}"
                );
            }
        }
    }
    // With standard error readable, the error is said there, once.
    let output = weft_sync(
        &["team", "invite", "Nope", "--db", db_text],
        Sink::DevFull.stdio()?,
        Stdio::piped(),
    )?;
    let err = text(&output.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("weft-sync: "), "{err}");
    Ok(())
}

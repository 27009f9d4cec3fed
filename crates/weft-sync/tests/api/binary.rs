//! The real `weft-sync` binary: `team` commands, restart, SIGTERM with an open stream, exit codes.

use crate::support::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use weft_proto::State;
use weft_sync_client::{Client, Error};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn weft_sync(args: &[&str]) -> Result<std::process::Output, std::io::Error> {
    Command::new(env!("CARGO_BIN_EXE_weft-sync"))
        .args(args)
        .output()
}

fn serve(db: &str) -> Result<(Proc, String), Box<dyn std::error::Error>> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft-sync"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let proc = Proc(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(WAIT)?;
    let url = line
        .trim()
        .strip_prefix("weft-sync listening on ")
        .ok_or(format!("odd line {line:?}"))?;
    Ok((proc, url.to_string()))
}

fn terminate(proc: &mut Proc) -> Result<std::process::ExitStatus, Box<dyn std::error::Error>> {
    Command::new("kill")
        .args(["-TERM", &proc.0.id().to_string()])
        .status()?;
    let deadline = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < deadline {
        if let Some(status) = proc.0.try_wait()? {
            return Ok(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("weft-sync did not stop within 2.5 s of SIGTERM".into())
}

#[test]
fn the_binary_keeps_statuses_across_restarts_and_stops_on_sigterm() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("sync.db");
    let db = db.to_str().ok_or("path")?;
    let created = weft_sync(&["team", "create", "Core", "--db", db])?;
    assert!(created.status.success());
    let out = String::from_utf8(created.stdout)?;
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("Created team \"Core\" (id 1)"),
        "{out}"
    );
    let code = lines.last().ok_or("no output")?.to_string();
    assert!(code.starts_with("wfi_") && code.len() >= 26, "{out}");

    let (mut first, url) = serve(db)?;
    let (ana, ana_j) = join(&url, &code, "Ana")?;
    let instance = ana.team(ana_j.team.id)?.instance;
    assert_eq!(instance.len(), 32, "{instance:?}");
    let update = status(7, State::Focus, Some(25));
    assert!(
        ana.put_status(ana_j.team.id, ana_j.member_id, &update)?
            .applied
    );
    let stream = Stream::open(&ana, ana_j.team.id, 0)?;
    stream.until("snapshot", |_| true)?;
    assert!(terminate(&mut first)?.success());
    assert!(stream.ends(), "the open stream ended with the server");

    let listed = String::from_utf8(weft_sync(&["team", "list", "--db", db])?.stdout)?;
    assert!(
        listed.contains("Core") && listed.contains("(1 member)"),
        "{listed}"
    );
    let invited = weft_sync(&["team", "invite", "core", "--db", db])?;
    let new_code = String::from_utf8(invited.stdout)?
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(new_code.starts_with("wfi_") && new_code != code);

    let (mut second, url) = serve(db)?;
    let ana = Client::new(&url)?.with_token(&ana_j.token);
    let me = ana
        .team(ana_j.team.id)?
        .members
        .into_iter()
        .find(|m| m.id == ana_j.member_id)
        .ok_or("Ana")?;
    assert_eq!(
        (me.seq, me.state, me.until),
        (7, Some(State::Focus), update.until)
    );
    assert_eq!(
        ana.team(ana_j.team.id)?.instance,
        instance,
        "a restart keeps the database's instance id"
    );
    assert!(
        matches!(
            join(&url, &code, "Bo"),
            Err(Error::Refused { status: 403, .. })
        ),
        "the old code was replaced"
    );
    let (bo, bo_j) = join(&url, &new_code, "Bo")?;

    // The admin removes Ana while the server runs: it notices, tells Bo and ends her token.
    let bo_stream = Stream::open(&bo, bo_j.team.id, 0)?;
    bo_stream.until("snapshot", |_| true)?;
    let removed = weft_sync(&["team", "remove-member", "core", "ANA", "--db", db])?;
    assert!(removed.status.success(), "{removed:?}");
    assert!(String::from_utf8(removed.stdout)?.contains("Removed \"Ana\""));
    bo_stream.until(
        "Ana left",
        |e| matches!(e, weft_proto::sync::SyncEvent::Left { id, .. } if *id == ana_j.member_id),
    )?;
    assert!(matches!(
        ana.team(ana_j.team.id),
        Err(Error::Refused { status: 401, .. })
    ));
    let again = weft_sync(&["team", "remove-member", "core", "Ana", "--db", db])?;
    assert_eq!(again.status.code(), Some(1));
    assert!(terminate(&mut second)?.success());
    Ok(())
}

#[test]
fn the_binary_says_what_is_wrong() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("sync.db");
    let db = db.to_str().ok_or("path")?;
    let no_db = weft_sync(&["serve", "--listen", "127.0.0.1:0"])?;
    assert_eq!(no_db.status.code(), Some(2));
    let empty = weft_sync(&["team", "create", " ", "--db", db])?;
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8(empty.stderr)?.contains("must not be empty"));
    assert!(weft_sync(&["team", "create", "Core", "--db", db])?
        .status
        .success());
    let twice = weft_sync(&["team", "create", "core", "--db", db])?;
    assert_eq!(twice.status.code(), Some(1));
    let missing = weft_sync(&["team", "invite", "Nope", "--db", db])?;
    assert_eq!(missing.status.code(), Some(1));

    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        b"this is not a database, but someone's notes".repeat(100),
    )?;
    let before = std::fs::read(&garbage)?;
    let refused = weft_sync(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--db",
        garbage.to_str().ok_or("path")?,
    ])?;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8(refused.stderr)?.contains("is not a SQLite database"));
    assert_eq!(
        std::fs::read(&garbage)?,
        before,
        "the file was left untouched"
    );
    Ok(())
}

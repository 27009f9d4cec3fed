//! The sync server under test: the real `weft-sync` binary on a loopback port, with its
//! database in a folder the test owns, so it can be stopped and started again on the same
//! port and file.

use crate::proc::Proc;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub struct SyncServer {
    proc: Option<Proc>,
    db: PathBuf,
    dir: PathBuf,
    /// `127.0.0.1:PORT`, fixed for the server's life (restarts reuse it).
    pub addr: String,
    args: Vec<String>,
    starts: u32,
}

impl SyncServer {
    /// Starts `weft-sync serve` on a free loopback port with a database in `dir`.
    pub fn start(dir: &Path, extra: &[&str]) -> anyhow::Result<SyncServer> {
        let mut server = SyncServer {
            proc: None,
            db: dir.join("sync.db"),
            dir: dir.to_owned(),
            addr: "127.0.0.1:0".into(),
            args: extra.iter().map(|s| s.to_string()).collect(),
            starts: 0,
        };
        server.launch()?;
        Ok(server)
    }

    /// The URL clients join with.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `weft-sync team create NAME`: returns the invite code (the last line of its output).
    pub fn create_team(&self, name: &str) -> anyhow::Result<String> {
        let output = Command::new(bin())
            .args(["team", "create", name, "--db"])
            .arg(&self.db)
            .stdin(Stdio::null())
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "weft-sync team create failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        stdout
            .lines()
            .last()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .ok_or_else(|| anyhow::anyhow!("team create printed no invite code: {stdout:?}"))
    }

    /// SIGTERM; waits for the server to end.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut proc) = self.proc.take() {
            let status = proc.stop(Duration::from_secs(10));
            anyhow::ensure!(status.is_some(), "weft-sync did not stop on SIGTERM");
        }
        Ok(())
    }

    /// Starts the server again on the same port and database.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop()?;
        self.launch()
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        (0..self.starts)
            .map(|n| {
                std::fs::read_to_string(self.dir.join(format!("weft-sync.{n}.err")))
                    .unwrap_or_default()
            })
            .collect()
    }

    fn launch(&mut self) -> anyhow::Result<()> {
        let n = self.starts;
        self.starts += 1;
        let out = self.dir.join(format!("weft-sync.{n}.out"));
        let err = self.dir.join(format!("weft-sync.{n}.err"));
        let proc = Proc::spawn(
            "weft-sync",
            Command::new(bin())
                .args(["serve", "--listen", &self.addr, "--db"])
                .arg(&self.db)
                .args(&self.args)
                .env("RUST_LOG", "info")
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&out)?)
                .stderr(std::fs::File::create(&err)?),
        )?;
        self.proc = Some(proc);
        let addr = crate::wait_for("weft-sync to listen", Duration::from_secs(30), || {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            text.lines()
                .find_map(|l| l.split("listening on http://").nth(1))
                .map(|a| a.trim().to_owned())
        })
        .map_err(|e| anyhow::anyhow!("{e}\n--- weft-sync log ---\n{}", self.log()))?;
        self.addr = addr;
        Ok(())
    }
}

impl Drop for SyncServer {
    fn drop(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            proc.kill();
        }
    }
}

fn bin() -> PathBuf {
    crate::bin_dir().join("weft-sync")
}

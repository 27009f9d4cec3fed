//! The `weft-sync` process under test: teams created with its CLI, `serve` started on a free
//! loopback port, its memory and CPU read from `/proc`, and a stop by SIGTERM, then SIGKILL.

use anyhow::{bail, Context, Result};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// How long `serve` may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a SIGTERM may take before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Lines of the server's stderr kept for error messages.
const TAIL_LINES: usize = 20;

/// `weft-sync team create NAME --db PATH`: the invite code (the last line it prints).
pub async fn create_team(bin: &Path, db: &Path, name: &str) -> Result<String> {
    let out = Command::new(bin)
        .args(["team", "create", name, "--db"])
        .arg(db)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {} team create", bin.display()))?;
    if !out.status.success() {
        bail!(
            "`weft-sync team create {name}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let invite = stdout.lines().rev().find(|l| !l.trim().is_empty());
    match invite {
        Some(code) => Ok(code.trim().to_string()),
        None => bail!("`weft-sync team create {name}` printed no invite code"),
    }
}

/// A running `weft-sync serve`.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

impl Server {
    pub async fn start(bin: &Path, db: &Path, rate_limit: Option<u32>) -> Result<Self> {
        let mut cmd = Command::new(bin);
        // Every simulated member joins from 127.0.0.1: the per-address join limit would
        // spread 10k joins over half an hour.
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(["--join-rate-limit", "0"]);
        if let Some(limit) = rate_limit {
            cmd.args(["--rate-limit", &limit.to_string()]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(keep_tail(stderr, stderr_tail.clone()));
        }
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr: SocketAddr = rest
                        .trim()
                        .parse()
                        .with_context(|| format!("bad listening line {line:?}"))?;
                    return Ok(addr);
                }
            }
            bail!("the server's stdout closed before it printed its address")
        })
        .await;
        let tail = || tail_text(&stderr_tail);
        let addr = match addr {
            Ok(Ok(addr)) => addr,
            Ok(Err(err)) => bail!("weft-sync serve did not start: {err:#}\n{}", tail()),
            Err(_) => bail!(
                "weft-sync serve printed no address within {START_TIMEOUT:?}\n{}",
                tail()
            ),
        };
        // Keep draining stdout so a chatty server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            pid,
            addr,
            stderr_tail,
        })
    }

    /// Fails when the server has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "the server exited ({status})\n{}",
                tail_text(&self.stderr_tail)
            );
        }
        Ok(())
    }

    pub fn memory(&self) -> Result<Memory> {
        memory(self.pid)
    }

    /// CPU time used so far, in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        cpu_seconds(&format!("/proc/{}/stat", self.pid))
    }

    /// SIGTERM, then SIGKILL after [`STOP_TIMEOUT`].
    pub async fn stop(mut self) -> Result<()> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                crate::out::warn(format_args!(
                    "the server ignored SIGTERM for {STOP_TIMEOUT:?}; killing it"
                ));
                self.child.kill().await?;
            }
        }
        Ok(())
    }
}

/// Resident and proportional set size of a process, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss: u64,
    pub pss: u64,
}

fn memory(pid: u32) -> Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    Ok(Memory {
        rss: kib_field(&status, "VmRSS:").context("no VmRSS in /proc/PID/status")?,
        pss: kib_field(&rollup, "Pss:").context("no Pss in /proc/PID/smaps_rollup")?,
    })
}

fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// utime + stime of `/proc/.../stat`, assuming the usual 100 clock ticks per second.
pub fn cpu_seconds(stat_path: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(stat_path)?;
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64> {
        Ok(fields
            .get(i)
            .with_context(|| format!("short {stat_path}"))?
            .parse()?)
    };
    // Fields 14 and 15 of stat(5); index 0 here is field 3 (state).
    Ok((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

async fn keep_tail(stream: impl AsyncRead + Unpin, tail: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Ok(mut tail) = tail.lock() {
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
}

fn tail_text(tail: &Mutex<VecDeque<String>>) -> String {
    match tail.lock() {
        Ok(tail) if !tail.is_empty() => {
            let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
            format!("server stderr (last lines):\n  {}", lines.join("\n  "))
        }
        _ => "server stderr: (empty)".to_string(),
    }
}

/// The release `weft-sync` next to this executable.
pub fn default_bin() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating weft-sync-load")?;
    let dir = exe
        .parent()
        .context("weft-sync-load has no parent directory")?;
    Ok(dir.join("weft-sync"))
}

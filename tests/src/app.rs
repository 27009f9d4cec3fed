//! The app under test: `weft-app` started on a [`Desktop`], with its log captured to a file.

use crate::desktop::Desktop;
use crate::proc::Proc;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use weft_proto::{Request, Response};

pub struct App {
    proc: Proc,
    log: PathBuf,
    socket: PathBuf,
}

impl App {
    /// Starts `weft-app` from [`crate::bin_dir`] with `args`.
    pub fn start(desktop: &Desktop, args: &[&str]) -> anyhow::Result<App> {
        App::start_with(desktop, &crate::bin_dir().join("weft-app"), args, &[])
    }

    /// Starts `binary` with `args`, and `env` on top of the desktop's environment.
    pub fn start_with(
        desktop: &Desktop,
        binary: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<App> {
        anyhow::ensure!(
            binary.is_file(),
            "{} does not exist: build it first (`make build`)",
            binary.display()
        );
        let log = next_log_path(desktop);
        let file = std::fs::File::create(&log)?;
        let proc = Proc::spawn(
            "weft-app",
            desktop
                .command(binary)
                .args(args)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(file.try_clone()?)
                .stderr(file),
        )?;
        Ok(App {
            proc,
            log,
            socket: desktop.socket(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// Everything the app has printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the app's log contains `text`.
    pub fn wait_for_log(&self, text: &str, timeout: Duration) -> anyhow::Result<()> {
        crate::wait_for(&format!("{text:?} in the app's log"), timeout, || {
            self.log().contains(text).then_some(())
        })
        .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", self.log()))
    }

    /// Waits until the control socket answers.
    pub fn wait_until_serving(&self, timeout: Duration) -> anyhow::Result<()> {
        crate::wait_for("the control socket to answer", timeout, || {
            matches!(self.call(&Request::Status), Ok(Response::Status(_))).then_some(())
        })
        .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", self.log()))
    }

    /// Sends one control request.
    pub fn call(&self, request: &Request) -> anyhow::Result<Response> {
        Ok(weft_core::control::call(&self.socket, request)?)
    }

    /// The exit status, if the app has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.proc.try_status()
    }

    /// SIGTERM, as a session logout would; returns the exit status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        self.proc.stop(Duration::from_secs(10))
    }

    /// `kill -9`: no chance to clean up.
    pub fn kill9(&mut self) {
        self.proc.kill();
    }

    /// The app's process and all its descendants (the WebKit helpers).
    pub fn process_tree(&self) -> Vec<u32> {
        process_tree(self.proc.pid())
    }
}

fn next_log_path(desktop: &Desktop) -> PathBuf {
    (0..)
        .map(|n| desktop.dir().join(format!("weft-app.{n}.log")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| desktop.dir().join("weft-app.log"))
}

/// `pid` and every descendant, from /proc.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
                continue;
            };
            // The command name may hold spaces; the fields after its closing ')' do not.
            let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
                continue;
            };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
                parents.push((child, ppid));
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree
}

/// Proportional set size of one process, in KiB (from `/proc/PID/smaps_rollup`).
pub fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    rollup
        .lines()
        .find(|l| l.starts_with("Pss:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
}

/// The command name of a process.
pub fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

//! Child processes that cannot outlive the test: each runs in its own process group, and the
//! whole group is killed when the guard drops.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A running child process (and its process group).
pub struct Proc {
    name: String,
    child: Child,
}

impl Proc {
    /// Starts `command` in a new process group.
    pub fn spawn(name: &str, command: &mut Command) -> anyhow::Result<Proc> {
        command.process_group(0);
        let child = command
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {name}: {e}"))?;
        Ok(Proc {
            name: name.to_owned(),
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The exit status, if the process has ended.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends `signal` to the whole process group.
    pub fn signal_group(&self, signal: i32) {
        signal_group(self.child.id(), signal);
    }

    /// SIGTERM, then SIGKILL if the process has not ended within `grace`.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.try_status() {
            self.signal_group(libc::SIGKILL);
            return Some(status);
        }
        signal(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.try_status() {
                self.signal_group(libc::SIGKILL);
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("{} did not stop within {grace:?}; killing it", self.name);
        self.kill();
        None
    }

    /// SIGKILL to the whole group, and reap.
    pub fn kill(&mut self) {
        self.signal_group(libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            self.stop(Duration::from_secs(3));
        } else {
            self.signal_group(libc::SIGKILL);
        }
    }
}

#[allow(unsafe_code)]
fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; a stale pid only yields ESRCH.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

#[allow(unsafe_code)]
fn signal_group(pgid: u32, signal: i32) {
    // SAFETY: as above; a negative pid addresses the process group.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), signal);
    }
}

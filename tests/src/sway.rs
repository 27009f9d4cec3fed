//! A headless sway: the Wayland compositor of the harness's Wayland desktop. It draws into
//! memory (wlroots' headless backend, pixman), runs no X server (no Xwayland), and, because
//! sway refuses to run as root, runs as `nobody` when the harness is root, with a runtime
//! folder of its own that root's clients reach through a link in the desktop's runtime folder.

use crate::proc::Proc;
use anyhow::Context;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long sway may take to show its output (it bounds a hang; the machine may be busy).
const READY: Duration = Duration::from_secs(30);

/// One output, the size of the X11 desktop's screen, and no Xwayland: no X server at all.
const CONFIG: &str = "output HEADLESS-1 resolution 1280x800\nxwayland disable\n";

/// A running headless sway.
pub struct Sway {
    proc: Proc,
    /// The Wayland socket's name (`wayland-1`), as `WAYLAND_DISPLAY` gives it.
    socket_name: String,
    /// sway's IPC socket, for `swaymsg -s`.
    ipc: PathBuf,
}

impl Sway {
    /// Starts sway with its runtime folder at `dir/sway` and waits until its output is up.
    /// `runtime` is the desktop's own runtime folder: the Wayland socket is linked there, so
    /// clients use a plain `WAYLAND_DISPLAY=wayland-N`, as in a desktop session.
    pub fn start(dir: &Path, runtime: &Path) -> anyhow::Result<Sway> {
        let user = Unprivileged::find()?;
        let sway_runtime = dir.join("sway");
        std::fs::create_dir_all(&sway_runtime)?;
        std::fs::set_permissions(&sway_runtime, PermissionsExt::from_mode(0o700))?;
        let config = dir.join("sway.conf");
        std::fs::write(&config, CONFIG)?;
        if let Some(user) = &user {
            std::os::unix::fs::chown(&sway_runtime, Some(user.uid), Some(user.gid))?;
            // sway's user must reach its runtime folder and its config inside the test's
            // folder: it may pass through it (not list it).
            std::fs::set_permissions(dir, PermissionsExt::from_mode(0o711))?;
            std::fs::set_permissions(&config, PermissionsExt::from_mode(0o644))?;
        }
        let log = std::fs::File::create(dir.join("sway.log"))?;
        let mut command = Command::new("sway");
        command
            .arg("-c")
            .arg(&config)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &sway_runtime)
            .env("XDG_RUNTIME_DIR", &sway_runtime)
            .env("WLR_BACKENDS", "headless")
            .env("WLR_RENDERER", "pixman")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if let Some(user) = &user {
            // std drops the supplementary groups too when it changes the uid.
            std::os::unix::process::CommandExt::uid(&mut command, user.uid);
            std::os::unix::process::CommandExt::gid(&mut command, user.gid);
        }
        let mut proc = Proc::spawn("sway", &mut command)?;

        let (socket_name, ipc) = crate::wait_for("sway's sockets", READY, || {
            if proc.try_status().is_some() {
                return Some(Err(anyhow::anyhow!(
                    "sway exited at start: see {}",
                    dir.join("sway.log").display()
                )));
            }
            sockets(&sway_runtime).map(Ok)
        })??;
        std::os::unix::fs::symlink(sway_runtime.join(&socket_name), runtime.join(&socket_name))
            .context("cannot link sway's socket into the runtime folder")?;
        let sway = Sway {
            proc,
            socket_name,
            ipc,
        };
        crate::wait_for("sway's output HEADLESS-1", READY, || {
            sway.message(&["-t", "get_outputs"])
                .ok()
                .filter(|outputs| outputs.contains("HEADLESS-1"))
        })?;
        Ok(sway)
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    /// The Wayland socket's name, for `WAYLAND_DISPLAY`.
    pub fn socket_name(&self) -> &str {
        &self.socket_name
    }

    /// Runs `swaymsg` with `args` on this sway and returns what it printed (JSON with `-t`).
    pub fn message(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = Command::new("swaymsg")
            .arg("-s")
            .arg(&self.ipc)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .context("cannot run swaymsg")?;
        anyhow::ensure!(
            output.status.success(),
            "swaymsg {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// A window sway shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The Wayland app id (`None` for an X11 client).
    pub app_id: Option<String>,
    /// `xdg_shell` for a native Wayland window, `xwayland` for an X11 one.
    pub shell: String,
    pub title: String,
}

impl Sway {
    /// Every window sway maps now, from `swaymsg -t get_tree`.
    pub fn windows(&self) -> anyhow::Result<Vec<Window>> {
        let tree: serde_json::Value = serde_json::from_str(&self.message(&["-t", "get_tree"])?)?;
        let mut windows = Vec::new();
        collect(&tree, &mut windows);
        Ok(windows)
    }
}

/// The windows in a `get_tree` node and below it: the nodes that have a `shell`.
fn collect(node: &serde_json::Value, windows: &mut Vec<Window>) {
    if let Some(shell) = node["shell"].as_str() {
        windows.push(Window {
            app_id: node["app_id"].as_str().map(str::to_owned),
            shell: shell.to_owned(),
            title: node["name"].as_str().unwrap_or_default().to_owned(),
        });
    }
    for key in ["nodes", "floating_nodes"] {
        for child in node[key].as_array().into_iter().flatten() {
            collect(child, windows);
        }
    }
}

/// The Wayland socket's name and the IPC socket, once sway has made both.
fn sockets(runtime: &Path) -> Option<(String, PathBuf)> {
    let mut wayland = None;
    let mut ipc = None;
    for entry in std::fs::read_dir(runtime).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("wayland-") && !name.ends_with(".lock") {
            wayland = Some(name);
        } else if name.starts_with("sway-ipc.") && name.ends_with(".sock") {
            ipc = Some(entry.path());
        }
    }
    Some((wayland?, ipc?))
}

/// The user sway runs as when the harness is root.
struct Unprivileged {
    uid: u32,
    gid: u32,
}

impl Unprivileged {
    /// `nobody` from /etc/passwd when this process is root; `None` otherwise (sway then runs as
    /// the harness's own user).
    fn find() -> anyhow::Result<Option<Unprivileged>> {
        if std::fs::metadata("/proc/self")?.uid() != 0 {
            return Ok(None);
        }
        let passwd = std::fs::read_to_string("/etc/passwd")?;
        let line = passwd
            .lines()
            .find(|line| line.starts_with("nobody:"))
            .context("no user `nobody` in /etc/passwd to run sway as (sway refuses root)")?;
        let fields: Vec<&str> = line.split(':').collect();
        let (Some(uid), Some(gid)) = (fields.get(2), fields.get(3)) else {
            anyhow::bail!("cannot read nobody's uid and gid from {line:?}");
        };
        Ok(Some(Unprivileged {
            uid: uid.parse()?,
            gid: gid.parse()?,
        }))
    }
}

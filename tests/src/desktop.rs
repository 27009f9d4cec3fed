//! A private desktop session: a display (Xvfb on a free display, or a headless sway with no X
//! server), a D-Bus session bus without service activation, and XDG directories in a
//! temporary folder.

use crate::proc::Proc;
use crate::sway::Sway;
use anyhow::Context;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A bus with no `<servicedir>`: only what the test starts answers on it.
const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=@DIR@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

/// What draws the desktop.
enum Screen {
    /// Xvfb, and its display (`:N`).
    X11 { xvfb: Proc, display: String },
    /// A headless sway, and no X server.
    Wayland(Sway),
}

pub struct Desktop {
    // Field order is drop order: the bus and the display go before the folder is removed.
    // They are only held, to be killed on drop.
    _dbus: Proc,
    screen: Screen,
    bus_address: String,
    dir: tempfile::TempDir,
}

impl Desktop {
    /// Starts Xvfb and a private session bus. Both are ready when this returns.
    pub fn start() -> anyhow::Result<Desktop> {
        Desktop::start_on(Kind::X11)
    }

    /// Starts a headless sway (no X server, no `DISPLAY`) and a private session bus. Both are
    /// ready when this returns.
    pub fn start_wayland() -> anyhow::Result<Desktop> {
        Desktop::start_on(Kind::Wayland)
    }

    fn start_on(kind: Kind) -> anyhow::Result<Desktop> {
        // WEFT_E2E_KEEP=1 keeps each test's folder (logs, database) for a post-mortem.
        let keep = std::env::var_os("WEFT_E2E_KEEP").is_some();
        let dir = tempfile::Builder::new()
            .prefix("weft-e2e-")
            .disable_cleanup(keep)
            .tempdir()?;
        if keep {
            eprintln!("keeping {}", dir.path().display());
        }
        for sub in ["data", "config", "cache", "home"] {
            std::fs::create_dir_all(dir.path().join(sub))?;
        }
        let runtime = dir.path().join("runtime");
        std::fs::create_dir_all(&runtime)?;
        std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )?;

        let screen = match kind {
            Kind::X11 => start_xvfb()?,
            Kind::Wayland => Screen::Wayland(Sway::start(dir.path(), &runtime)?),
        };

        let bus_dir = dir.path().join("bus");
        std::fs::create_dir_all(&bus_dir)?;
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            BUS_CONFIG.replace("@DIR@", &bus_dir.display().to_string()),
        )?;
        let mut dbus = Proc::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )?;
        let bus_address = read_first_line(&mut dbus, "the D-Bus address")?
            .trim()
            .to_owned();
        Ok(Desktop {
            _dbus: dbus,
            screen,
            bus_address,
            dir,
        })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The X display (`:N`) of an X11 desktop; a Wayland desktop has none, and gives its
    /// `WAYLAND_DISPLAY` (`wayland-N`) instead.
    pub fn display(&self) -> &str {
        match &self.screen {
            Screen::X11 { display, .. } => display,
            Screen::Wayland(sway) => sway.socket_name(),
        }
    }

    /// The process (group) ids of the display server and the bus, for checks that nothing
    /// outlives the desktop.
    pub fn pids(&self) -> Vec<u32> {
        let screen = match &self.screen {
            Screen::X11 { xvfb, .. } => xvfb.pid(),
            Screen::Wayland(sway) => sway.pid(),
        };
        vec![screen, self._dbus.pid()]
    }

    /// The compositor of a Wayland desktop.
    pub fn sway(&self) -> Option<&Sway> {
        match &self.screen {
            Screen::X11 { .. } => None,
            Screen::Wayland(sway) => Some(sway),
        }
    }

    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// The environment every process on this desktop gets.
    pub fn env(&self) -> Vec<(String, String)> {
        let path = |sub: &str| self.dir.path().join(sub).display().to_string();
        let display = match &self.screen {
            Screen::X11 { display, .. } => ("DISPLAY".into(), display.clone()),
            Screen::Wayland(sway) => ("WAYLAND_DISPLAY".into(), sway.socket_name().to_owned()),
        };
        vec![
            display,
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.bus_address.clone()),
            ("HOME".into(), path("home")),
            ("XDG_DATA_HOME".into(), path("data")),
            ("XDG_CONFIG_HOME".into(), path("config")),
            ("XDG_CACHE_HOME".into(), path("cache")),
            ("XDG_RUNTIME_DIR".into(), path("runtime")),
            (
                "RUST_LOG".into(),
                "warn,weft_app=debug,weft_core=debug".into(),
            ),
            ("RUST_BACKTRACE".into(), "1".into()),
            // GSettings in a file under XDG_CONFIG_HOME: no dconf service on the private bus.
            ("GSETTINGS_BACKEND".into(), "keyfile".into()),
        ]
    }

    /// A command for `program` with this desktop's environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.envs(self.env());
        match self.screen {
            Screen::X11 { .. } => {
                command.env_remove("WAYLAND_DISPLAY");
            }
            // Nothing forces X11: no DISPLAY, no GDK_BACKEND.
            Screen::Wayland(_) => {
                command.env_remove("DISPLAY").env_remove("GDK_BACKEND");
            }
        }
        command
    }

    /// Runs the `weft` CLI, fails unless it succeeds, and returns what it printed.
    pub fn weft_ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let output = self.weft(args)?;
        anyhow::ensure!(
            output.status.success(),
            "weft {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Runs the `weft` CLI and returns its output.
    pub fn weft(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let bin = crate::bin_dir().join("weft");
        self.command(&bin)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", bin.display()))
    }

    /// A new connection to the private bus.
    pub fn bus(&self) -> anyhow::Result<zbus::blocking::Connection> {
        Ok(zbus::blocking::connection::Builder::address(self.bus_address.as_str())?.build()?)
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("data/weft/weft.db")
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("config/weft/config.toml")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("runtime/weft/weft.sock")
    }

    /// Writes `config.toml`.
    pub fn write_config(&self, text: &str) -> anyhow::Result<()> {
        let path = self.config_file();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)?;
        Ok(())
    }

    /// Presses keys with xdotool on this display, e.g. `"ctrl+alt+f"`.
    pub fn press(&self, keys: &str) -> anyhow::Result<()> {
        let status = self
            .command("xdotool")
            .args(["key", keys])
            .status()
            .context("cannot run xdotool")?;
        anyhow::ensure!(status.success(), "xdotool key {keys} failed: {status}");
        Ok(())
    }

    /// Saves a screenshot of the whole display (imagemagick's `import`).
    pub fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let status = self
            .command("import")
            .args(["-window", "root"])
            .arg(path)
            .status()
            .context("cannot run import (imagemagick)")?;
        anyhow::ensure!(status.success(), "import failed: {status}");
        Ok(())
    }

    /// Starts a real dunst on this desktop and waits until it answers `dunstctl`.
    pub fn start_dunst(&self) -> anyhow::Result<Proc> {
        let log = std::fs::File::create(self.dir().join("dunst.log"))?;
        let dunst = Proc::spawn(
            "dunst",
            self.command("dunst")
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log),
        )?;
        crate::wait_for("dunst to answer", Duration::from_secs(20), || {
            self.dunst_paused().ok()
        })?;
        Ok(dunst)
    }

    /// `dunstctl is-paused`.
    pub fn dunst_paused(&self) -> anyhow::Result<bool> {
        let output = self.command("dunstctl").arg("is-paused").output()?;
        anyhow::ensure!(output.status.success(), "dunstctl is-paused failed");
        Ok(String::from_utf8_lossy(&output.stdout).trim() == "true")
    }

    /// `dunstctl count displayed|waiting|history`.
    pub fn dunst_count(&self, which: &str) -> anyhow::Result<u32> {
        let output = self.command("dunstctl").args(["count", which]).output()?;
        anyhow::ensure!(output.status.success(), "dunstctl count failed");
        Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
    }

    /// `dunstctl history`: the notifications dunst closed or that expired, newest first, as
    /// `(appname, summary, body)`.
    pub fn dunst_history(&self) -> anyhow::Result<Vec<(String, String, String)>> {
        let output = self.command("dunstctl").arg("history").output()?;
        anyhow::ensure!(output.status.success(), "dunstctl history failed");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let field = |n: &serde_json::Value, name: &str| {
            n[name]["data"].as_str().unwrap_or_default().to_owned()
        };
        Ok(json["data"][0]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|n| (field(n, "appname"), field(n, "summary"), field(n, "body")))
            .collect())
    }

    /// `dunstctl close-all`: what is on screen goes to the history.
    pub fn dunst_close_all(&self) -> anyhow::Result<()> {
        let status = self.command("dunstctl").arg("close-all").status()?;
        anyhow::ensure!(status.success(), "dunstctl close-all failed");
        Ok(())
    }

    /// `dunstctl set-paused true|false`.
    pub fn set_dunst_paused(&self, paused: bool) -> anyhow::Result<()> {
        let status = self
            .command("dunstctl")
            .args(["set-paused", if paused { "true" } else { "false" }])
            .status()?;
        anyhow::ensure!(status.success(), "dunstctl set-paused failed");
        Ok(())
    }

    /// `gsettings get|set org.gnome.desktop.notifications show-banners`.
    pub fn show_banners(&self, set: Option<bool>) -> anyhow::Result<bool> {
        let schema = ["org.gnome.desktop.notifications", "show-banners"];
        if let Some(value) = set {
            let status = self
                .command("gsettings")
                .arg("set")
                .args(schema)
                .arg(if value { "true" } else { "false" })
                .status()?;
            anyhow::ensure!(status.success(), "gsettings set failed");
        }
        let output = self.command("gsettings").arg("get").args(schema).output()?;
        anyhow::ensure!(output.status.success(), "gsettings get failed");
        Ok(String::from_utf8_lossy(&output.stdout).trim() == "true")
    }
}

/// Which display server a desktop runs.
#[derive(Clone, Copy)]
enum Kind {
    X11,
    Wayland,
}

/// Starts Xvfb on a free display; it accepts clients when this returns.
fn start_xvfb() -> anyhow::Result<Screen> {
    // -displayfd: Xvfb picks a free display and writes its number once it accepts clients.
    let mut xvfb = Proc::spawn(
        "Xvfb",
        Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )?;
    let display = read_first_line(&mut xvfb, "Xvfb's display number")?;
    let display = format!(":{}", display.trim());
    Ok(Screen::X11 { xvfb, display })
}

/// Reads the first line a process prints, with a deadline, leaving the process running.
fn read_first_line(proc: &mut Proc, what: &str) -> anyhow::Result<String> {
    let stdout = proc
        .child_mut()
        .stdout
        .take()
        .with_context(|| format!("no stdout to read {what} from"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        let _ = tx.send(reader.read_line(&mut line).map(|_| line));
        // Keep the pipe open (and drained) for the life of the process.
        let mut sink = String::new();
        while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
            sink.clear();
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .with_context(|| format!("timed out waiting for {what}"))??;
    anyhow::ensure!(!line.trim().is_empty(), "no {what} was printed");
    Ok(line)
}

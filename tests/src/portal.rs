//! The real `xdg-desktop-portal` frontend (Debian 12's 1.16) on a desktop's private bus, as a
//! desktop session runs it, with the harness's own backend behind it. The frontend finds its
//! backends through `.portal` files in `XDG_DESKTOP_PORTAL_DIR`, a folder of the test's own
//! (it replaces the system's), so it offers `org.freedesktop.portal.GlobalShortcuts` only when
//! the test asks for it: a portal without it is the sway or older-GNOME case.

use crate::proc::Proc;
use crate::shortcuts::{self, ShortcutsBackend};
use crate::Desktop;
use anyhow::Context;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// Where Debian installs the frontend (it is not on PATH).
pub const FRONTEND: &str = "/usr/libexec/xdg-desktop-portal";
/// The frontend's bus name and object path.
pub const BUS_NAME: &str = "org.freedesktop.portal.Desktop";
pub const PATH: &str = "/org/freedesktop/portal/desktop";
/// The frontend's interface that apps bind shortcuts with.
pub const GLOBAL_SHORTCUTS: &str = "org.freedesktop.portal.GlobalShortcuts";

/// `XDG_CURRENT_DESKTOP` for the frontend, and the `UseIn` of the harness's `.portal` file.
const DESKTOP_NAME: &str = "weft-e2e";

/// How long the frontend may take to serve (it bounds a hang; the machine may be busy).
const READY: Duration = Duration::from_secs(30);

/// Which portals the desktop offers beside those the frontend serves alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// `GlobalShortcuts`, served by the harness's [`ShortcutsBackend`].
    GlobalShortcuts,
    /// No backend at all: the frontend has no `GlobalShortcuts`.
    Nothing,
}

/// The frontend and the backend behind it. Fields drop in order: the frontend stops before
/// its backend goes.
pub struct Portal {
    /// `None` while a test has stopped it (a desktop restarting).
    frontend: Option<Proc>,
    shortcuts: Option<ShortcutsBackend>,
    offer: Offer,
    portals: PathBuf,
    log: PathBuf,
}

impl Portal {
    /// Starts the backend `offer` names, then the frontend, and waits until the frontend
    /// serves (with `GlobalShortcuts` when offered).
    pub fn start(desktop: &Desktop, offer: Offer) -> anyhow::Result<Portal> {
        let portals = desktop.dir().join("portals");
        std::fs::create_dir_all(&portals)?;
        // The backend owns its name before the frontend looks for it: the private bus starts
        // nothing on demand.
        let shortcuts = match offer {
            Offer::GlobalShortcuts => {
                std::fs::write(
                    portals.join("weft-e2e.portal"),
                    format!(
                        "[portal]\nDBusName={}\nInterfaces=org.freedesktop.impl.portal.GlobalShortcuts;\nUseIn={DESKTOP_NAME}\n",
                        shortcuts::BUS_NAME
                    ),
                )?;
                Some(ShortcutsBackend::start(desktop.bus_address())?)
            }
            Offer::Nothing => None,
        };
        let mut portal = Portal {
            frontend: None,
            shortcuts,
            offer,
            portals,
            log: desktop.dir().join("xdg-desktop-portal.log"),
        };
        portal.start_frontend(desktop)?;
        Ok(portal)
    }

    /// Stops the frontend (its backend stays, its sessions are closed), and waits until its
    /// name has left the bus.
    pub fn stop_frontend(&mut self, desktop: &Desktop) -> anyhow::Result<()> {
        if let Some(mut frontend) = self.frontend.take() {
            frontend.stop(Duration::from_secs(10));
        }
        // Its sessions went with it.
        if let Some(shortcuts) = &self.shortcuts {
            shortcuts.close_all();
        }
        let bus = desktop.bus()?;
        let dbus = zbus::blocking::fdo::DBusProxy::new(&bus)?;
        crate::wait_for("the portal frontend to leave the bus", READY, || {
            let name = zbus::names::BusName::try_from(BUS_NAME).ok()?;
            (!dbus.name_has_owner(name).ok()?).then_some(())
        })
    }

    /// Starts the frontend (again, after [`Portal::stop_frontend`]) and waits until it serves.
    pub fn start_frontend(&mut self, desktop: &Desktop) -> anyhow::Result<()> {
        anyhow::ensure!(self.frontend.is_none(), "the frontend is running");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut frontend = Proc::spawn(
            "xdg-desktop-portal",
            desktop
                .command(FRONTEND)
                .args(["--replace", "--verbose"])
                .env("XDG_DESKTOP_PORTAL_DIR", &self.portals)
                .env("XDG_CURRENT_DESKTOP", DESKTOP_NAME)
                .stdin(Stdio::null())
                .stdout(file.try_clone()?)
                .stderr(file),
        )?;
        let bus = desktop.bus()?;
        let dbus = zbus::blocking::fdo::DBusProxy::new(&bus)?;
        let ready = crate::wait_for("the portal frontend to serve", READY, || {
            if frontend.try_status().is_some() {
                return Some(Err(anyhow::anyhow!("xdg-desktop-portal exited at start")));
            }
            let name = zbus::names::BusName::try_from(BUS_NAME).ok()?;
            dbus.name_has_owner(name).ok()?.then_some(Ok(()))
        });
        self.frontend = Some(frontend);
        ready
            .and_then(|started| started)
            .map_err(|e| anyhow::anyhow!("{e}\n--- portal log ---\n{}", self.log()))?;
        if self.offer == Offer::GlobalShortcuts {
            self.shortcuts_version(desktop).with_context(|| {
                format!("the portal offers no GlobalShortcuts:\n{}", self.log())
            })?;
        }
        Ok(())
    }

    /// The backend, when the portal offers GlobalShortcuts.
    pub fn shortcuts(&self) -> anyhow::Result<&ShortcutsBackend> {
        self.shortcuts
            .as_ref()
            .context("this portal was started without GlobalShortcuts")
    }

    /// The `version` of the frontend's `org.freedesktop.portal.GlobalShortcuts`: an error when
    /// the frontend does not offer it.
    pub fn shortcuts_version(&self, desktop: &Desktop) -> anyhow::Result<u32> {
        let bus = desktop.bus()?;
        let proxy = zbus::blocking::Proxy::new(&bus, BUS_NAME, PATH, GLOBAL_SHORTCUTS)?;
        Ok(proxy.get_property::<u32>("version")?)
    }

    /// The frontend's process id (0 while it is stopped).
    pub fn pid(&self) -> u32 {
        self.frontend.as_ref().map(Proc::pid).unwrap_or(0)
    }

    /// What the frontend has logged (`--verbose`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

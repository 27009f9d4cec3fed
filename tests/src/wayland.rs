//! The Wayland variant of the desktop most end-to-end tests start Weft on: a headless sway
//! with no X server (no `DISPLAY`), the same private bus, tray watcher and notification capture
//! server as the X11 [`Panel`], and the real xdg-desktop-portal frontend on that bus with the
//! harness's own backend behind it.

use crate::panel::Panel;
use crate::portal::{Offer, Portal};
use crate::Desktop;
use std::process::Command;
use std::time::Duration;

/// How long the processes of a desktop may take to go once it is dropped.
const GONE: Duration = Duration::from_secs(20);

/// The desktop and what runs on it. Fields drop in order: the portal before the panel, whose
/// desktop (its bus and sway) goes last.
pub struct WaylandPanel {
    pub portal: Portal,
    pub panel: Panel,
}

impl WaylandPanel {
    /// Starts sway, the bus, the panel and the portal, offering `offer`.
    pub fn start(offer: Offer) -> anyhow::Result<WaylandPanel> {
        let panel = Panel::on(Desktop::start_wayland()?)?;
        let portal = Portal::start(&panel.desktop, offer)?;
        Ok(WaylandPanel { portal, panel })
    }

    pub fn desktop(&self) -> &Desktop {
        &self.panel.desktop
    }

    /// The process groups this desktop started (sway, the bus, the portal frontend): each
    /// process the harness starts leads a group of its own.
    pub fn process_groups(&self) -> Vec<u32> {
        let mut groups = self.panel.desktop.pids();
        if self.portal.pid() != 0 {
            groups.push(self.portal.pid());
        }
        groups
    }
}

/// Waits until `pgrep` finds no process in any of `groups` (a process and what it started).
pub fn wait_until_gone(groups: &[u32]) -> anyhow::Result<()> {
    crate::wait_for("the desktop's processes to end", GONE, || {
        groups
            .iter()
            .all(|group| pgrep_group(*group).is_some_and(|pids| pids.is_empty()))
            .then_some(())
    })
}

/// The processes `pgrep -g group` finds; `None` when pgrep cannot run.
pub fn pgrep_group(group: u32) -> Option<Vec<u32>> {
    let output = Command::new("pgrep")
        .args(["-g", &group.to_string()])
        .output()
        .ok()?;
    // 1: nothing matched.
    if !output.status.success() && output.status.code() != Some(1) {
        return None;
    }
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect(),
    )
}

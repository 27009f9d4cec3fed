//! A private desktop with a panel (a StatusNotifierWatcher, so Weft's tray icon registers) and
//! a notification capture server: the desktop most end-to-end tests start Weft on.

use crate::notifications::NotificationCapture;
use crate::tray::TrayItem;
use crate::watcher::{Item, Watcher};
use crate::{wait_for, App, Desktop};
use std::time::Duration;

/// How long a tray icon may take to register (it bounds a hang; the machine may be busy).
const REGISTER: Duration = Duration::from_secs(60);

/// The desktop and what runs on it. Fields drop in order, the desktop (its bus and display)
/// last.
pub struct Panel {
    pub notifications: NotificationCapture,
    pub watcher: Watcher,
    pub bus: zbus::blocking::Connection,
    pub desktop: Desktop,
}

impl Panel {
    /// An X11 desktop (Xvfb) with a panel.
    pub fn start() -> anyhow::Result<Panel> {
        Panel::on(Desktop::start()?)
    }

    /// `desktop` with a panel.
    pub fn on(desktop: Desktop) -> anyhow::Result<Panel> {
        Ok(Panel {
            notifications: NotificationCapture::start(desktop.bus_address())?,
            watcher: Watcher::start(desktop.bus_address())?,
            bus: desktop.bus()?,
            desktop,
        })
    }

    /// The tray item `app` registered with the panel (its latest).
    pub fn tray_item(&self, app: &App) -> anyhow::Result<Item> {
        wait_for("the tray item to register", REGISTER, || {
            self.watcher.items().last().cloned()
        })
        .map_err(|e| anyhow::anyhow!("{e}\n--- app log ---\n{}", app.log()))
    }

    /// `app`'s tray icon and menu, read over the bus.
    pub fn tray(&self, app: &App) -> anyhow::Result<TrayItem<'_>> {
        Ok(TrayItem::new(&self.bus, self.tray_item(app)?))
    }
}

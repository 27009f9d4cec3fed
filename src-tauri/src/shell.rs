//! The tray process's side of the dispatcher's [`Shell`]: after a committed switch it re-renders
//! the tray on the UI thread. From another thread that is a post (never a wait); on the UI
//! thread itself (a tray click) Tauri runs it at once, still inside the dispatcher's lock, so
//! rendering must never call back into the dispatcher. Windows live in the window process,
//! which follows switches over the control socket.

use crate::quiet::Quiet;
use crate::tray;
use crate::window_process::WindowProcess;
use std::sync::mpsc::Sender;
use tauri::{AppHandle, Manager};
use weft_core::service::{Shell, ShellError};
use weft_proto::{Status, TeamInfo};

/// The event the window receives after every switch, with the new [`Status`].
pub const STATUS_EVENT: &str = "weft://status";

/// The event the window receives when the team changes, with the new [`TeamInfo`].
pub const TEAM_EVENT: &str = "weft://team";

pub struct AppShell {
    app: AppHandle,
    ticker: Sender<()>,
    deliveries: Sender<()>,
}

impl AppShell {
    pub fn new(app: AppHandle, ticker: Sender<()>, deliveries: Sender<()>) -> AppShell {
        AppShell {
            app,
            ticker,
            deliveries,
        }
    }
}

impl Shell for AppShell {
    fn state_changed(&self, status: &Status) {
        if let Some(quiet) = self.app.try_state::<Quiet>() {
            quiet.follow(status);
        }
        let status = status.clone();
        let app = self.app.clone();
        let posted = self.app.run_on_main_thread(move || {
            if let Some(tray) = app.try_state::<tray::Tray>() {
                if let Err(e) = tray.render(&status) {
                    log::error!("could not update the tray: {e}");
                }
            }
        });
        if let Err(e) = posted {
            log::error!("the app's UI thread is not available: {e}");
        }
        let _ = self.ticker.send(());
    }

    fn open_window(&self) -> Result<(), ShellError> {
        self.app.state::<WindowProcess>().open()
    }

    fn close_window(&self) -> Result<(), ShellError> {
        self.app.state::<WindowProcess>().close();
        Ok(())
    }

    fn change_hotkey(&self) -> Result<(), ShellError> {
        match self.app.try_state::<crate::hotkey::HowToChange>() {
            Some(how) => how.change().map_err(ShellError::HotkeyNotChangeable),
            None => Err(ShellError::HotkeyNotChangeable(
                "There is no hotkey (`hotkey = \"off\"` in config.toml, or it could not be set up: the tray menu says why). Switch from the tray or with `weft toggle`.".into(),
            )),
        }
    }

    fn team_changed(&self, info: &TeamInfo) {
        let lines = tray::team_lines(info);
        let app = self.app.clone();
        let posted = self
            .app
            .run_on_main_thread(move || tray::show_team(&app, lines));
        if let Err(e) = posted {
            log::error!("the app's UI thread is not available: {e}");
        }
    }

    fn popups_owed(&self) {
        // Through the quiet worker, so a popup waits for a restore that was asked for first
        // (the coordination digest must not land on a still-silenced desktop).
        match self.app.try_state::<Quiet>() {
            Some(quiet) => quiet.popups_owed(),
            None => {
                let _ = self.deliveries.send(());
            }
        }
    }
}

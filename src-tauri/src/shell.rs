//! The tray process's side of the dispatcher's [`Shell`]: after a committed switch it re-renders
//! the tray by posting to the UI thread (never waiting on it); windows live in the window
//! process, which follows switches over the control socket.

use crate::tray;
use crate::window_process::WindowProcess;
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use tauri::{AppHandle, Manager};
use weft_core::service::Shell;
use weft_proto::Status;

/// The event the window receives after every switch, with the new [`Status`].
pub const STATUS_EVENT: &str = "weft://status";

pub struct AppShell {
    app: AppHandle,
    ticker: Mutex<Sender<()>>,
}

impl AppShell {
    pub fn new(app: AppHandle, ticker: Sender<()>) -> AppShell {
        AppShell {
            app,
            ticker: Mutex::new(ticker),
        }
    }
}

impl Shell for AppShell {
    fn state_changed(&self, status: &Status) {
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
        let _ = self
            .ticker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(());
    }

    fn open_window(&self) -> Result<(), String> {
        self.app.state::<WindowProcess>().open()
    }

    fn close_window(&self) -> Result<(), String> {
        self.app.state::<WindowProcess>().close();
        Ok(())
    }
}

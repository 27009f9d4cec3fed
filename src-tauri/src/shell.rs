//! The app side of the dispatcher's [`Shell`]: after a committed switch it re-renders the tray
//! and tells open windows, always by posting to the UI thread, never by waiting on it.

use crate::{tray, window};
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use tauri::{AppHandle, Emitter, Manager};
use weft_core::service::Shell;
use weft_proto::Status;

/// The event open windows receive after every switch, with the new [`Status`].
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

    fn on_ui_thread(
        &self,
        task: impl FnOnce(&AppHandle) -> tauri::Result<()> + Send + 'static,
    ) -> Result<(), String> {
        let app = self.app.clone();
        self.app
            .run_on_main_thread(move || {
                if let Err(e) = task(&app) {
                    log::error!("{e}");
                }
            })
            .map_err(|e| format!("the app's UI thread is not available: {e}"))
    }
}

impl Shell for AppShell {
    fn state_changed(&self, status: &Status) {
        let status = status.clone();
        let posted = self.on_ui_thread(move |app| {
            if let Some(tray) = app.try_state::<tray::Tray>() {
                tray.render(&status)?;
            }
            app.emit(STATUS_EVENT, &status)
        });
        if let Err(e) = posted {
            log::error!("{e}");
        }
        let _ = self
            .ticker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(());
    }

    fn open_window(&self) -> Result<(), String> {
        self.on_ui_thread(window::open)
    }

    fn close_window(&self) -> Result<(), String> {
        self.on_ui_thread(|app| {
            window::close_all(app);
            Ok(())
        })
    }
}

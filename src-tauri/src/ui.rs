//! The window process, `weft-app --window`: one Weft window and nothing else. It follows the
//! tray process over the control socket (status events, raise, close) and hands the UI's
//! requests to the same dispatcher through [`crate::commands::control`]. It exits when its
//! window closes or when the tray process goes away.

use crate::commands::Socket;
use crate::shell::{STATUS_EVENT, TEAM_EVENT};
use crate::{commands, window};
use anyhow::Context;
use tauri::{AppHandle, Emitter};
use weft_core::control;
use weft_core::paths::Paths;
use weft_proto::{Event, View};

pub fn run(view: Option<View>) -> anyhow::Result<()> {
    crate::display::ensure_available()?;
    let paths = Paths::from_env()?;
    let socket = paths.socket();
    // Fails at once, with the "Weft is not running" sentence, when there is no tray process.
    let events = control::watch(&socket)?;
    let app = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::control])
        .manage(Socket(socket))
        .setup(move |app| {
            window::open(app.handle(), view)?;
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("weft-window-events".into())
                .spawn(move || follow(&handle, events))?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("cannot start the window (is an X display available? is DISPLAY set?)")?;
    // With its last window closed, the process exits (no prevent_exit here).
    app.run(|_, _| {});
    Ok(())
}

fn follow(app: &AppHandle, events: impl Iterator<Item = weft_core::Result<Event>>) {
    for event in events {
        match event {
            Ok(Event::Status(status)) => {
                if let Err(e) = app.emit(STATUS_EVENT, &status) {
                    log::warn!("could not update the window: {e}");
                }
            }
            Ok(Event::Team(info)) => {
                if let Err(e) = app.emit(TEAM_EVENT, &info) {
                    log::warn!("could not update the window: {e}");
                }
            }
            Ok(event @ (Event::Raise | Event::Show(_))) => {
                let view = match event {
                    Event::Show(view) => Some(view),
                    _ => None,
                };
                let handle = app.clone();
                let _ = app.run_on_main_thread(move || {
                    if let Err(e) = window::open(&handle, view) {
                        log::warn!("could not raise the window: {e}");
                    }
                });
            }
            Ok(Event::Close) => break,
            Err(e) => {
                log::warn!("lost the Weft app: {e}");
                break;
            }
        }
    }
    app.exit(0);
}

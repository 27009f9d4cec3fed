//! The global hotkey (default Ctrl+Alt+F) toggles the state. config.toml sets it, and
//! `hotkey = "off"` registers none. A combination that cannot be grabbed becomes a notice.
//!
//! The listener is platform code with one signature: on Linux it is Weft's own X11 grab
//! ([`x11`]), which waits on the X connection so a press reaches the dispatcher at once; other
//! platforms use tauri-plugin-global-shortcut ([`portable`]).

#[cfg(not(target_os = "linux"))]
mod portable;
#[cfg(target_os = "linux")]
mod x11;

#[cfg(not(target_os = "linux"))]
use portable as platform;
#[cfg(target_os = "linux")]
use x11 as platform;

use std::sync::Arc;
use tauri::AppHandle;
use weft_core::config::Hotkey;
use weft_core::service::Weft;
use weft_proto::{Source, Target};

/// Registers the configured hotkey. Returns a notice when it could not be registered.
pub fn register(app: &AppHandle, setting: &Hotkey, weft: Arc<Weft>) -> Option<String> {
    let combo = match setting {
        Hotkey::Off => {
            log::info!("global hotkey is off (config)");
            return None;
        }
        Hotkey::Keys(combo) => *combo,
    };
    let on_press = Box::new(move || {
        if let Err(e) = weft.switch(Target::Toggle, Source::Hotkey, None) {
            log::error!("hotkey switch failed: {e}");
        }
    });
    match platform::listen(app, &combo, on_press) {
        Ok(()) => {
            log::info!("global hotkey \"{combo}\" registered");
            None
        }
        Err(reason) => Some(format!(
            "The hotkey {combo} could not be registered ({reason}). Switch from the tray or with `weft toggle`, or set another hotkey in config.toml."
        )),
    }
}

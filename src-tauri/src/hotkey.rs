//! The global hotkey (default Ctrl+Alt+F) toggles the state. Configured in config.toml;
//! `hotkey = "off"` registers none. A combination that cannot be used falls back to the default
//! and becomes a notice.

use std::str::FromStr;
use std::sync::Arc;
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Wry};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};
use weft_core::config::{Hotkey, DEFAULT_HOTKEY};
use weft_core::service::Weft;
use weft_proto::{Source, Target};

/// The plugin whose handler toggles the state on every press of the registered hotkey.
pub fn plugin(weft: Arc<Weft>) -> TauriPlugin<Wry> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(move |_app, _shortcut, event| {
            if event.state() == ShortcutState::Pressed {
                if let Err(e) = weft.switch(Target::Toggle, Source::Hotkey, None) {
                    log::error!("hotkey switch failed: {e}");
                }
            }
        })
        .build()
}

/// Registers the configured hotkey. Returns a notice when the configured one could not be
/// used (the default is then registered instead, if possible).
pub fn register(app: &AppHandle, setting: &Hotkey) -> Option<String> {
    let keys = match setting {
        Hotkey::Off => {
            log::info!("global hotkey is off (config)");
            return None;
        }
        Hotkey::Keys(keys) => keys.as_str(),
    };
    let mut notice = None;
    let shortcut = match Shortcut::from_str(keys) {
        Ok(shortcut) => shortcut,
        Err(e) => {
            notice = Some(format!(
                "The hotkey \"{keys}\" in config.toml is not a key combination ({e}); using {DEFAULT_HOTKEY}."
            ));
            match Shortcut::from_str(DEFAULT_HOTKEY) {
                Ok(shortcut) => shortcut,
                Err(e) => return Some(format!("The default hotkey cannot be parsed: {e}")),
            }
        }
    };
    match app.global_shortcut().register(shortcut) {
        Ok(()) => {
            let shown = if notice.is_some() { DEFAULT_HOTKEY } else { keys };
            log::info!("global hotkey \"{shown}\" registered ({shortcut})");
            notice
        }
        Err(e) => Some(format!(
            "The hotkey {shortcut} could not be registered ({e}); another program may own it. Switch from the tray or the CLI, or set another hotkey in config.toml."
        )),
    }
}

//! The global hotkey on platforms other than Linux, through tauri-plugin-global-shortcut.

use std::str::FromStr;
use tauri::AppHandle;
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};
use weft_core::hotkey::Combo;

/// Registers `combo` and calls `on_press` on each press. The plugin reports no later problems,
/// so `_on_problem` is never called.
pub fn listen(
    app: &AppHandle,
    combo: &Combo,
    on_press: Box<dyn Fn() + Send>,
    _on_problem: Box<dyn Fn(Option<String>) + Send>,
) -> Result<(), String> {
    let shortcut = Shortcut::from_str(&combo.to_string()).map_err(|e| e.to_string())?;
    let on_press = std::sync::Mutex::new(on_press);
    app.plugin(tauri_plugin_global_shortcut::Builder::new().build())
        .map_err(|e| e.to_string())?;
    app.global_shortcut()
        .on_shortcut(shortcut, move |_app, _shortcut, event| {
            if event.state() == ShortcutState::Pressed {
                if let Ok(on_press) = on_press.lock() {
                    on_press();
                }
            }
        })
        .map_err(|e| e.to_string())
}

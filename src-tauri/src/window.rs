//! The Weft window inside the window process: created once, raised when asked again.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};
use weft_proto::View;

pub const MAIN: &str = "main";

/// Opens the window, or raises it if it is open already; `view` picks what it shows.
pub fn open(app: &AppHandle, view: Option<View>) -> tauri::Result<()> {
    if let Some(window) = app.get_webview_window(MAIN) {
        if let Some(view) = view {
            window.eval(format!("location.hash = '#{}'", view.as_str()))?;
        }
        window.unminimize()?;
        window.show()?;
        return window.set_focus();
    }
    let page = match view {
        Some(view) => format!("index.html#{}", view.as_str()),
        None => "index.html".into(),
    };
    WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App(page.into()))
        .title("Weft")
        .inner_size(400.0, 600.0)
        .min_inner_size(320.0, 380.0)
        .build()?;
    Ok(())
}

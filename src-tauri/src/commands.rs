//! The UI's single Tauri command: it hands a [`Request`] over the control socket to the tray
//! process's dispatcher, the same one the `weft` CLI and the tests reach.

use std::path::PathBuf;
use weft_core::dispatch::error_response;
use weft_proto::{Request, Response};

/// The control socket of the tray process.
pub struct Socket(pub PathBuf);

/// Dispatches one control request from the UI. Async, and the socket call runs on a blocking
/// thread, so the UI thread never waits.
#[tauri::command]
pub async fn control(request: Request, socket: tauri::State<'_, Socket>) -> Result<Response, ()> {
    let socket = socket.0.clone();
    let answer = tauri::async_runtime::spawn_blocking(move || {
        weft_core::control::call(&socket, &request).unwrap_or_else(|e| error_response(&e))
    })
    .await;
    Ok(answer.unwrap_or_else(|e| {
        Response::error(
            weft_proto::ErrorKind::Unavailable,
            format!("the request failed: {e}"),
        )
    }))
}

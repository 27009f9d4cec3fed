//! The UI's single Tauri command: it hands a [`Request`] to the same dispatcher the control
//! socket uses, so the UI could move to its own process without its code changing.

use std::sync::Arc;
use weft_core::service::Weft;
use weft_proto::{Request, Response};

/// Dispatches one control request from the UI. Async so that it runs off the UI thread.
#[tauri::command]
pub async fn control(request: Request, weft: tauri::State<'_, Arc<Weft>>) -> Result<Response, ()> {
    Ok(weft.dispatch(request))
}

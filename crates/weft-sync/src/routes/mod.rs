//! The `/v1` routes, one small module per resource, and the JSON answers for unknown routes
//! and wrong methods.

mod events;
mod health;
mod join;
mod members;
mod pings;
mod status;
mod team;

use crate::error::{AppError, Error};
use crate::hub::Hub;
use axum::extract::rejection::PathRejection;
use axum::http::{Method, Uri};
use axum::routing::{delete, get, post, put};
use axum::Router;
use std::sync::Arc;

/// The whole API.
pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/v1/health", get(health::health))
        .route("/v1/join", post(join::join))
        .route("/v1/teams/{team}", get(team::team))
        .route("/v1/teams/{team}/members/{member}", delete(members::leave))
        .route(
            "/v1/teams/{team}/members/{member}/status",
            put(status::put_status),
        )
        .route("/v1/teams/{team}/pings", post(pings::ping))
        .route("/v1/teams/{team}/events", get(events::events))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(hub)
}

async fn not_found(uri: Uri) -> AppError {
    Error::NotFound(format!("there is no {} here", uri.path())).into()
}

async fn method_not_allowed(method: Method, uri: Uri) -> AppError {
    Error::MethodNotAllowed(format!("{} is not allowed on {}", method, uri.path())).into()
}

/// A path that could not be decoded.
fn bad_path(rejection: PathRejection) -> AppError {
    Error::BadRequest(format!("the path could not be read: {rejection}")).into()
}

/// Runs store work on a blocking thread.
async fn blocking<T: Send + 'static>(
    hub: &Arc<Hub>,
    work: impl FnOnce(&Hub) -> Result<T, Error> + Send + 'static,
) -> Result<T, AppError> {
    let hub = Arc::clone(hub);
    tokio::task::spawn_blocking(move || work(&hub))
        .await
        .map_err(|e| AppError(Error::Internal(format!("a blocking task failed: {e}"))))?
        .map_err(AppError)
}

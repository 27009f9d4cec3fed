//! `POST /v1/teams/{team}/pings`: a message to a teammate, with the forecast of where it lands.

use super::{bad_path, blocking};
use crate::error::AppError;
use crate::extract::{own_team, JsonBody};
use crate::hub::{Caller, Hub};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use std::sync::Arc;
use weft_proto::sync::{PingRequest, PingSent};

pub async fn ping(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    JsonBody(request): JsonBody<PingRequest>,
) -> Result<(StatusCode, Json<PingSent>), AppError> {
    let Path(team) = path.map_err(bad_path)?;
    own_team(caller, &team)?;
    let sent = blocking(&hub, move |hub| hub.ping(caller, &request)).await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

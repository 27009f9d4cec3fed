//! `POST /v1/join`: an invite code and a name for a member token.

use super::blocking;
use crate::error::AppError;
use crate::extract::JsonBody;
use crate::hub::Hub;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use std::sync::Arc;
use weft_proto::sync::{JoinRequest, Joined};

pub async fn join(
    State(hub): State<Arc<Hub>>,
    JsonBody(request): JsonBody<JoinRequest>,
) -> Result<(StatusCode, Json<Joined>), AppError> {
    let joined = blocking(&hub, move |hub| hub.join(&request.invite, &request.name)).await?;
    log::info!("{} joined team {}", joined.member_id, joined.team.id);
    Ok((StatusCode::CREATED, Json(joined)))
}

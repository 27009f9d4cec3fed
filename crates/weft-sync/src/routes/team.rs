//! `GET /v1/teams/{team}`: the caller's team, from memory.

use super::bad_path;
use crate::error::AppError;
use crate::extract::own_team;
use crate::hub::{Caller, Hub};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use std::sync::Arc;
use weft_proto::sync::TeamView;

pub async fn team(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<TeamView>, AppError> {
    let Path(team) = path.map_err(bad_path)?;
    own_team(caller, &team)?;
    Ok(Json(hub.team_view(caller)?))
}

//! `DELETE /v1/teams/{team}/members/{member}`: a member leaves its team.

use super::{bad_path, blocking};
use crate::error::{AppError, Error};
use crate::extract::own_team;
use crate::hub::{Caller, Hub};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use std::sync::Arc;

pub async fn leave(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let Path((team, member)) = path.map_err(bad_path)?;
    own_team(caller, &team)?;
    if member.parse::<i64>().ok() != Some(caller.member) {
        return Err(Error::Forbidden(
            "a member may only remove itself; an admin removes others with \
             `weft-sync team remove-member`"
                .into(),
        )
        .into());
    }
    blocking(&hub, move |hub| hub.remove_member(caller.member)).await?;
    log::info!("{} left team {}", caller.member, caller.team);
    Ok(StatusCode::NO_CONTENT)
}

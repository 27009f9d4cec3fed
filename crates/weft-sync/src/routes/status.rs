//! `PUT /v1/teams/{team}/members/{member}/status`: a member shares its own status, checked
//! against the server's clock (the request's `Date` header and the status's times).

use super::{bad_path, blocking};
use crate::error::{AppError, Error};
use crate::extract::{own_team, JsonBody};
use crate::hub::{Caller, Hub};
use crate::validate;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use chrono::Utc;
use std::sync::Arc;
use weft_proto::sync::{StatusAck, StatusUpdate};

pub async fn put_status(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    JsonBody(update): JsonBody<StatusUpdate>,
) -> Result<Json<StatusAck>, AppError> {
    let Path((team, member)) = path.map_err(bad_path)?;
    own_team(caller, &team)?;
    if member.parse::<i64>().ok() != Some(caller.member) {
        return Err(Error::Forbidden("a member may only share its own status".into()).into());
    }
    let now = Utc::now();
    let date = headers.get(header::DATE).and_then(|v| v.to_str().ok());
    validate::client_clock(date, now)?;
    let status = validate::status(&update, now)?;
    let ack = blocking(&hub, move |hub| hub.put_status(caller, status)).await?;
    Ok(Json(ack))
}

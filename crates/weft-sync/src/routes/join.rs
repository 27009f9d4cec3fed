//! `POST /v1/join`: an invite code and a name for a member token; rate limited per client
//! address (behind a reverse proxy, the proxy's address: then all joins share one bucket).

use super::blocking;
use crate::error::AppError;
use crate::extract::{ClientIp, JsonBody};
use crate::hub::Hub;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use std::sync::Arc;
use weft_proto::sync::{JoinRequest, Joined};

pub async fn join(
    State(hub): State<Arc<Hub>>,
    ClientIp(ip): ClientIp,
    JsonBody(request): JsonBody<JoinRequest>,
) -> Result<(StatusCode, Json<Joined>), AppError> {
    hub.check_join_rate(ip.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into()))?;
    let joined = blocking(&hub, move |hub| hub.join(&request.invite, &request.name)).await?;
    log::info!("{} joined team {}", joined.member_id, joined.team.id);
    Ok((StatusCode::CREATED, Json(joined)))
}

//! `GET /v1/teams/{team}/events?after_ping=ID`: the live stream (see [`crate::events`]),
//! with `Cache-Control: no-cache` and `X-Accel-Buffering: no`, so proxies pass each event on
//! at once instead of buffering the stream.

use super::{bad_path, blocking};
use crate::error::{AppError, Error};
use crate::extract::own_team;
use crate::hub::{Caller, Hub};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// nginx's per-answer switch for proxy buffering.
const X_ACCEL_BUFFERING: header::HeaderName = header::HeaderName::from_static("x-accel-buffering");

pub async fn events(
    State(hub): State<Arc<Hub>>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let Path(team) = path.map_err(bad_path)?;
    own_team(caller, &team)?;
    let after = after_ping(query.as_deref().unwrap_or(""))?;
    let subscription = hub.subscribe(caller)?;
    let pings = blocking(&hub, move |hub| hub.pings_after(caller.member, after)).await?;
    let body = crate::events::stream(
        subscription,
        caller.member,
        after,
        pings,
        hub.config().keep_alive,
        hub.shutdown_token().clone(),
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            // nginx buffers proxied answers unless told not to; a buffered stream shows
            // nothing until its buffer fills.
            (X_ACCEL_BUFFERING, "no"),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

fn after_ping(query: &str) -> Result<i64, Error> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "after_ping" {
            return value
                .parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| {
                    Error::BadRequest(
                        "after_ping must be a ping id (a whole number, 0 or more)".into(),
                    )
                });
        }
    }
    Ok(0)
}

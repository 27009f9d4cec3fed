//! Request extractors whose every rejection is an [`ApiError`](weft_proto::sync::ApiError)
//! JSON answer: [`JsonBody`] (size-limited, strict JSON) and [`Caller`] (bearer token + rate
//! limit), [`ClientIp`], plus the check that a path's team is the caller's.

use crate::error::{AppError, Error};
use crate::hub::{Caller, Hub};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use weft_proto::sync::MAX_BODY_BYTES;

/// How much of a too-large body is read and dropped before answering 413, so that a client
/// that writes its whole body before reading sees the answer instead of a reset.
const DRAIN_BYTES: usize = 1024 * 1024;

/// A JSON body of at most [`MAX_BODY_BYTES`]; anything else is 400 or 413.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > DRAIN_BYTES as u64) {
            return Err(Error::TooLarge(MAX_BODY_BYTES).into());
        }
        let mut body = req.into_body().into_data_stream();
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| Error::BadRequest(format!("the body could not be read: {e}")))?;
            if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                // Read (and drop) a moderate excess so the client gets to see the 413.
                let mut drained = bytes.len() + chunk.len();
                while let Some(Ok(chunk)) = body.next().await {
                    drained += chunk.len();
                    if drained > DRAIN_BYTES {
                        break;
                    }
                }
                return Err(Error::TooLarge(MAX_BODY_BYTES).into());
            }
            bytes.extend_from_slice(&chunk);
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            Error::BadRequest(format!("the body is not valid JSON for this request: {e}"))
        })?;
        deserializer.end().map_err(|e| {
            Error::BadRequest(format!("the body is not valid JSON for this request: {e}"))
        })?;
        Ok(JsonBody(value))
    }
}

impl FromRequestParts<Arc<Hub>> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        hub: &Arc<Hub>,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                Error::Unauthorized(
                    "this request needs an \"Authorization: Bearer <token>\" header".into(),
                )
            })?;
        Ok(hub.authenticate(token)?)
    }
}

/// The client's IP address, when the server runs on a socket (not in `oneshot` tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<crate::net::Peer>>()
                .map(|info| info.0 .0.ip()),
        ))
    }
}

/// The team id in a path, which must be the caller's team.
pub fn own_team(caller: Caller, raw: &str) -> Result<i64, Error> {
    match raw.parse::<i64>() {
        Ok(team) if team == caller.team => Ok(team),
        _ => Err(Error::Forbidden(
            "your token does not belong to this team".into(),
        )),
    }
}

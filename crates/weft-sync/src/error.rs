//! The crate's one error type and its translation into HTTP answers.
//!
//! [`Error`] is what the store, the validators and the handlers return. [`AppError`] wraps it
//! at the HTTP edge: it picks the status code and writes an [`ApiError`] JSON body, and it
//! never shows internals (store failures are logged and answered with a generic message).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use weft_proto::sync::ApiError;

/// The `Retry-After` (seconds) of a refused stream: about when a dead one has been dropped.
const STREAMS_RETRY_AFTER: u64 = 15;

/// Everything that can go wrong in the sync server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed or a value is out of range.
    #[error("{0}")]
    BadRequest(String),
    /// The client's clock is too far from the server's (a `since` ahead of the server's
    /// clock, or a `Date` header off by more than a minute); the message says by how much.
    #[error("{0}")]
    ClockSkew(String),
    /// No token, or a token the server does not know.
    #[error("{0}")]
    Unauthorized(String),
    /// The token is valid but does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with what exists (a taken name).
    #[error("{0}")]
    Conflict(String),
    /// The request body is larger than the server reads.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The token sent too many requests; it may try again after this many seconds.
    #[error("too many requests; try again in {0} s")]
    RateLimited(u64),
    /// The member has this many streams open already.
    #[error("this member has {0} live streams open already; close one or try again later")]
    TooManyStreams(u32),
    /// The method is not allowed on this path.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The database file is not a Weft sync database (or not a database at all).
    #[error("the database {path} cannot be used: {reason}")]
    BadDatabase { path: String, reason: String },
    /// The database file belongs to another program: it has tables but no weft-sync schema.
    #[error("the database {path} cannot be used: it is a SQLite database of another program (it has tables, but no weft-sync schema); it was left untouched")]
    ForeignDatabase { path: String },
    /// The database was written by a newer weft-sync.
    #[error("the database {path} has schema version {found}, newer than this weft-sync knows ({known}); it was left untouched")]
    NewerSchema {
        path: String,
        found: i64,
        known: i64,
    },
    /// A store operation failed. The SQLite error is said in the message and is not the
    /// [`std::error::Error::source`], so `{:#}` says it once.
    #[error("database error: {0}")]
    Store(rusqlite::Error),
    /// Something unexpected that is not the client's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Store(error)
    }
}

/// [`Error`] as an HTTP answer.
#[derive(Debug)]
pub struct AppError(pub Error);

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError(error)
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(error: rusqlite::Error) -> Self {
        AppError(Error::Store(error))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = match &self.0 {
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::ClockSkew(_) => (StatusCode::BAD_REQUEST, "clock_skew"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Error::RateLimited(_) | Error::TooManyStreams(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            }
            Error::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Error::BadDatabase { .. }
            | Error::ForeignDatabase { .. }
            | Error::NewerSchema { .. }
            | Error::Store(_)
            | Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            log::error!("request failed: {}", self.0);
            "the server could not complete the request; it has been logged".to_string()
        } else {
            self.0.to_string()
        };
        let body = ApiError {
            error: code.to_string(),
            message,
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match self.0 {
            Error::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::RateLimited(seconds) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Error::TooManyStreams(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(STREAMS_RETRY_AFTER));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn a_store_error_says_its_cause_once() {
        // A real "database or disk is full": a database allowed two pages.
        let full = rusqlite::Connection::open_in_memory().and_then(|conn| {
            conn.execute_batch(
                "PRAGMA max_page_count = 2; CREATE TABLE t (x BLOB); INSERT INTO t VALUES (zeroblob(100000));",
            )
        });
        let Err(full) = full else {
            panic!("SQLite accepted 100 kB in two pages");
        };
        // As weft-sync's main prints it.
        let line = format!(
            "{:#}",
            anyhow::Error::new(Error::from(full)).context("serve")
        );
        assert_eq!(line, "serve: database error: database or disk is full");
    }
}

//! The client's one error type, with messages for people.

use weft_proto::sync::ApiError;

/// Why a call to the sync server failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server address is not an http(s) URL with a host.
    #[error("\"{0}\" is not a sync server address; use one like https://sync.example.com")]
    InvalidUrl(String),
    /// Could not connect / timed out / connection dropped.
    #[error("{0}")]
    Unreachable(String),
    /// The server answered with an error (ApiError fields and the HTTP status).
    #[error("the sync server refused the request ({status}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// 400 `clock_skew`: this computer's clock is more than a minute off the server's; the
    /// server's sentence says by how much ("your clock is about 2 h ahead of the server's").
    #[error("{0}")]
    ClockSkew(String),
    /// 429: retry after this many seconds.
    #[error("the sync server is rate limiting this device; try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// The answer could not be understood.
    #[error("{0}")]
    Protocol(String),
}

impl Error {
    /// True for 401 (unknown token) and 403 (not allowed): joining again may help, retrying
    /// will not.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Error::Refused {
                status: 401 | 403,
                ..
            }
        )
    }

    pub(crate) fn unreachable(server: &str, reason: &str) -> Error {
        Error::Unreachable(format!(
            "cannot reach the sync server at {server}: {reason}"
        ))
    }

    pub(crate) fn from_ureq(server: &str, error: ureq::Error) -> Error {
        match error {
            ureq::Error::Status(429, response) => Error::RateLimited {
                retry_after: response
                    .header("Retry-After")
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(1),
            },
            ureq::Error::Status(status, response) => {
                let text = response.into_string().unwrap_or_default();
                match serde_json::from_str::<ApiError>(&text) {
                    Ok(api) if status == 400 && api.error == "clock_skew" => {
                        Error::ClockSkew(api.message)
                    }
                    Ok(api) => Error::Refused {
                        status,
                        code: api.error,
                        message: api.message,
                    },
                    Err(_) => Error::Refused {
                        status,
                        code: "unknown".into(),
                        message: format!(
                            "the server at {server} answered HTTP {status} without an explanation"
                        ),
                    },
                }
            }
            ureq::Error::Transport(transport) => {
                if transport.kind() == ureq::ErrorKind::InvalidUrl
                    || transport.kind() == ureq::ErrorKind::UnknownScheme
                {
                    return Error::InvalidUrl(server.to_string());
                }
                let reason = std::error::Error::source(&transport)
                    .map(|s| s.to_string())
                    .or_else(|| transport.message().map(String::from))
                    .unwrap_or_else(|| transport.kind().to_string());
                Error::unreachable(server, &reason.to_lowercase())
            }
        }
    }
}

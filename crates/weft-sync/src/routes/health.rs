//! `GET /v1/health`: no auth.

use axum::Json;
use weft_proto::sync::Health;

pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

//! `weft-sync`: Weft's self-hostable team sync server.
//!
//! Members of a team share their attention state (focus or coordination, since when, the
//! planned end, and the intent if they opt in) and ping each other over HTTP + JSON under
//! `/v1`, with a live Server-Sent Events stream. The wire types live in
//! [`weft_proto::sync`]; this crate never depends on the app (no tauri, no WebKit).
//!
//! - [`app`] builds the router (tests can call it without a socket); [`serve`] runs it on a
//!   listener until a shutdown signal, ending open streams so shutdown is prompt.
//! - [`hub`] is the server's memory and fan-out; [`store`] is the [`store::Store`] trait and
//!   its SQLite implementation; [`admin`] holds the `team` subcommands' logic; [`net`] is the
//!   listener (TCP keep-alive, and dropping connections that accept no bytes).
//! - `testing` (behind the `testing` feature) is an in-process server for tests.
//! - [`error::Error`] is the one error type; [`error::AppError`] turns it into JSON answers.
//!
//! The library prints nothing (it logs through `log`); the binary owns standard output.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod admin;
pub mod error;
pub mod events;
pub mod extract;
pub mod hub;
pub mod limit;
pub mod names;
pub mod net;
mod routes;
pub mod secret;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod validate;

pub use error::{AppError, Error};
pub use hub::{Config, Hub};

use axum::Router;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long [`serve`] waits for connections to finish after the shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// The API as a router.
pub fn app(hub: Arc<Hub>) -> Router {
    routes::router(hub)
}

/// Opens the SQLite store at `path` and loads it into a hub.
pub fn open(path: &Path, config: Config) -> Result<Arc<Hub>, Error> {
    let store = store::sqlite::SqliteStore::open(path)?;
    Ok(Arc::new(Hub::new(Box::new(store), config)?))
}

/// Serves the API on `listener` until `shutdown` completes or the hub's shutdown token is
/// cancelled. Open event streams are ended then; connections that still do not finish within
/// [`SHUTDOWN_GRACE`] are dropped. Connections are guarded by [`net::GuardedListener`]
/// (with the hub's [`Config::stall_timeout`]), and the store is checked for members the admin
/// CLI removed every [`Config::reconcile_every`].
pub async fn serve(
    listener: TcpListener,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = hub.shutdown_token().clone();
    let prune = tokio::spawn(every(
        Duration::from_secs(3600),
        Arc::clone(&hub),
        "delete old pings",
        Hub::prune,
        |n| log::info!("deleted {n} pings older than 7 days"),
    ));
    let reconcile = tokio::spawn(every(
        hub.config().reconcile_every,
        Arc::clone(&hub),
        "look for removed members",
        Hub::reconcile,
        |n| log::info!("{n} members were removed from the database; forgot them"),
    ));
    let signal = {
        let token = token.clone();
        async move {
            tokio::select! {
                _ = shutdown => {}
                _ = token.cancelled() => {}
            }
            token.cancel();
        }
    };
    let listener = net::GuardedListener::new(listener, hub.config().stall_timeout);
    let service = app(hub).into_make_service_with_connect_info::<net::Peer>();
    let server = axum::serve(listener, service).with_graceful_shutdown(signal);
    let result = tokio::select! {
        result = server => result,
        _ = async { token.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            log::warn!("some connections did not close in time; stopping anyway");
            Ok(())
        }
    };
    prune.abort();
    reconcile.abort();
    result
}

/// One of the server's chores: `task` on a blocking thread every `period` (the first at
/// once), with `done` told how many things it did when that is not zero; a failure is logged
/// as "could not {what}".
async fn every(
    period: Duration,
    hub: Arc<Hub>,
    what: &'static str,
    task: fn(&Hub) -> Result<usize, Error>,
    done: fn(usize),
) {
    let mut every = tokio::time::interval(period);
    loop {
        every.tick().await;
        let hub = Arc::clone(&hub);
        match tokio::task::spawn_blocking(move || task(&hub)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => done(n),
            Ok(Err(e)) => log::warn!("could not {what}: {e}"),
            Err(e) => log::warn!("could not {what}: {e}"),
        }
    }
}

//! Weft's team client, and the tray process's dispatcher that puts it beside the core.
//!
//! - [`Team`]: this Weft's membership; shares the status with a `weft-sync` server and files
//!   teammates' pings through the hold policy. It knows its host only through [`Host`] (the
//!   status of the moment, filing a ping, its cursors), and learns of switches by following
//!   the host's published statuses; it never calls back into `Weft`.
//! - [`Dispatcher`]: owns `Weft` and `Team` side by side and answers the control socket.
//!
//! This is the only crate of the app that talks HTTP (through `weft-sync-client`), so the
//! `weft` CLI, which links `weft-core` only, carries no network or TLS stack.

mod dispatch;
mod error;
#[cfg(test)]
mod fake;
mod host;
pub mod membership;
mod team;
#[cfg(test)]
mod tests;
mod worker;

pub use dispatch::Dispatcher;
pub use error::{Error, Result};
pub use host::Host;
pub use team::Team;

// The CLI waits `TEAM_TIMEOUT` for a join, leave or ping: that must cover the client's own
// connect, write and read timeouts, or the CLI would give up on a call still under way.
const _: () = assert!(
    weft_sync_client::CONNECT_TIMEOUT.as_secs() + 2 * weft_sync_client::IO_TIMEOUT.as_secs() + 10
        <= weft_core::control::TEAM_TIMEOUT.as_secs()
);

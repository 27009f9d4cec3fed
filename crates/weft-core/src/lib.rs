//! Weft's core: everything that decides and remembers, with no window and no Tauri.
//!
//! - [`machine`]: the pure focus/coordination state machine (a function of data and a clock);
//! - [`hold`]: the pure hold policy (deliver, hold or break through) and the digest's text;
//! - [`store`]: the durable SQLite switch log with versioned, atomic migrations;
//! - [`summary`]: the pure end-of-day summary (a function of the log, a time zone and now);
//! - [`service`]: the one dispatcher ([`service::Weft`]): switches, notifications, watchers;
//! - [`dispatch`]: a control [`Request`](weft_proto::Request) into a call on it, and back;
//! - [`control`]: the Unix control socket that carries those requests for the CLI and tests;
//! - [`autostart`]: start at login, Weft's entry in the XDG autostart folder;
//! - [`config`], [`paths`], [`instance`], [`clock`]: the small things the above are given;
//! - `testing` (the `testing` feature): `wait_for`, a `Log` fixture and a disk that fills up, for tests.
//!
//! The team client lives in `weft-team`, so the CLI, which links this crate, links no network
//! stack. The app (`src-tauri`) and the CLI only translate between the outside world and this
//! crate.

pub mod autostart;
pub mod clock;
pub mod config;
pub mod control;
pub mod dispatch;
mod error;
pub mod hold;
pub mod hotkey;
pub mod instance;
pub mod machine;
pub mod paths;
pub mod service;
pub mod store;
pub mod summary;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;

pub use error::{Error, Result};
pub use weft_proto as proto;

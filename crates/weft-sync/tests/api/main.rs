//! The sync server end to end: a real server on 127.0.0.1:0 (in-process, or the real binary
//! for the CLI, restart and signal tests) driven by the real `weft-sync-client`. One test
//! binary; one module per area.

mod auth;
mod binary;
mod clock;
mod input;
mod live;
mod members;
mod names;
mod proxy;
mod support;

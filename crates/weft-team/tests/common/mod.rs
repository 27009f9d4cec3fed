//! What the team client's integration tests share: a Weft without a window on a temporary
//! log, with its team client beside it, and how long a test waits.

// Each test binary includes this module and uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;
use weft_core::clock::Clock;
use weft_core::service::Weft;
use weft_core::store::Store;
use weft_team::{membership, Dispatcher, Team};

/// How long a test waits for the server or the team client.
pub const WAIT: Duration = Duration::from_secs(20);

pub type R = Result<(), Box<dyn std::error::Error>>;

/// A Weft without a window on `clock`: the dispatcher on a temporary log, and its team client.
/// Dropped, it stops the team's threads.
pub struct Local {
    pub weft: Arc<Weft>,
    pub team: Arc<Team>,
    pub dispatcher: Dispatcher,
    _dir: tempfile::TempDir,
}

impl Drop for Local {
    fn drop(&mut self) {
        self.team.stop();
    }
}

pub fn local(clock: Arc<dyn Clock>) -> Result<Local, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let weft = Arc::new(Weft::start(
        Store::open(&dir.path().join("weft.db"))?,
        clock,
    )?);
    let dispatcher = Dispatcher::start(weft.clone(), membership::file(&dir.path().join("config")))?;
    Ok(Local {
        team: dispatcher.team().clone(),
        weft,
        dispatcher,
        _dir: dir,
    })
}

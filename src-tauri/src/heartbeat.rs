//! Once a minute the app notes that it is alive, so that after a crash the summary counts the
//! run up to its last minute instead of only up to its last switch.

use std::sync::Weak;
use std::time::Duration;
use weft_core::service::Weft;

const EVERY: Duration = Duration::from_secs(60);

pub fn spawn(weft: Weak<Weft>) {
    let spawned = std::thread::Builder::new()
        .name("weft-heartbeat".into())
        .spawn(move || loop {
            std::thread::sleep(EVERY);
            let Some(weft) = weft.upgrade() else { return };
            if let Err(e) = weft.heartbeat() {
                log::warn!("heartbeat not recorded: {e}");
            }
        });
    if let Err(e) = spawned {
        log::warn!("no heartbeat: after a crash, the run counts up to its last switch only ({e})");
    }
}

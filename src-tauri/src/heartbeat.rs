//! Once a minute the app notes that it is alive, so that after a crash the summary counts the
//! run up to its last minute instead of only up to its last switch. Every few seconds it also
//! reads the clocks ([`Weft::check_clock`]), so a suspend or a clock set forward or back is
//! logged as a gap soon after the wake, even when nothing else happens.

use std::sync::Weak;
use std::time::{Duration, Instant};
use weft_core::service::Weft;

const EVERY: Duration = Duration::from_secs(60);

/// How often the clocks are compared: a gap's start is known to within this.
const CLOCK_CHECK: Duration = Duration::from_secs(5);

pub fn spawn(weft: Weak<Weft>) {
    let spawned = std::thread::Builder::new()
        .name("weft-heartbeat".into())
        .spawn(move || {
            // Instant is the monotonic clock: a minute here is a minute that passed.
            let mut next_beat = Instant::now() + EVERY;
            loop {
                std::thread::sleep(CLOCK_CHECK);
                let Some(weft) = weft.upgrade() else { return };
                if Instant::now() < next_beat {
                    weft.check_clock();
                    continue;
                }
                next_beat = Instant::now() + EVERY;
                if let Err(e) = weft.heartbeat() {
                    log::warn!("heartbeat not recorded: {e}");
                }
            }
        });
    if let Err(e) = spawned {
        log::warn!("no heartbeat: after a crash, the run counts up to its last switch only ({e})");
    }
}

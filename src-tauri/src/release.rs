//! Things that happen at local times of day: the `release_at` digests and the end-of-day
//! notice each run [`daily`], a timer thread of their own.

use chrono::{Local, NaiveTime, Utc};
use std::sync::Weak;
use std::time::Duration;
use weft_core::hold::next_release;
use weft_core::service::Weft;

/// The longest single sleep, so that a suspend or a clock change is noticed within a minute.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Runs `act` at each of `times` (local) every day, on a thread named `name`, for as long as
/// Weft runs.
pub fn daily(
    name: &str,
    weft: Weak<Weft>,
    times: Vec<NaiveTime>,
    act: impl Fn(&Weft) + Send + 'static,
) {
    if times.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || loop {
            let Some(next) = next_release(&times, &Local::now()) else {
                return;
            };
            let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            if wait > MAX_SLEEP {
                std::thread::sleep(MAX_SLEEP);
                continue;
            }
            std::thread::sleep(wait);
            let Some(weft) = weft.upgrade() else { return };
            act(&weft);
        });
    if let Err(e) = spawned {
        log::error!("{name} will not run: {e}");
    }
}

/// Configured release times (`release_at` in config.toml): at these local times, held
/// notifications go out as a digest even during a long focus block.
pub fn spawn(weft: Weak<Weft>, times: Vec<NaiveTime>) {
    daily("weft-release", weft, times, |weft| {
        match weft.release_held_now() {
            Ok(0) => {}
            Ok(n) => log::info!("release time: {n} held notification(s) released"),
            Err(e) => log::error!("release time: {e}"),
        }
    });
}

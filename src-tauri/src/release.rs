//! Things that happen at local times of day: the `release_at` digests and the end-of-day
//! notice each run [`daily`], a timer thread of their own.
//!
//! The wait is on the monotonic clock, at most a minute at a time, so a suspend or a clock
//! change is noticed within a minute. A time that passed while the machine slept (or that the
//! clock jumped over) is acted on once at the wake if that is still the same local day, and
//! skipped otherwise: a digest or the day's notice when you are back, never yesterday's.

use chrono::{DateTime, Local, NaiveTime, TimeZone, Utc};
use std::sync::Weak;
use std::time::Duration;
use weft_core::hold::next_release;
use weft_core::service::Weft;

/// The longest single sleep, so that a suspend or a clock change is noticed within a minute.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Whether a time that came at `due` is still worth acting on `now`: on time, or late but
/// within the same local day.
fn still_due<Tz: TimeZone>(due: DateTime<Utc>, now: DateTime<Utc>, zone: &Tz) -> bool {
    let on_time = (now - due).to_std().map_or(true, |late| late <= MAX_SLEEP);
    on_time || due.with_timezone(zone).date_naive() == now.with_timezone(zone).date_naive()
}

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
    let thread = name.to_owned();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let mut due = next_release(&times, &Local::now());
            while let Some(at) = due {
                let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                if !wait.is_zero() {
                    std::thread::sleep(wait.min(MAX_SLEEP));
                    continue;
                }
                let Some(weft) = weft.upgrade() else { return };
                if still_due(at, Utc::now(), &Local) {
                    act(&weft);
                } else {
                    log::info!(
                        "{thread}: {} passed while the machine slept; skipped (another day now)",
                        weft_proto::time::format(at)
                    );
                }
                due = next_release(&times, &Local::now());
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn a_time_slept_through_is_acted_on_at_the_wake_the_same_day_only() -> Result<(), &'static str>
    {
        // On time (the thread wakes within its minute).
        assert!(still_due(utc(24, 17, 30), utc(24, 17, 30), &Utc));
        assert!(still_due(utc(24, 17, 30), utc(24, 17, 31), &Utc));
        // The lid closed at 17:00 and opened at 20:00: the day's notice comes at the wake.
        assert!(still_due(utc(24, 17, 30), utc(24, 20, 0), &Utc));
        // Opened the next morning: yesterday's notice is skipped.
        assert!(!still_due(utc(24, 17, 30), utc(25, 8, 0), &Utc));
        // The same instants where the wake is still the same local day (UTC-8).
        let west = chrono::FixedOffset::west_opt(8 * 3600).ok_or("an offset")?;
        assert!(still_due(utc(24, 17, 30), utc(25, 6, 0), &west));
        Ok(())
    }
}

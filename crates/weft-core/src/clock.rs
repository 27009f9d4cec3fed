//! The injected clock: production reads the system time, tests set it.
//!
//! A clock has two faces: the wall clock (`now`, what the log records) and a monotonic clock
//! (`monotonic`, which stops while the machine sleeps and is never stepped). Comparing the two
//! tells time that passed at the desk from time that did not: a suspend, or a wall clock set
//! forward or back. [`ClockWatch`] does that comparison.

use chrono::{DateTime, Utc};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A source of "now". Everything in the core that needs the time takes one.
pub trait Clock: Send + Sync {
    /// The wall clock (UTC).
    fn now(&self) -> DateTime<Utc>;
    /// Time since an arbitrary fixed origin that does not advance while the machine is
    /// suspended and is not changed when the wall clock is set (`CLOCK_MONOTONIC`).
    fn monotonic(&self) -> Duration;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn monotonic(&self) -> Duration {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed()
    }
}

/// A clock that tests move by hand.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<(DateTime<Utc>, Duration)>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Mutex::new((start, Duration::ZERO)),
        }
    }

    /// Time passes: both clocks move forward. A negative duration steps the wall clock back
    /// (as [`ManualClock::jump`] does); monotonic time never goes back.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        now.0 += by;
        now.1 += by.to_std().unwrap_or(Duration::ZERO);
    }

    /// Only the wall clock moves: forward for a suspend (or a clock set ahead), back for a
    /// clock set back.
    pub fn jump(&self, by: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        now.0 += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    fn monotonic(&self) -> Duration {
        self.now.lock().unwrap_or_else(|p| p.into_inner()).1
    }
}

/// A forward jump of the wall clock shorter than this is not a gap (an NTP correction, a
/// short sleep).
pub const GAP_FORWARD: chrono::Duration = chrono::Duration::seconds(30);

/// A step back of the wall clock longer than this is a gap: the log must never have a run
/// whose times go backwards.
pub const GAP_BACK: chrono::Duration = chrono::Duration::seconds(1);

/// Wall-clock time that did not pass at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Where the wall clock would be had it only followed the monotonic clock: the last
    /// moment known to have passed at the desk.
    pub from: DateTime<Utc>,
    /// Where the wall clock is now. Before `from` when the clock was set back.
    pub to: DateTime<Utc>,
}

impl Gap {
    /// A suspend or a clock set forward (`to` after `from`), rather than a clock set back.
    pub fn forward(&self) -> bool {
        self.to > self.from
    }
}

/// Compares the wall clock with the monotonic clock between observations. Pure: it is given
/// both readings.
#[derive(Debug, Clone, Default)]
pub struct ClockWatch {
    last: Option<(DateTime<Utc>, Duration)>,
}

impl ClockWatch {
    /// Takes a reading of both clocks; returns the gap since the previous reading, if the wall
    /// clock moved more than [`GAP_FORWARD`] ahead of the monotonic clock, or more than
    /// [`GAP_BACK`] behind it.
    pub fn observe(&mut self, wall: DateTime<Utc>, monotonic: Duration) -> Option<Gap> {
        let previous = self.last.replace((wall, monotonic));
        let (last_wall, last_mono) = previous?;
        let passed = chrono::Duration::from_std(monotonic.saturating_sub(last_mono)).ok()?;
        let expected = last_wall + passed;
        let drift = wall - expected;
        (drift > GAP_FORWARD || drift < -GAP_BACK).then_some(Gap {
            from: expected,
            to: wall,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn nine() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn read(watch: &mut ClockWatch, clock: &ManualClock) -> Option<Gap> {
        watch.observe(clock.now(), clock.monotonic())
    }

    #[test]
    fn time_that_passes_is_no_gap() {
        let clock = ManualClock::new(nine());
        let mut watch = ClockWatch::default();
        assert_eq!(read(&mut watch, &clock), None, "the first reading");
        clock.advance(chrono::Duration::hours(5));
        assert_eq!(read(&mut watch, &clock), None);
        // A small correction either way is no gap.
        clock.jump(chrono::Duration::seconds(20));
        assert_eq!(read(&mut watch, &clock), None);
        clock.jump(chrono::Duration::milliseconds(-500));
        assert_eq!(read(&mut watch, &clock), None);
    }

    #[test]
    fn a_suspend_is_a_gap_from_the_last_moment_awake_to_the_wake() {
        let clock = ManualClock::new(nine());
        let mut watch = ClockWatch::default();
        read(&mut watch, &clock);
        clock.advance(chrono::Duration::seconds(4));
        clock.jump(chrono::Duration::hours(3));
        clock.advance(chrono::Duration::seconds(1));
        let gap = read(&mut watch, &clock);
        // The 5 s awake count before the gap (where exactly is unknowable; at most one
        // reading's interval off).
        assert_eq!(
            gap,
            Some(Gap {
                from: nine() + chrono::Duration::seconds(5),
                to: nine() + chrono::Duration::seconds(5) + chrono::Duration::hours(3),
            })
        );
        assert!(gap.is_some_and(|g| g.forward()));
        assert_eq!(read(&mut watch, &clock), None, "reported once");
    }

    #[test]
    fn a_clock_set_back_is_a_gap_that_goes_back() {
        let clock = ManualClock::new(nine());
        let mut watch = ClockWatch::default();
        read(&mut watch, &clock);
        clock.advance(chrono::Duration::minutes(1));
        clock.advance(chrono::Duration::hours(-1));
        let gap = read(&mut watch, &clock);
        assert_eq!(
            gap,
            Some(Gap {
                from: nine() + chrono::Duration::minutes(1),
                to: nine() - chrono::Duration::minutes(59),
            })
        );
        assert!(gap.is_some_and(|g| !g.forward()));
    }
}

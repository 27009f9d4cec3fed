//! Wall-clock time that did not pass at the desk: a suspend, or a wall clock set forward or
//! back. The dispatcher reads both clocks before every switch, heartbeat and stop (and the
//! app every few seconds, [`Weft::check_clock`]); a gap is logged as the run's stop where
//! time stopped passing and a new start where the wall clock is now, so the summary counts it
//! as untracked, like time Weft was not running. A planned focus block whose end fell inside
//! a forward gap ends at its planned time, logged between that stop and start.

use super::{Inner, Weft};
use crate::clock::{Clock, ClockWatch, Gap};
use crate::machine::Plan;
use crate::store::{AppEvent, ReleaseReason};

use crate::Result;
use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;
use weft_proto::{Source, State, Target};

/// The dispatcher's watch on the clocks, and what a planned end does.
#[derive(Debug)]
pub(super) struct Gaps {
    watch: ClockWatch,
    /// `planned_end = "switch"`: a planned end inside a gap switches at its planned time.
    planned_end_switches: bool,
}

impl Gaps {
    /// Starts watching with a first reading of `clock`.
    pub(super) fn new(clock: &dyn Clock) -> Gaps {
        let mut watch = ClockWatch::default();
        watch.observe(clock.now(), clock.monotonic());
        Gaps {
            watch,
            planned_end_switches: true,
        }
    }
}

impl Weft {
    /// Whether the end of a planned focus block switches to coordination (`planned_end =
    /// "switch"`, the default) or only reminds; a reminder is due at the wake, not before.
    pub fn set_planned_end_switches(&self, switches: bool) {
        self.lock().gaps.planned_end_switches = switches;
    }

    /// Reads both clocks and logs a gap if there is one. The app calls this every few
    /// seconds, so a gap is logged soon after the wake even when nothing else happens.
    pub fn check_clock(&self) {
        let mut inner = self.lock();
        self.mind_the_gap(&mut inner);
    }

    /// Now, on the wall clock, after logging any gap since the last reading. Lock held.
    pub(super) fn mind_the_gap(&self, inner: &mut Inner) -> DateTime<Utc> {
        let now = self.clock.now();
        let gap = inner.gaps.watch.observe(now, self.clock.monotonic());
        // After the stop nothing more is logged: the run is over.
        if let Some(gap) = gap.filter(|_| !self.stopped.load(Ordering::SeqCst)) {
            if let Err(e) = self.log_gap(inner, gap) {
                log::error!("a gap in the wall clock was not logged: {e}");
            }
        }
        now
    }

    fn log_gap(&self, inner: &mut Inner, gap: Gap) -> Result<()> {
        let minutes = (gap.to - gap.from).num_minutes();
        if gap.forward() {
            log::warn!(
                "the wall clock moved {minutes} min further than time passed here (a suspend, \
                 or the clock was set forward): {} to {} is untracked",
                weft_proto::time::format(gap.from),
                weft_proto::time::format(gap.to)
            );
        } else {
            log::warn!(
                "the wall clock was set back {} min (from {} to {}): a new run starts",
                -minutes,
                weft_proto::time::format(gap.from),
                weft_proto::time::format(gap.to)
            );
        }
        // A planned end that passed before the wake: the block ends at its planned time.
        let planned = inner
            .machine
            .until()
            .filter(|until| {
                gap.forward()
                    && inner.gaps.planned_end_switches
                    && inner.machine.state() == State::Focus
                    && *until < gap.to
            })
            .map(|until| until.max(inner.machine.since()));
        let ends_before_gap = planned.is_some_and(|at| at <= gap.from);
        let mut switched = false;
        if ends_before_gap {
            switched = self.end_planned(inner, planned)?;
        }
        inner.store.record_app_event(AppEvent::Stop, gap.from)?;
        if !ends_before_gap {
            switched = self.end_planned(inner, planned)?;
        }
        inner.store.record_app_event(AppEvent::Start, gap.to)?;
        // After a crash, the run that starts here ends at its own heartbeats, not the old ones.
        inner.store.facts().set_alive(gap.to)?;
        if switched {
            let popups = match inner.release(gap.to, ReleaseReason::Coordination) {
                Ok(released) => released.digest.is_some(),
                Err(e) => {
                    log::error!("held notifications were not released: {e}");
                    false
                }
            };
            self.announce(inner, popups);
        }
        Ok(())
    }

    /// Logs the switch to coordination that ends a planned block at `at`; whether it did.
    fn end_planned(&self, inner: &mut Inner, at: Option<DateTime<Utc>>) -> Result<bool> {
        let Some(at) = at else { return Ok(false) };
        let plan = Plan::to(Target::Coordination, Source::Timer);
        let Some(switch) = inner.machine.propose(&plan, at)? else {
            return Ok(false);
        };
        inner.store.record_switch(&switch)?;
        inner.machine.apply(&switch);
        log::info!(
            "the planned focus block ended at {}, while no time passed here; switched to \
             coordination at that time",
            weft_proto::time::format(at)
        );
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use crate::clock::{Clock, ManualClock};
    use crate::machine::Plan;
    use crate::service::Weft;
    use crate::store::Store;
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use std::sync::Arc;
    use weft_proto::{DaySummary, Source, State, Target};

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn nine() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        nine() + Duration::minutes(i64::from(h * 60 + m) - 9 * 60)
    }

    fn today(weft: &Weft, clock: &ManualClock) -> crate::Result<DaySummary> {
        let days = weft.with_store(|store| {
            store.summary(
                crate::summary::Period::Day(nine().date_naive()),
                &Utc,
                clock.now(),
                Duration::minutes(15),
            )
        })?;
        days.into_iter()
            .next()
            .ok_or_else(|| crate::Error::Invalid("no day".into()))
    }

    fn focus_for(weft: &Weft, minutes: u32) -> crate::Result<()> {
        weft.switch_at(
            &Plan {
                minutes: Some(minutes),
                ..Plan::to(Target::Focus, Source::Cli)
            },
            None,
        )
        .map(drop)
    }

    /// `weft focus --for 50m`, then a 3-hour suspend 10 minutes in.
    fn suspended_in_planned_focus(switches: bool) -> crate::Result<(Weft, Arc<ManualClock>)> {
        let clock = Arc::new(ManualClock::new(nine()));
        let weft = Weft::start(Store::open_in_memory()?, clock.clone())?;
        weft.set_planned_end_switches(switches);
        focus_for(&weft, 50)?;
        clock.advance(Duration::minutes(10));
        weft.heartbeat()?;
        clock.jump(Duration::hours(3));
        Ok((weft, clock))
    }

    #[test]
    fn a_suspend_is_untracked_and_a_planned_end_inside_it_applies_at_its_time() -> TestResult {
        let (weft, clock) = suspended_in_planned_focus(true)?;
        // The app's periodic reading notices the gap before anything else happens.
        weft.check_clock();
        let status = weft.status();
        assert_eq!(status.state, State::Coordination);
        assert_eq!(
            status.since,
            at(9, 50),
            "at the planned end, not at the wake"
        );
        let log = weft.with_store(|s| s.switches(None))?;
        assert_eq!(log.len(), 2);
        assert_eq!(log[1].source, Source::Timer);
        clock.advance(Duration::minutes(30));
        let day = today(&weft, &clock)?;
        assert_eq!(day.focus_seconds, 10 * 60, "not 3 h 10 min");
        assert_eq!(day.focus_blocks.len(), 1);
        assert_eq!(day.focus_blocks[0].end, at(9, 10));
        // Coordination from the wake (12:10) to now (12:40); the suspend is untracked.
        assert_eq!(day.coordination_seconds, 30 * 60);
        assert_eq!(day.untracked_seconds, 12 * 3600);
        Ok(())
    }

    #[test]
    fn a_switch_right_after_the_wake_notices_the_gap_first() -> TestResult {
        let (weft, clock) = suspended_in_planned_focus(true)?;
        // The first thing after the wake is a toggle: the planned end is applied first (at
        // 09:50), so the toggle goes from coordination to focus.
        let outcome = weft.switch(Target::Toggle, Source::Hotkey, None)?;
        assert!(outcome.switched);
        assert_eq!(outcome.status.state, State::Focus);
        let log = weft.with_store(|s| s.switches(None))?;
        let times: Vec<DateTime<Utc>> = log.iter().map(|s| s.at).collect();
        let wake = clock.now();
        assert_eq!(times, [at(9, 0), at(9, 50), wake]);
        Ok(())
    }

    #[test]
    fn with_reminders_a_suspend_is_untracked_and_focus_goes_on() -> TestResult {
        let (weft, clock) = suspended_in_planned_focus(false)?;
        weft.check_clock();
        assert_eq!(weft.status().state, State::Focus);
        clock.advance(Duration::minutes(20));
        let day = today(&weft, &clock)?;
        // 09:00-09:10, then 12:10-12:30: two pieces of one state with a gap between.
        assert_eq!(day.focus_seconds, 30 * 60);
        assert_eq!(day.focus_blocks.len(), 2);
        Ok(())
    }

    #[test]
    fn nothing_is_logged_after_the_stop() -> TestResult {
        let clock = Arc::new(ManualClock::new(nine()));
        let weft = Weft::start(Store::open_in_memory()?, clock.clone())?;
        weft.stop()?;
        clock.jump(Duration::hours(3));
        weft.check_clock();
        let events = weft.with_store(|s| s.app_events())?;
        assert_eq!(events.len(), 2, "{events:?}");
        Ok(())
    }

    #[test]
    fn a_quit_right_after_the_wake_leaves_the_suspend_untracked() -> TestResult {
        let (weft, clock) = suspended_in_planned_focus(false)?;
        // No periodic reading between the wake and the quit.
        weft.stop()?;
        let day = today(&weft, &clock)?;
        assert_eq!(day.focus_seconds, 10 * 60, "not 3 h 10 min");
        Ok(())
    }

    #[test]
    fn a_clock_set_back_neither_merges_nor_drops_blocks() -> TestResult {
        let clock = Arc::new(ManualClock::new(nine()));
        let weft = Weft::start(Store::open_in_memory()?, clock.clone())?;
        clock.advance(Duration::minutes(60));
        weft.switch(Target::Focus, Source::Cli, Some("first"))?;
        clock.advance(Duration::minutes(30));
        weft.switch(Target::Coordination, Source::Cli, None)?;
        clock.advance(Duration::minutes(1));
        // 10:31 becomes 09:31.
        clock.jump(Duration::hours(-1));
        clock.advance(Duration::minutes(9));
        weft.switch(Target::Focus, Source::Cli, Some("second"))?;
        clock.advance(Duration::minutes(30));
        weft.switch(Target::Coordination, Source::Cli, None)?;
        clock.advance(Duration::minutes(5));
        let day = today(&weft, &clock)?;
        let blocks: Vec<(Option<&str>, i64)> = day
            .focus_blocks
            .iter()
            .map(|b| (b.intent.as_deref(), b.seconds))
            .collect();
        assert_eq!(
            blocks,
            [(Some("first"), 30 * 60), (Some("second"), 30 * 60)]
        );
        // Every minute that passed here counts once: 91 before the step, 44 after.
        assert_eq!(day.focus_seconds + day.coordination_seconds, (91 + 44) * 60);
        Ok(())
    }
}

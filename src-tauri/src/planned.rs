//! The end of a planned focus block (`weft focus --for 50m`, "Focus for 25 min" in the tray):
//! Weft switches to coordination (source `timer`), or with `planned_end = "remind"` only says
//! so. Follows the dispatcher's status events, so a new plan or a switch resets the timer.
//! The wait is on the monotonic clock, capped at a minute, and every switch first logs any
//! suspend since the last one, so a block whose end fell during a suspend ends at its planned
//! time (the dispatcher logs it so), not at the wake; a reminder comes at the wake.

use crate::switcher::Switcher;
use chrono::{DateTime, Utc};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Weak};
use std::time::Duration;
use weft_core::config::PlannedEnd;
use weft_core::service::Weft;
use weft_proto::{Event, Source, State, Target};

pub fn spawn(weft: &Arc<Weft>, switcher: Switcher, on_end: PlannedEnd) {
    // A planned end that falls while the machine sleeps is applied by the dispatcher, at its
    // planned time, as soon as the gap is noticed (see `Weft::check_clock`).
    weft.set_planned_end_switches(on_end == PlannedEnd::Switch);
    let events = weft.watch();
    let weft = Arc::downgrade(weft);
    let spawned = std::thread::Builder::new()
        .name("weft-planned".into())
        .spawn(move || run(&weft, &switcher, &events, on_end));
    if let Err(e) = spawned {
        log::error!("planned focus blocks will not end by themselves: {e}");
    }
}

fn run(
    weft: &Weak<Weft>,
    switcher: &Switcher,
    events: &std::sync::mpsc::Receiver<Event>,
    on_end: PlannedEnd,
) {
    // The planned end of the focus block now running, and whether it has been acted on.
    let mut due: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    let mut handled: Option<DateTime<Utc>> = None;
    loop {
        let event = match &due {
            Some((at, _)) => {
                let wait = (*at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                events.recv_timeout(wait.min(Duration::from_secs(60)))
            }
            None => events.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match event {
            Ok(Event::Status(status)) => {
                // A status event after the end (a held notification, a note) must not arm
                // the block that was already handled again: that would wait zero forever.
                due = match (status.state, status.until) {
                    (State::Focus, Some(_)) if handled == Some(status.since) => None,
                    (State::Focus, Some(until)) => Some((until, status.since)),
                    _ => None,
                };
            }
            Ok(_) => {}
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                let Some((at, block)) = due else {
                    continue;
                };
                if Utc::now() < at {
                    continue;
                }
                handled = Some(block);
                due = None;
                let Some(weft) = weft.upgrade() else { return };
                match on_end {
                    // Queued like a press, logged at the planned end, retried if the log
                    // cannot take it yet.
                    PlannedEnd::Switch => switcher.ask_at(Target::Coordination, Source::Timer, at),
                    PlannedEnd::Remind => {
                        let noted = weft.note(
                            "Planned focus is over",
                            "Switch to coordination when you reach a good place to stop.",
                        );
                        if let Err(e) = noted {
                            log::error!("the planned end of focus: {e}");
                        }
                    }
                }
            }
        }
    }
}

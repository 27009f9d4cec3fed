//! Other apps' notifications into Weft: runs the D-Bus [`monitor`](crate::monitor) while
//! `desktop_capture` is not `"off"`, and files each notification another app sends through the
//! dispatcher's hold policy ([`Weft::observe`]), with the id the desktop's server gave it.
//!
//! A call is filed once its server answered (so a later `replaces_id` or `CloseNotification`
//! can name it), or after [`REPLY_WAIT`] without an answer. Weft's own calls are skipped: they
//! were filed before they were sent. A bus that refuses to let Weft watch is said once; a
//! monitor whose connection ends is started again with backoff, and the outage is logged once.
//!
//! [`Backlog`] tells how far filing is behind the monitor, so that coordination can wait until
//! what was sent during focus is filed before it closes it on the server (what is not filed yet
//! has no id to close, and the desktop would replay it).

use crate::monitor::{self, Event, Monitor, Origin};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};
use weft_core::service::{Observed, Weft};

/// How long a call waits for its server's answer before it is filed without an id.
pub const REPLY_WAIT: Duration = Duration::from_secs(1);
/// Events the monitor may queue before it waits (the bus then holds the rest).
const BACKLOG: usize = 1024;
/// Calls waiting for their answer; older ones are filed first when there are more.
const MAX_WAITING: usize = 4096;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How far filing is behind the monitor: the calls it told ([`monitor::Config::told`]) and
/// the calls filed or skipped since.
#[derive(Default)]
pub struct Backlog {
    told: Arc<AtomicU64>,
    handled: Mutex<u64>,
    changed: Condvar,
}

impl crate::quiet::Unfiled for Backlog {
    /// Waits until every call the monitor had told when this was called is filed, for at most
    /// `timeout`; `false` when some are still waiting then (their server has not answered).
    fn settle(&self, timeout: Duration) -> bool {
        let target = self.told.load(Ordering::Acquire);
        let handled = self.handled.lock().unwrap_or_else(PoisonError::into_inner);
        let (handled, _) = self
            .changed
            .wait_timeout_while(handled, timeout, |handled| *handled < target)
            .unwrap_or_else(PoisonError::into_inner);
        *handled >= target
    }
}

impl Backlog {
    fn handled_one(&self) {
        *self.handled.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.changed.notify_all();
    }
}

/// Starts the capture thread. It ends when Weft is gone, or at once when the bus refuses.
pub fn start(weft: &Arc<Weft>) -> Arc<Backlog> {
    let weft = Arc::downgrade(weft);
    let backlog = Arc::new(Backlog::default());
    let filing = backlog.clone();
    let spawned = std::thread::Builder::new()
        .name("weft-capture".into())
        .spawn(move || supervise(&weft, &filing));
    if let Err(e) = spawned {
        log::error!("cannot watch other apps' notifications (no thread): {e}");
    }
    backlog
}

/// Runs the monitor and files what it sees; starts it again when its connection ends.
fn supervise(weft: &Weak<Weft>, backlog: &Backlog) {
    let mut backoff = FIRST_BACKOFF;
    let mut outage_said = false;
    loop {
        let (tx, rx) = mpsc::sync_channel(BACKLOG);
        let config = monitor::Config {
            told: backlog.told.clone(),
            ..monitor::Config::default()
        };
        let why = match Monitor::start(config, tx) {
            Ok(running) => {
                if outage_said {
                    log::info!("watching other apps' notifications again");
                }
                outage_said = false;
                backoff = FIRST_BACKOFF;
                if !file_events(weft, &rx, backlog) {
                    running.stop();
                    return;
                }
                running.join()
            }
            Err(e) => e,
        };
        match why {
            monitor::Error::Refused(_) => {
                log::warn!("{why}");
                if let Some(weft) = weft.upgrade() {
                    let said = weft.note(
                        "Weft cannot see other apps' notifications",
                        &format!("{why}. Weft's own notifications, pings and switches work as before; other apps' notifications are not held or counted on this desktop."),
                    );
                    if let Err(e) = said {
                        log::error!("the notice was not filed: {e}");
                    }
                }
                return;
            }
            monitor::Error::Stopped => return,
            monitor::Error::Unavailable(_) | monitor::Error::Disconnected(_) => {
                if !outage_said {
                    log::warn!("{why}; trying again with backoff");
                    outage_said = true;
                }
            }
        }
        if weft.upgrade().is_none() {
            return;
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// A call seen, waiting for its server's answer.
struct Waiting {
    observed: monitor::Observed,
    since: Instant,
}

/// Files the monitor's events until it ends (returns true) or Weft is gone (false).
fn file_events(weft: &Weak<Weft>, events: &Receiver<Event>, backlog: &Backlog) -> bool {
    let mut waiting: HashMap<monitor::CallId, Waiting> = HashMap::new();
    let file = |weft: &Weft, seen: &monitor::Observed, server_id| {
        file(weft, seen, server_id);
        backlog.handled_one();
    };
    loop {
        let event = events.recv_timeout(REPLY_WAIT);
        let Some(weft) = weft.upgrade() else {
            return false;
        };
        match event {
            Ok(Event::Observed { call, notification }) => {
                if notification.origin == Origin::Weft {
                    backlog.handled_one();
                    continue;
                }
                if waiting.len() >= MAX_WAITING {
                    if let Some(oldest) = oldest(&mut waiting) {
                        file(&weft, &oldest.observed, None);
                    }
                }
                waiting.insert(
                    call,
                    Waiting {
                        observed: notification,
                        since: Instant::now(),
                    },
                );
            }
            Ok(Event::Assigned { call, id }) => {
                if let Some(seen) = waiting.remove(&call) {
                    file(&weft, &seen.observed, Some(id));
                }
            }
            Ok(Event::Rejected { call, error }) => {
                if let Some(seen) = waiting.remove(&call) {
                    log::debug!("the notification server refused a notification: {error}");
                    file(&weft, &seen.observed, None);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                for (_, seen) in waiting.drain() {
                    file(&weft, &seen.observed, None);
                }
                return true;
            }
        }
        // Calls whose answer never came are filed without an id.
        let late: Vec<_> = waiting
            .iter()
            .filter(|(_, w)| w.since.elapsed() >= REPLY_WAIT)
            .map(|(call, _)| *call)
            .collect();
        for call in late {
            if let Some(seen) = waiting.remove(&call) {
                file(&weft, &seen.observed, None);
            }
        }
    }
}

/// Takes the call that has waited longest for its answer.
fn oldest(waiting: &mut HashMap<monitor::CallId, Waiting>) -> Option<Waiting> {
    let oldest = waiting
        .iter()
        .min_by_key(|(_, w)| w.since)
        .map(|(call, _)| *call)?;
    waiting.remove(&oldest)
}

/// Files one notification; a failure is logged (the desktop showed it anyway).
fn file(weft: &Weft, seen: &monitor::Observed, server_id: Option<u32>) {
    let observed = to_core(seen, server_id);
    match weft.observe(&observed) {
        Ok(outcome) => log::debug!("{:?} from {:?}: {outcome:?}", seen.summary, seen.app_name),
        Err(e) => log::error!(
            "a notification from {:?} could not be filed: {e}",
            seen.app_name
        ),
    }
}

/// The core's view of a call: its texts as sent (the core cleans them, once).
fn to_core(seen: &monitor::Observed, server_id: Option<u32>) -> Observed {
    Observed {
        app: seen.app_name.clone(),
        title: seen.summary.clone(),
        body: seen.body.clone(),
        urgency: seen.urgency,
        transient: seen.transient,
        replaces_id: seen.replaces_id,
        server_id,
        at: seen.at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_proto::Urgency;

    fn seen(app: &str, summary: &str) -> monitor::Observed {
        monitor::Observed {
            sender: ":1.9".into(),
            pid: Some(42),
            origin: Origin::App,
            app_name: app.into(),
            summary: summary.into(),
            body: "body".into(),
            urgency: Urgency::Critical,
            transient: true,
            replaces_id: 7,
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_backlog_settles_once_every_call_told_is_handled() {
        use crate::quiet::Unfiled;
        let backlog = Backlog::default();
        assert!(backlog.settle(Duration::ZERO), "nothing told");
        backlog.told.fetch_add(2, Ordering::AcqRel);
        backlog.handled_one();
        assert!(
            !backlog.settle(Duration::from_millis(1)),
            "one still unfiled"
        );
        let backlog = Arc::new(backlog);
        let filing = backlog.clone();
        let handler = std::thread::spawn(move || filing.handled_one());
        assert!(backlog.settle(Duration::from_secs(30)), "woken when filed");
        assert!(handler.join().is_ok());
    }

    #[test]
    fn a_call_becomes_the_cores_observation_with_its_server_id() {
        let core = to_core(&seen("Slack", "New message"), Some(12));
        assert_eq!(core.app, "Slack");
        assert_eq!(core.title, "New message");
        assert_eq!(core.body, "body");
        assert_eq!(core.urgency, Urgency::Critical);
        assert!(core.transient);
        assert_eq!(core.replaces_id, 7);
        assert_eq!(core.server_id, Some(12));
    }
}

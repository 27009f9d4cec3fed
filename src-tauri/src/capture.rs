//! Other apps' notifications into Weft: runs the D-Bus [`monitor`](crate::monitor) while
//! `desktop_capture` is not `"off"`, and files each notification another app sends through the
//! dispatcher's hold policy ([`Weft::observe`]), with the id the desktop's server gave it.
//!
//! A call is filed once its server answered (so a later `replaces_id` or `CloseNotification`
//! can name it), or after [`REPLY_WAIT`] without an answer. Weft's own calls are skipped: they
//! were filed before they were sent. A bus that refuses to let Weft watch is said once; a
//! monitor whose connection ends is started again with backoff, and the outage is logged once.

use crate::monitor::{self, Event, Monitor, Origin};
use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};
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

/// Starts the capture thread. It ends when Weft is gone, or at once when the bus refuses.
pub fn start(weft: &Arc<Weft>) {
    let weft = Arc::downgrade(weft);
    let spawned = std::thread::Builder::new()
        .name("weft-capture".into())
        .spawn(move || supervise(&weft));
    if let Err(e) = spawned {
        log::error!("cannot watch other apps' notifications (no thread): {e}");
    }
}

/// Runs the monitor and files what it sees; starts it again when its connection ends.
fn supervise(weft: &Weak<Weft>) {
    let mut backoff = FIRST_BACKOFF;
    let mut outage_said = false;
    loop {
        let (tx, rx) = mpsc::sync_channel(BACKLOG);
        let why = match Monitor::start(monitor::Config::default(), tx) {
            Ok(running) => {
                if outage_said {
                    log::info!("watching other apps' notifications again");
                }
                outage_said = false;
                backoff = FIRST_BACKOFF;
                if !file_events(weft, &rx) {
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
fn file_events(weft: &Weak<Weft>, events: &Receiver<Event>) -> bool {
    let mut waiting: HashMap<monitor::CallId, Waiting> = HashMap::new();
    loop {
        let event = events.recv_timeout(REPLY_WAIT);
        let Some(weft) = weft.upgrade() else {
            return false;
        };
        match event {
            Ok(Event::Observed { call, notification }) => {
                if notification.origin == Origin::Weft {
                    continue;
                }
                if waiting.len() >= MAX_WAITING {
                    flush_oldest(&weft, &mut waiting);
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

fn flush_oldest(weft: &Weft, waiting: &mut HashMap<monitor::CallId, Waiting>) {
    let oldest = waiting
        .iter()
        .min_by_key(|(_, w)| w.since)
        .map(|(call, _)| *call);
    if let Some(seen) = oldest.and_then(|call| waiting.remove(&call)) {
        file(weft, &seen.observed, None);
    }
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

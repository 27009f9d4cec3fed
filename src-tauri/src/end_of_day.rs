//! The end-of-day notice: at a configured local time (`end_of_day`, default 17:30; "off" turns
//! it off), the day's headline figures go through the hold policy like any notification.
//! Clicking it opens the window on Today.

use chrono::{Local, NaiveTime, Utc};
use std::sync::Weak;
use std::time::Duration;
use weft_core::hold::next_release;
use weft_core::service::{Incoming, Weft};
use weft_core::summary::headline;
use weft_proto::Urgency;

/// The longest single sleep, so that a suspend or a clock change is noticed within a minute.
const MAX_SLEEP: Duration = Duration::from_secs(60);

pub fn spawn(weft: Weak<Weft>, at: Option<NaiveTime>) {
    let Some(at) = at else {
        log::info!("the end-of-day notice is off (config)");
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("weft-end-of-day".into())
        .spawn(move || loop {
            let Some(next) = next_release(&[at], &Local::now()) else {
                return;
            };
            let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            if wait > MAX_SLEEP {
                std::thread::sleep(MAX_SLEEP);
                continue;
            }
            std::thread::sleep(wait);
            let Some(weft) = weft.upgrade() else { return };
            notify(&weft);
            // Past the minute, so the same time is not taken twice.
            std::thread::sleep(Duration::from_secs(61));
        });
    if let Err(e) = spawned {
        log::error!("the end-of-day notice will not come: {e}");
    }
}

fn notify(weft: &Weft) {
    let day = match weft.summary(None, false) {
        Ok(days) => days.into_iter().next(),
        Err(e) => {
            log::error!("the end-of-day summary failed: {e}");
            return;
        }
    };
    let Some(day) = day else { return };
    let body = headline(&day);
    let incoming = Incoming {
        title: "Your day",
        body: Some(&body),
        urgency: Urgency::Normal,
        from: None,
        opens: Some("today"),
    };
    if let Err(e) = weft.notify(&incoming) {
        log::error!("the end-of-day notice was not filed: {e}");
    }
}

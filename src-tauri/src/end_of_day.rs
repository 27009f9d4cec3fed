//! The end-of-day notice: at a configured local time (`end_of_day`, default 17:30; "off" turns
//! it off), the day's headline figures go through the hold policy like any notification.
//! Clicking it opens the window on Today. A notice time slept through comes at the wake if it is
//! still the same day (see [`crate::release::daily`]).

use chrono::NaiveTime;
use std::sync::Weak;
use weft_core::service::{Incoming, Weft};
use weft_core::summary::headline;
use weft_proto::Urgency;

pub fn spawn(weft: Weak<Weft>, at: Option<NaiveTime>) {
    let Some(at) = at else {
        log::info!("the end-of-day notice is off (config)");
        return;
    };
    crate::release::daily("weft-end-of-day", weft, vec![at], notify);
}

fn notify(weft: &Weft) {
    let day = match weft.summary(weft_core::summary::Period::Day(weft.today())) {
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
        opens: Some(weft_proto::View::Today),
        ping: None,
    };
    if let Err(e) = weft.notify(&incoming) {
        log::error!("the end-of-day notice was not filed: {e}");
    }
}

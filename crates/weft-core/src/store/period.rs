//! The summary's reading: [`Store::summary`] loads the rows of a [`Period`] (through
//! [`Store::history`], on the time indexes) and hands them to the pure `summary` module, which
//! never sees the store.

use super::Store;
use crate::summary::{self, Period};
use crate::Result;
use chrono::{DateTime, TimeZone, Utc};
use weft_proto::DaySummary;

impl Store {
    /// The summary of each local day of `period` in `zone`, oldest first: what the
    /// dispatcher answers `Request::Summary` with. `now` ends an open block; focus blocks
    /// shorter than `fragment` count as fragmented.
    pub fn summary<Tz: TimeZone>(
        &self,
        period: Period,
        zone: &Tz,
        now: DateTime<Utc>,
        fragment: chrono::Duration,
    ) -> Result<Vec<DaySummary>> {
        let (from, to) = period.bounds(zone);
        let history = self.history(from, to)?;
        Ok(summary::period(&history, period, zone, now, fragment))
    }
}

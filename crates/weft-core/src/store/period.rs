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

#[cfg(any(test, feature = "testing"))]
impl Store {
    /// Makes this log look like one from before schema 6: no start or stop says which switch
    /// came before it (for `testing::Log::without_positions`).
    pub fn forget_log_positions(&mut self) -> Result<()> {
        self.conn
            .execute("UPDATE app_events SET last_switch = NULL", [])
            .map(drop)
            .map_err(|e| super::classify(&self.path, e))
    }
}

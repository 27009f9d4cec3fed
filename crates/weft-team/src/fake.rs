//! A fake [`Host`] for the team client's unit tests: a status to share, the pings filed (by
//! key, once each, as the real hold policy files them), and cursors in memory. It can refuse
//! a ping as the hold policy would, or fail as a log that cannot be written.

use crate::Host;
use std::sync::Mutex;
use weft_core::service::Incoming;
use weft_core::store::TeamCursors;
use weft_proto::Status;

pub(crate) struct FakeHost {
    pub(crate) status: Mutex<Status>,
    /// The keys of the pings filed, in order.
    pub(crate) filed: Mutex<Vec<String>>,
    pub(crate) cursors: Mutex<TeamCursors>,
    /// Titles the "policy" refuses.
    pub(crate) refuse_titles_with: Mutex<Option<String>>,
    /// Every write to the log fails while set.
    pub(crate) log_broken: Mutex<bool>,
}

impl Default for FakeHost {
    fn default() -> FakeHost {
        // Coordination since now, as a new log starts.
        let machine = weft_core::machine::Machine::restore(None, None, chrono::Utc::now());
        FakeHost {
            status: Mutex::new(machine.status(0)),
            filed: Mutex::default(),
            cursors: Mutex::default(),
            refuse_titles_with: Mutex::default(),
            log_broken: Mutex::default(),
        }
    }
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeHost {
    fn write(&self) -> weft_core::Result<()> {
        if *locked(&self.log_broken) {
            return Err(weft_core::Error::Expired { late_ms: 0 });
        }
        Ok(())
    }

    pub(crate) fn filed(&self) -> Vec<String> {
        locked(&self.filed).clone()
    }
}

impl Host for FakeHost {
    fn status(&self) -> Status {
        locked(&self.status).clone()
    }

    fn file_ping(&self, ping: &Incoming<'_>) -> weft_core::Result<()> {
        if let Some(word) = locked(&self.refuse_titles_with).as_deref() {
            if ping.title.contains(word) {
                return Err(weft_core::Error::Refused(format!("{word} is refused")));
            }
        }
        self.write()?;
        let key = ping.ping.unwrap_or_default().to_owned();
        let mut filed = locked(&self.filed);
        if !filed.contains(&key) {
            filed.push(key);
        }
        Ok(())
    }

    fn cursors(&self) -> weft_core::Result<TeamCursors> {
        Ok(locked(&self.cursors).clone())
    }

    fn next_seq(&self) -> weft_core::Result<u64> {
        self.write()?;
        let mut cursors = locked(&self.cursors);
        cursors.seq += 1;
        Ok(cursors.seq)
    }

    fn raise_seq(&self, seq: u64) -> weft_core::Result<()> {
        self.write()?;
        let mut cursors = locked(&self.cursors);
        cursors.seq = cursors.seq.max(seq);
        Ok(())
    }

    fn set_ping_cursor(&self, id: i64) -> weft_core::Result<()> {
        self.write()?;
        locked(&self.cursors).ping_cursor = id;
        Ok(())
    }

    fn set_instance(&self, instance: &str) -> weft_core::Result<()> {
        self.write()?;
        let mut cursors = locked(&self.cursors);
        cursors.instance = Some(instance.to_owned());
        cursors.ping_cursor = 0;
        Ok(())
    }

    fn reset_cursors(&self) -> weft_core::Result<()> {
        self.write()?;
        *locked(&self.cursors) = TeamCursors::default();
        Ok(())
    }
}

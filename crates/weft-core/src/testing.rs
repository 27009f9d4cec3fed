//! Helpers for tests of this crate and of the crates that use it (the `testing` feature):
//! [`wait_for`], the one way a test waits; [`Log`], a real log on a temporary file that a
//! test writes a day into, one short call per row, and then summarises; and [`SmallDisk`], a
//! tiny disk that fills up.

use crate::hold::DigestText;
use crate::machine::{Switch, INITIAL_STATE};
use crate::store::{DesktopOrigin, NewNotification, ReleaseReason, Store};
use crate::summary::{AppEvent, Period, DEFAULT_FRAGMENT_MINUTES};
use crate::Result;
use chrono::{DateTime, TimeZone, Utc};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use weft_proto::{DaySummary, Disposition, Source, State, Urgency};

/// What [`wait_for`] gives back when its condition never came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {after:?} waiting for {what}")]
pub struct TimedOut {
    /// What was waited for, as the caller said it.
    pub what: String,
    /// How long it waited.
    pub after: Duration,
}

/// Polls `probe` until it returns `Some`, or fails with [`TimedOut`] once `timeout` has passed.
/// It looks once more after the deadline, so a slow machine cannot fail a condition it met.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<T, TimedOut> {
    let deadline = Instant::now() + timeout;
    loop {
        let late = Instant::now() >= deadline;
        if let Some(value) = probe() {
            return Ok(value);
        }
        if late {
            return Err(TimedOut {
                what: what.to_owned(),
                after: timeout,
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The sentence of an [`Error::Invalid`](crate::Error::Invalid), or a line saying what came
/// instead, so a test names the refusal it expects: `assert_eq!(invalid(r), "…")`.
pub fn invalid<T: std::fmt::Debug>(result: Result<T>) -> String {
    match result {
        Err(crate::Error::Invalid(sentence)) => sentence,
        other => format!("not refused as invalid: {other:?}"),
    }
}

/// The sentence of an [`Error::Refused`](crate::Error::Refused) (the hold policy's refusal),
/// or a line saying what came instead.
pub fn refused<T: std::fmt::Debug>(result: Result<T>) -> String {
    match result {
        Err(crate::Error::Refused(sentence)) => sentence,
        other => format!("not refused by the hold policy: {other:?}"),
    }
}

/// A switch log on a temporary file, written the way the app writes it: each start and stop
/// records the last switch before it, each switch comes from the state before it.
#[derive(Debug)]
pub struct Log {
    store: Store,
    state: State,
    /// "Now" for [`Log::summary`]: ends an open block.
    now: DateTime<Utc>,
    pings: u32,
    _dir: tempfile::TempDir,
}

impl Log {
    /// An empty log, summarised as of `now`.
    pub fn new(now: DateTime<Utc>) -> Result<Log> {
        let dir = tempfile::tempdir().map_err(|e| crate::Error::io(std::env::temp_dir(), e))?;
        let store = Store::open(&dir.path().join("weft.db"))?;
        Ok(Log {
            store,
            state: INITIAL_STATE,
            now,
            pings: 0,
            _dir: dir,
        })
    }

    /// The store underneath, to read it as the app would.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Weft started.
    pub fn start(&mut self, at: DateTime<Utc>) -> Result<&mut Log> {
        self.store.record_app_event(AppEvent::Start, at)?;
        Ok(self)
    }

    /// Weft stopped (quit, or a suspend or clock step began).
    pub fn stop(&mut self, at: DateTime<Utc>) -> Result<&mut Log> {
        self.store.record_app_event(AppEvent::Stop, at)?;
        Ok(self)
    }

    /// A switch to `to`, with the intent and the stash it was given.
    pub fn switch(
        &mut self,
        at: DateTime<Utc>,
        to: State,
        intent: Option<&str>,
        stash: Option<&str>,
    ) -> Result<&mut Log> {
        self.store.record_switch(&Switch {
            at,
            from: self.state,
            to,
            source: Source::Cli,
            intent: intent.map(str::to_owned),
            stash: stash.map(str::to_owned),
            until: None,
        })?;
        self.state = to;
        Ok(self)
    }

    /// Focus on `intent`.
    pub fn focus(&mut self, at: DateTime<Utc>, intent: &str) -> Result<&mut Log> {
        self.switch(at, State::Focus, Some(intent), None)
    }

    /// Back to coordination.
    pub fn coordinate(&mut self, at: DateTime<Utc>) -> Result<&mut Log> {
        self.switch(at, State::Coordination, None, None)
    }

    /// A notification arrived and was held.
    pub fn held(&mut self, at: DateTime<Utc>) -> Result<&mut Log> {
        self.notification(at, Disposition::Held, None)
    }

    /// A critical notification broke through.
    pub fn break_through(&mut self, at: DateTime<Utc>) -> Result<&mut Log> {
        self.notification(at, Disposition::BreakThrough, None)
    }

    /// A teammate's ping arrived (and was shown).
    pub fn ping_received(&mut self, at: DateTime<Utc>) -> Result<&mut Log> {
        self.pings += 1;
        let key = format!("test/ping/{}", self.pings);
        self.notification(at, Disposition::Delivered, Some(&key))
    }

    /// Another app's notification, filed as `disposition` (held, delivered or a
    /// break-through), kept as an Inbox item.
    pub fn observed(
        &mut self,
        at: DateTime<Utc>,
        app: &str,
        disposition: Disposition,
    ) -> Result<&mut Log> {
        self.store.record_notification(&NewNotification {
            received: at,
            title: "new message",
            body: "",
            urgency: match disposition {
                Disposition::BreakThrough => Urgency::Critical,
                _ => Urgency::Normal,
            },
            from: None,
            disposition,
            shows_in_focus: false,
            opens: None,
            ping: None,
            desktop: Some(DesktopOrigin {
                app,
                server_id: None,
                copy: true,
            }),
        })?;
        Ok(self)
    }

    /// Another app's transient notification, counted as `disposition`, not kept.
    pub fn transient(
        &mut self,
        at: DateTime<Utc>,
        app: &str,
        disposition: Disposition,
    ) -> Result<&mut Log> {
        let origin = DesktopOrigin {
            app,
            server_id: None,
            copy: true,
        };
        self.store.record_transient(at, origin, disposition)?;
        Ok(self)
    }

    /// This Weft sent a ping.
    pub fn ping_sent(&mut self, at: DateTime<Utc>) -> Result<&mut Log> {
        self.store.record_ping_sent(at, "Ana", false, "delivered")?;
        Ok(self)
    }

    /// The held items were released with a digest.
    pub fn digest(&mut self, at: DateTime<Utc>) -> Result<&mut Log> {
        let text = DigestText {
            count: 1,
            summary: "1 held notification".to_owned(),
            body: String::new(),
        };
        self.store
            .release_held(at, ReleaseReason::Coordination, Some(&text))?;
        Ok(self)
    }

    /// Makes the log one from before schema 6, whose starts and stops do not say which switch
    /// came before them: switches then go to runs by time alone.
    pub fn without_positions(&mut self) -> Result<&mut Log> {
        self.store.forget_log_positions()?;
        Ok(self)
    }

    /// The summary of `period` in `zone`, read from the file as the app reads it, as of the
    /// log's "now", with the default fragment length.
    pub fn summary<Tz: TimeZone>(&self, period: Period, zone: &Tz) -> Result<Vec<DaySummary>> {
        let fragment = chrono::Duration::minutes(DEFAULT_FRAGMENT_MINUTES);
        self.store.summary(period, zone, self.now, fragment)
    }

    fn notification(
        &mut self,
        at: DateTime<Utc>,
        disposition: Disposition,
        ping: Option<&str>,
    ) -> Result<&mut Log> {
        self.store.record_notification(&NewNotification {
            received: at,
            title: "build failed",
            body: "",
            urgency: match disposition {
                Disposition::BreakThrough => Urgency::Critical,
                _ => Urgency::Normal,
            },
            from: Some("CI"),
            disposition,
            shows_in_focus: false,
            opens: None,
            ping,
            desktop: None,
        })?;
        Ok(self)
    }
}

/// The files in `dir`, by name.
pub fn names(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| crate::Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// A tiny tmpfs mounted for one test, unmounted when dropped.
pub struct SmallDisk {
    pub dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (with a note on stderr) when this process may not mount (not root, or
    /// no CAP_SYS_ADMIN in a container).
    pub fn mount() -> Result<Option<SmallDisk>> {
        let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tempdir", e))?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "weft-test-full"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let _ = writeln!(
                std::io::stderr(),
                "skipped: cannot mount a small tmpfs here (needs root); the full-disk case is not tested"
            );
            return Ok(None);
        }
        Ok(Some(SmallDisk { dir }))
    }

    /// Fills the disk: writes until the kernel says it is full.
    pub fn fill(&self) -> Result<()> {
        let path = self.dir.path().join("filler");
        let mut file = std::fs::File::create(&path).map_err(|e| crate::Error::io(&path, e))?;
        let block = [0u8; 4096];
        loop {
            match file.write_all(&block).and_then(|()| file.sync_all()) {
                Ok(()) => continue,
                Err(e) if e.raw_os_error() == Some(28) => return Ok(()),
                Err(e) => return Err(crate::Error::io(&path, e)),
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_ends_with_the_value_or_says_what_never_came() {
        let mut tries = 0;
        let found = wait_for("the third try", Duration::from_secs(5), || {
            tries += 1;
            (tries == 3).then_some(tries)
        });
        assert_eq!(found, Ok(3));
        let never = wait_for("nothing", Duration::from_millis(20), || None::<()>);
        assert_eq!(
            never.map_err(|e| e.to_string()),
            Err("timed out after 20ms waiting for nothing".to_owned())
        );
    }
}

//! The durable switch log: one SQLite file in WAL mode with `synchronous = FULL`, so a switch
//! that [`Store::record_switch`] returned from survives a crash or a power cut.
//!
//! One [`Store`] owns the connection (the app's dispatcher holds it behind a mutex). The CLI
//! opens the same file read-only. A file that is not a database is set aside, renamed and
//! never overwritten, by [`open_or_set_aside`]; a file from a newer Weft is refused untouched.

mod facts;
mod migrations;
mod notifications;
mod period;

pub use crate::summary::AppEvent;
pub use facts::{Facts, TeamCursors};
pub use migrations::SCHEMA_VERSION;
pub use notifications::{
    DesktopOrigin, NewNotification, Popup, PopupKey, ReleaseReason, Released, Replaced,
};

use crate::machine::Switch;
use crate::time::{from_ms, to_ms};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a writer waits for a lock held by another connection (e.g. a reading CLI).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The switch log.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// A store opened by [`open_or_set_aside`], and what had to be done to open it.
#[derive(Debug)]
pub struct Opened {
    pub store: Store,
    /// Set when the old file was unreadable and was renamed to this path.
    pub set_aside: Option<SetAside>,
}

/// A corrupt database file that was moved out of the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub moved_to: PathBuf,
    pub reason: String,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            // The log is personal: its folder is private to the user when Weft creates it.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|cause| Error::DataDirUnwritable {
                    path: dir.to_owned(),
                    cause,
                })?;
        }
        let conn = Connection::open(path).map_err(|e| classify(path, e))?;
        // The log is personal: owner-only, whatever the umask. SQLite gives the -wal and -shm
        // files the database file's mode.
        let private = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(path, private).map_err(|e| Error::io(path, e))?;
        Store::prepare(conn, path)
    }

    /// Runs `write` waiting at most `limit` (at most the usual five seconds) for another
    /// connection's write lock, so a write never outlives the deadline of the request behind it.
    pub fn within<T>(
        &mut self,
        limit: Option<Duration>,
        write: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<T> {
        let Some(limit) = limit else {
            return write(self);
        };
        let path = self.path.clone();
        self.conn
            .busy_timeout(limit.min(BUSY_TIMEOUT))
            .map_err(|e| classify(&path, e))?;
        let written = write(self);
        let restored = self.conn.busy_timeout(BUSY_TIMEOUT);
        let written = written?;
        restored.map_err(|e| classify(&path, e))?;
        Ok(written)
    }

    /// The database file, or `None` for a store in memory.
    pub fn path(&self) -> Option<&Path> {
        (self.path != Path::new(":memory:")).then_some(self.path.as_path())
    }

    /// A private in-memory store, for tests.
    pub fn open_in_memory() -> Result<Store> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| classify(&path, e))?;
        Store::prepare(conn, &path)
    }

    /// Opens an existing database for reading only: it is never created, migrated or written.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(Error::NoDatabase {
                path: path.to_owned(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(path, e))?;
        let found = migrations::version(&conn).map_err(|e| classify(path, e))?;
        if found > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(Error::Invalid(format!(
                "the database {} has schema version {found}; start the Weft app once to upgrade it to {SCHEMA_VERSION}",
                path.display()
            )));
        }
        Ok(Store {
            conn,
            path: path.to_owned(),
        })
    }

    fn prepare(mut conn: Connection, path: &Path) -> Result<Store> {
        let fail = |e| classify(path, e);
        conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        // Read the version before anything writes: a file from a newer Weft must stay exactly
        // as it is, and a file that is not a database fails here.
        let found = migrations::version(&conn).map_err(fail)?;
        if found > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(fail)?;
        if mode != "wal" && path != Path::new(":memory:") {
            log::warn!("{}: journal mode is {mode}, not wal", path.display());
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(fail)?;
        match migrations::migrate(&mut conn).map_err(fail)? {
            migrations::Outcome::Migrated { .. } => {}
            migrations::Outcome::TooNew { found } => {
                return Err(Error::NewerSchema {
                    path: path.to_owned(),
                    found,
                    supported: SCHEMA_VERSION,
                })
            }
        }
        Ok(Store {
            conn,
            path: path.to_owned(),
        })
    }

    /// Appends a switch and commits it. When this returns `Ok`, the switch is durable.
    pub fn record_switch(&mut self, switch: &Switch) -> Result<()> {
        self.record_switches(std::slice::from_ref(switch))
    }

    /// Appends switches in one transaction (one for a switch; many for imports, seeding and
    /// benchmarks). When this returns `Ok`, they are durable.
    pub fn record_switches(&mut self, switches: &[Switch]) -> Result<()> {
        let path = self.path.clone();
        let fail = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO switches
                         (at_ms, from_state, to_state, source, intent, stash, planned_until_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(fail)?;
            for s in switches {
                insert
                    .execute(params![
                        to_ms(s.at),
                        s.from.as_str(),
                        s.to.as_str(),
                        s.source.as_str(),
                        s.intent,
                        s.stash,
                        s.until.map(to_ms),
                    ])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// The most recent switch, if any.
    pub fn last_switch(&self) -> Result<Option<Switch>> {
        self.conn
            .query_row(
                // By id, not time: if the clock was stepped back, the last row written is
                // still the state Weft was in.
                &format!("SELECT {SWITCH_COLUMNS} FROM switches ORDER BY id DESC LIMIT 1"),
                [],
                read_switch,
            )
            .optional()
            .map_err(|e| classify(&self.path, e))
    }

    /// Switches at or after `since` (all when `None`), in the order they were made.
    pub fn switches(&self, since: Option<DateTime<Utc>>) -> Result<Vec<Switch>> {
        let fail = |e| classify(&self.path, e);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SWITCH_COLUMNS} FROM switches WHERE at_ms >= ?1 ORDER BY id"
            ))
            .map_err(fail)?;
        let since = since.map(to_ms).unwrap_or(i64::MIN);
        let rows = stmt.query_map([since], read_switch).map_err(fail)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(fail)
    }

    /// What a summary of `[from, to)` reads: the switches and start/stop events in it (with
    /// the last of each before it), and when notifications were held, digests made and
    /// break-throughs shown. Uses the time indexes: a day reads only its own rows.
    pub fn history(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<crate::summary::History> {
        let fail = |e| classify(&self.path, e);
        let (lo, hi) = (to_ms(from), to_ms(to));
        // Rows in log order (id), each with its log position: see `summary::History`.
        let mut switches: Vec<Switch> = Vec::new();
        let mut switch_ids: Vec<i64> = Vec::new();
        let with_id = |row: &Row<'_>| Ok((read_switch(row)?, row.get::<_, i64>(7)?));
        {
            let mut before = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {SWITCH_COLUMNS}, id FROM switches WHERE at_ms < ?1
                     ORDER BY at_ms DESC, id DESC LIMIT 1"
                ))
                .map_err(fail)?;
            if let Some((s, id)) = before.query_row([lo], with_id).optional().map_err(fail)? {
                switches.push(s);
                switch_ids.push(id);
            }
            let mut within = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {SWITCH_COLUMNS}, id FROM switches WHERE at_ms >= ?1 AND at_ms < ?2
                     ORDER BY id"
                ))
                .map_err(fail)?;
            let rows = within.query_map([lo, hi], with_id).map_err(fail)?;
            for row in rows {
                let (s, id) = row.map_err(fail)?;
                switches.push(s);
                switch_ids.push(id);
            }
        }
        let mut events = Vec::new();
        let mut event_after = Vec::new();
        let with_after = |row: &Row<'_>| Ok((read_event(row)?, row.get::<_, Option<i64>>(2)?));
        {
            let mut before = self
                .conn
                .prepare_cached(
                    "SELECT at_ms, kind, last_switch FROM app_events WHERE at_ms < ?1
                     ORDER BY at_ms DESC, id DESC LIMIT 1",
                )
                .map_err(fail)?;
            if let Some((e, after)) = before
                .query_row([lo], with_after)
                .optional()
                .map_err(fail)?
            {
                events.push(e);
                event_after.push(after);
            }
            let mut within = self
                .conn
                .prepare_cached(
                    "SELECT at_ms, kind, last_switch FROM app_events WHERE at_ms >= ?1 AND at_ms < ?2
                     ORDER BY id",
                )
                .map_err(fail)?;
            let rows = within.query_map([lo, hi], with_after).map_err(fail)?;
            for row in rows {
                let (e, after) = row.map_err(fail)?;
                events.push(e);
                event_after.push(after);
            }
        }
        let times = |sql: &str| -> Result<Vec<DateTime<Utc>>> {
            let mut stmt = self.conn.prepare_cached(sql).map_err(fail)?;
            let rows = stmt
                .query_map([lo, hi], |r| Ok(from_ms(r.get(0)?)))
                .map_err(fail)?;
            rows.collect::<rusqlite::Result<_>>().map_err(fail)
        };
        Ok(crate::summary::History {
            switches,
            switch_ids,
            events,
            event_after,
            held: times(
                "SELECT received_ms FROM notifications WHERE received_ms >= ?1 AND received_ms < ?2
                 AND state IN ('held', 'released')
                 UNION ALL
                 SELECT at_ms FROM transients WHERE at_ms >= ?1 AND at_ms < ?2 AND state = 'held'",
            )?,
            digests: times("SELECT at_ms FROM digests WHERE at_ms >= ?1 AND at_ms < ?2")?,
            break_throughs: times(
                "SELECT received_ms FROM notifications WHERE received_ms >= ?1 AND received_ms < ?2
                 AND state = 'break_through'
                 UNION ALL
                 SELECT at_ms FROM transients WHERE at_ms >= ?1 AND at_ms < ?2
                 AND state = 'break_through'",
            )?,
            by_app: self.by_app(lo, hi)?,
            pings_sent: times("SELECT at_ms FROM pings_sent WHERE at_ms >= ?1 AND at_ms < ?2")?,
            pings_received: times(
                "SELECT received_ms FROM notifications WHERE received_ms >= ?1 AND received_ms < ?2
                 AND ping_key IS NOT NULL",
            )?,
        })
    }

    /// Other apps' notifications held or broken through in `[lo, hi)` (ms), kept or transient:
    /// when, which app, and whether it broke through.
    fn by_app(&self, lo: i64, hi: i64) -> Result<Vec<crate::summary::AppNotification>> {
        let fail = |e| classify(&self.path, e);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT received_ms, app, state = 'break_through' FROM notifications
                 WHERE received_ms >= ?1 AND received_ms < ?2 AND source = 'desktop'
                 AND app IS NOT NULL AND state IN ('held', 'released', 'break_through')
                 UNION ALL
                 SELECT at_ms, app, state = 'break_through' FROM transients
                 WHERE at_ms >= ?1 AND at_ms < ?2 AND state IN ('held', 'break_through')",
            )
            .map_err(fail)?;
        let rows = stmt
            .query_map([lo, hi], |r| {
                Ok(crate::summary::AppNotification {
                    at: from_ms(r.get(0)?),
                    app: r.get(1)?,
                    broke_through: r.get(2)?,
                })
            })
            .map_err(fail)?;
        rows.collect::<rusqlite::Result<_>>().map_err(fail)
    }

    /// The most recent stash note, if any was ever written.
    pub fn last_stash(&self) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT stash FROM switches WHERE stash IS NOT NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| classify(&self.path, e))
    }

    /// Logs the app's own start or stop.
    pub fn record_app_event(&mut self, event: AppEvent, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO app_events (at_ms, kind, version, last_switch)
                 VALUES (?1, ?2, ?3, (SELECT max(id) FROM switches))",
                params![to_ms(at), event.as_str(), env!("CARGO_PKG_VERSION")],
            )
            .map(drop)
            .map_err(|e| classify(&self.path, e))
    }

    /// The app's most recent start or stop.
    pub fn last_app_event(&self) -> Result<Option<(DateTime<Utc>, AppEvent)>> {
        self.conn
            .query_row(
                "SELECT at_ms, kind FROM app_events ORDER BY id DESC LIMIT 1",
                [],
                read_event,
            )
            .optional()
            .map_err(|e| classify(&self.path, e))
    }

    /// The app's logged starts and stops, oldest first.
    pub fn app_events(&self) -> Result<Vec<(DateTime<Utc>, AppEvent)>> {
        let fail = |e| classify(&self.path, e);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT at_ms, kind FROM app_events ORDER BY id")
            .map_err(fail)?;
        let rows = stmt.query_map([], read_event).map_err(fail)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(fail)
    }
}

fn read_switch(row: &Row<'_>) -> rusqlite::Result<Switch> {
    fn parse<T: std::str::FromStr>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        let text: String = row.get(idx)?;
        text.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
        })
    }
    Ok(Switch {
        at: from_ms(row.get(0)?),
        from: parse(row, 1)?,
        to: parse(row, 2)?,
        source: parse(row, 3)?,
        intent: row.get(4)?,
        stash: row.get(5)?,
        until: row.get::<_, Option<i64>>(6)?.map(from_ms),
    })
}

/// Reads `at_ms, kind` from `app_events`.
fn read_event(row: &Row<'_>) -> rusqlite::Result<(DateTime<Utc>, AppEvent)> {
    let kind: String = row.get(1)?;
    let event = if kind == "stop" {
        AppEvent::Stop
    } else {
        AppEvent::Start
    };
    Ok((from_ms(row.get(0)?), event))
}

/// The columns [`read_switch`] reads, in its order.
const SWITCH_COLUMNS: &str = "at_ms, from_state, to_state, source, intent, stash, planned_until_ms";

/// Turns SQLite's "this is not a database" family into [`Error::Corrupt`].
fn classify(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Error::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        },
        _ => Error::Sqlite {
            path: path.to_owned(),
            cause: e,
        },
    }
}

/// Opens the database; if the file is unreadable as a database, renames it (with its `-wal`
/// and `-shm` companions) to `NAME.corrupt-TIMESTAMP` and starts a new one. Nothing is deleted
/// and an existing file is never overwritten.
pub fn open_or_set_aside(path: &Path, now: DateTime<Utc>) -> Result<Opened> {
    // Reading the last switch is what start-up does next: damage there counts as unreadable.
    match Store::open(path).and_then(|store| store.last_switch().map(|_| store)) {
        Ok(store) => Ok(Opened {
            store,
            set_aside: None,
        }),
        Err(Error::Corrupt { reason, .. }) => {
            let moved_to = set_aside(path, now)?;
            log::error!(
                "{} is not a readable database ({reason}); it was moved to {} and a new log was started",
                path.display(),
                moved_to.display()
            );
            let store = Store::open(path)?;
            Ok(Opened {
                store,
                set_aside: Some(SetAside { moved_to, reason }),
            })
        }
        Err(other) => Err(other),
    }
}

fn set_aside(path: &Path, now: DateTime<Utc>) -> Result<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "weft.db".into());
    let target = crate::paths::aside_name(path, "corrupt", now)?;
    for companion in ["-wal", "-shm"] {
        let from = path.with_file_name(format!("{name}{companion}"));
        if from.exists() {
            let to = target.with_file_name(format!(
                "{}{companion}",
                target
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            ));
            std::fs::rename(&from, &to).map_err(|e| Error::io(&from, e))?;
        }
    }
    std::fs::rename(path, &target).map_err(|e| Error::io(path, e))?;
    Ok(target)
}

#[cfg(test)]
mod tests;

//! The small facts the app keeps across a crash, in the `app_state` table: one typed accessor
//! each, so no caller spells a key or parses a value. The keys and their text forms are those
//! of earlier versions, so a database written by them reads the same.

use super::{classify, Store};
use crate::time::{from_ms, to_ms};
use crate::Result;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// The `app_state` keys. Private: every read and write goes through [`Facts`].
#[derive(Debug, Clone, Copy)]
enum Key {
    /// The last heartbeat, Unix milliseconds.
    Alive,
    /// The desktop's do-not-disturb setting saved when focus began (the quiet worker's text).
    QuietDesktop,
    /// The last sequence number given to a shared status.
    TeamSeq,
    /// The id of the last teammate's ping committed.
    PingCursor,
    /// The sync server database's id that the ping cursor belongs to.
    TeamInstance,
}

impl Key {
    fn as_str(self) -> &'static str {
        match self {
            Key::Alive => "alive",
            Key::QuietDesktop => "quiet_desktop",
            Key::TeamSeq => "team.seq",
            Key::PingCursor => "team.ping_cursor",
            Key::TeamInstance => "team.instance",
        }
    }
}

/// Where the team client stands with its server, as last committed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamCursors {
    /// The last sequence number used for a shared status (0: none yet).
    pub seq: u64,
    /// The id of the last ping committed (0: none yet); the live stream resumes after it.
    pub ping_cursor: i64,
    /// The server database's id the ping cursor belongs to, once a snapshot gave it.
    pub instance: Option<String>,
}

/// Typed access to the remembered facts, on the store's writing connection.
pub struct Facts<'a> {
    store: &'a mut Store,
}

impl Store {
    /// The facts kept across crashes.
    pub fn facts(&mut self) -> Facts<'_> {
        Facts { store: self }
    }
}

impl Facts<'_> {
    fn get(&self, key: Key) -> Result<Option<String>> {
        self.store
            .conn
            .query_row(
                "SELECT value FROM app_state WHERE key = ?1",
                [key.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| classify(&self.store.path, e))
    }

    fn set(&mut self, key: Key, value: Option<&str>) -> Result<()> {
        set(&self.store.conn, key, value).map_err(|e| classify(&self.store.path, e))
    }

    /// A number kept as text; a value that is not one reads as absent (it was never written
    /// by Weft), so the caller starts afresh rather than failing every time.
    fn number<T: std::str::FromStr>(&self, key: Key) -> Result<Option<T>> {
        Ok(self.get(key)?.and_then(|text| {
            let parsed = text.parse().ok();
            if parsed.is_none() {
                log::warn!(
                    "the remembered {} {text:?} is not a number; ignored",
                    key.as_str()
                );
            }
            parsed
        }))
    }

    /// The last heartbeat (see `Weft::heartbeat`), if any.
    pub fn alive(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self.number::<i64>(Key::Alive)?.map(from_ms))
    }

    /// Notes the app alive at `at`.
    pub fn set_alive(&mut self, at: DateTime<Utc>) -> Result<()> {
        self.set(Key::Alive, Some(&to_ms(at).to_string()))
    }

    /// The desktop setting saved when focus silenced it, to give back at coordination.
    pub fn quiet_desktop(&self) -> Result<Option<String>> {
        self.get(Key::QuietDesktop)
    }

    /// Saves (or, with `None`, forgets) the desktop setting to give back.
    pub fn set_quiet_desktop(&mut self, saved: Option<&str>) -> Result<()> {
        self.set(Key::QuietDesktop, saved)
    }

    /// The team client's cursors.
    pub fn team_cursors(&self) -> Result<TeamCursors> {
        Ok(TeamCursors {
            seq: self.number(Key::TeamSeq)?.unwrap_or(0),
            ping_cursor: self.number(Key::PingCursor)?.unwrap_or(0),
            instance: self.get(Key::TeamInstance)?,
        })
    }

    /// The next sequence number for a shared status, committed before it is returned, so a
    /// crash never sends two statuses with one number. One statement: two threads (or two
    /// connections) never get the same number.
    pub fn next_team_seq(&mut self) -> Result<u64> {
        let next: i64 = self
            .store
            .conn
            .query_row(
                "INSERT INTO app_state (key, value) VALUES (?1, '1')
                 ON CONFLICT (key) DO UPDATE
                     SET value = CAST(max(coalesce(CAST(value AS INTEGER), 0), 0) + 1 AS TEXT)
                 RETURNING CAST(value AS INTEGER)",
                [Key::TeamSeq.as_str()],
                |r| r.get(0),
            )
            .map_err(|e| classify(&self.store.path, e))?;
        // At least 1 by the statement: a stored value below zero counts from zero.
        Ok(u64::try_from(next).unwrap_or(1))
    }

    /// Raises the sequence number to at least `seq` (the server has a newer one: this log was
    /// replaced); never lowers it. One statement.
    pub fn raise_team_seq(&mut self, seq: u64) -> Result<()> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.store
            .conn
            .execute(
                "INSERT INTO app_state (key, value) VALUES (?1, CAST(?2 AS TEXT))
                 ON CONFLICT (key) DO UPDATE
                     SET value = CAST(max(coalesce(CAST(value AS INTEGER), 0), ?2) AS TEXT)",
                params![Key::TeamSeq.as_str(), seq],
            )
            .map(drop)
            .map_err(|e| classify(&self.store.path, e))
    }

    /// Notes the last ping committed.
    pub fn set_ping_cursor(&mut self, id: i64) -> Result<()> {
        self.set(Key::PingCursor, Some(&id.to_string()))
    }

    /// The server's database is `instance`: a new one restarts the ping cursor. One
    /// transaction, so a crash never leaves a new instance with an old cursor.
    pub fn set_team_instance(&mut self, instance: &str) -> Result<()> {
        self.in_transaction(&[(Key::TeamInstance, Some(instance)), (Key::PingCursor, None)])
    }

    /// A new membership starts its sequence and its pings afresh. One transaction.
    pub fn reset_team_cursors(&mut self) -> Result<()> {
        self.in_transaction(&[
            (Key::TeamSeq, None),
            (Key::PingCursor, None),
            (Key::TeamInstance, None),
        ])
    }

    /// Writes (or forgets) several facts at once: all of them, or none. A transaction that
    /// cannot commit is rolled back when it is dropped, so the connection is never left inside
    /// one.
    fn in_transaction(&mut self, writes: &[(Key, Option<&str>)]) -> Result<()> {
        let path = self.store.path.clone();
        let fail = |e| classify(&path, e);
        let tx = self
            .store
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        for (key, value) in writes {
            set(&tx, *key, *value).map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }
}

/// Writes `value` under `key`, or forgets the key with `None`.
fn set(conn: &Connection, key: Key, value: Option<&str>) -> rusqlite::Result<()> {
    match value {
        Some(value) => conn.execute(
            "INSERT INTO app_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key.as_str(), value],
        ),
        None => conn.execute("DELETE FROM app_state WHERE key = ?1", [key.as_str()]),
    }
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn store() -> Result<(tempfile::TempDir, Store)> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let store = Store::open(&dir.path().join("weft.db"))?;
        Ok((dir, store))
    }

    #[test]
    fn each_fact_reads_back_what_was_written_and_survives_a_reopen() -> Result<()> {
        let (dir, mut store) = store()?;
        let at = from_ms(1_764_000_000_123);
        assert_eq!(store.facts().alive()?, None);
        store.facts().set_alive(at)?;
        store
            .facts()
            .set_quiet_desktop(Some("dunst:paused=false"))?;
        store.facts().set_team_instance("db-1")?;
        store.facts().set_ping_cursor(42)?;
        drop(store);
        let mut store = Store::open(&dir.path().join("weft.db"))?;
        assert_eq!(store.facts().alive()?, Some(at));
        assert_eq!(
            store.facts().quiet_desktop()?.as_deref(),
            Some("dunst:paused=false")
        );
        store.facts().set_quiet_desktop(None)?;
        assert_eq!(store.facts().quiet_desktop()?, None);
        assert_eq!(
            store.facts().team_cursors()?,
            TeamCursors {
                seq: 0,
                ping_cursor: 42,
                instance: Some("db-1".into()),
            }
        );
        Ok(())
    }

    #[test]
    fn sequence_numbers_count_up_and_are_raised_never_lowered() -> Result<()> {
        let (_dir, mut store) = store()?;
        assert_eq!(store.facts().next_team_seq()?, 1);
        assert_eq!(store.facts().next_team_seq()?, 2);
        store.facts().raise_team_seq(10)?;
        assert_eq!(store.facts().next_team_seq()?, 11);
        store.facts().raise_team_seq(3)?;
        assert_eq!(store.facts().team_cursors()?.seq, 11);
        store.facts().reset_team_cursors()?;
        assert_eq!(store.facts().team_cursors()?, TeamCursors::default());
        Ok(())
    }

    #[test]
    fn two_connections_never_get_the_same_sequence_number() -> Result<()> {
        let (dir, _store) = store()?;
        let path = dir.path().join("weft.db");
        let numbers = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| -> Result<Vec<u64>> {
                        let mut store = Store::open(&path)?;
                        (0..50).map(|_| store.facts().next_team_seq()).collect()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|_| Ok(Vec::new())))
                .collect::<Result<Vec<_>>>()
        })?;
        let mut all: Vec<u64> = numbers.into_iter().flatten().collect();
        all.sort_unstable();
        assert_eq!(all, (1..=100).collect::<Vec<u64>>());
        Ok(())
    }

    #[test]
    fn a_new_server_instance_restarts_the_ping_cursor() -> Result<()> {
        let (_dir, mut store) = store()?;
        store.facts().set_team_instance("db-1")?;
        store.facts().set_ping_cursor(7)?;
        store.facts().set_team_instance("db-2")?;
        let cursors = store.facts().team_cursors()?;
        assert_eq!(cursors.ping_cursor, 0);
        assert_eq!(cursors.instance.as_deref(), Some("db-2"));
        Ok(())
    }

    #[test]
    fn a_value_that_is_not_a_number_reads_as_absent() -> Result<()> {
        let (_dir, mut store) = store()?;
        store.facts().set(Key::TeamSeq, Some("garbage"))?;
        assert_eq!(store.facts().team_cursors()?.seq, 0);
        assert_eq!(store.facts().next_team_seq()?, 1);
        // Below zero (never written by Weft): the next number is still one the server takes.
        store.facts().set(Key::TeamSeq, Some("-5"))?;
        assert_eq!(store.facts().next_team_seq()?, 1);
        Ok(())
    }
}

//! Versioned schema migrations, run by `rusqlite_migration` on `PRAGMA user_version` (the
//! runner weft-sync's store uses too). The migrations a file lacks run in one transaction
//! together with the bump of `PRAGMA user_version`, so a crash or a failing step leaves the
//! schema at the version it had, never in between. A database from a newer Weft is refused
//! and left untouched.

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only; never edit.
const MIGRATIONS: &[&str] = &[
    // 1: the switch log and the app's own start/stop events (for untracked time).
    "CREATE TABLE switches (
        id         INTEGER PRIMARY KEY,
        at_ms      INTEGER NOT NULL,
        from_state TEXT    NOT NULL CHECK (from_state IN ('focus', 'coordination')),
        to_state   TEXT    NOT NULL CHECK (to_state IN ('focus', 'coordination')),
        source     TEXT    NOT NULL,
        intent     TEXT
    );
    CREATE INDEX switches_at ON switches (at_ms);
    CREATE TABLE app_events (
        id      INTEGER PRIMARY KEY,
        at_ms   INTEGER NOT NULL,
        kind    TEXT    NOT NULL CHECK (kind IN ('start', 'stop')),
        version TEXT    NOT NULL
    );
    CREATE INDEX app_events_at ON app_events (at_ms);",
    // 2: notifications through the hold policy, the digests that released them, and the
    //    popups still owed to the desktop (retried until the desktop takes them).
    "CREATE TABLE digests (
        id          INTEGER PRIMARY KEY,
        at_ms       INTEGER NOT NULL,
        reason      TEXT    NOT NULL CHECK (reason IN ('coordination', 'release_time')),
        count       INTEGER NOT NULL,
        summary     TEXT    NOT NULL,
        body        TEXT    NOT NULL,
        owed        INTEGER NOT NULL CHECK (owed IN (0, 1)),
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        shown_ms    INTEGER
    );
    CREATE TABLE notifications (
        id          INTEGER PRIMARY KEY,
        received_ms INTEGER NOT NULL,
        title       TEXT    NOT NULL,
        body        TEXT    NOT NULL,
        urgency     TEXT    NOT NULL CHECK (urgency IN ('low', 'normal', 'critical')),
        sender      TEXT,
        state       TEXT    NOT NULL
                    CHECK (state IN ('held', 'released', 'delivered', 'break_through')),
        digest_id   INTEGER REFERENCES digests (id),
        released_ms INTEGER,
        owed        INTEGER NOT NULL CHECK (owed IN (0, 1)),
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        shown_ms    INTEGER
    );
    CREATE INDEX notifications_held ON notifications (state) WHERE state = 'held';
    CREATE INDEX notifications_owed ON notifications (owed) WHERE owed = 1;
    CREATE INDEX digests_owed ON digests (owed) WHERE owed = 1;",
    // 3: small facts the app must remember across a crash, e.g. a desktop setting it changed
    //    and owes a restore.
    "CREATE TABLE app_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    // 4: a stash note on the switch that left focus, the planned end of a focus block,
    //    Weft's own notes that show during focus (the stash shown again when focus resumes),
    //    and the view a notification opens when clicked (the end-of-day notice opens Today).
    "ALTER TABLE switches ADD COLUMN stash TEXT;
     ALTER TABLE switches ADD COLUMN planned_until_ms INTEGER;
     ALTER TABLE notifications ADD COLUMN shows_in_focus INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE notifications ADD COLUMN opens TEXT;
     CREATE INDEX notifications_received ON notifications (received_ms);
     CREATE INDEX digests_at ON digests (at_ms);",
    // 5: teams. A teammate's ping is a notification with a key (server, team, ping id), unique
    //    so a ping relayed twice is filed once; pings this Weft sent, for the summary.
    "ALTER TABLE notifications ADD COLUMN ping_key TEXT;
     CREATE UNIQUE INDEX notifications_ping ON notifications (ping_key) WHERE ping_key IS NOT NULL;
     CREATE TABLE pings_sent (
        id        INTEGER PRIMARY KEY,
        at_ms     INTEGER NOT NULL,
        recipient TEXT    NOT NULL,
        urgent    INTEGER NOT NULL CHECK (urgent IN (0, 1)),
        outcome   TEXT    NOT NULL
     );
     CREATE INDEX pings_sent_at ON pings_sent (at_ms);",
    // 6: where each start and stop sits among the switches (the id of the last switch logged
    //    before it), so runs and their switches are told apart by log order even when a clock
    //    set back made two runs share wall-clock time.
    "ALTER TABLE app_events ADD COLUMN last_switch INTEGER;",
    // 7: other apps' notifications, seen on the session bus. Each notification says who sent
    //    it (`source`: Weft itself, a teammate's ping, or another app on the desktop) and which
    //    app (`app`, NULL for Weft's own); a desktop one keeps the id the notification server
    //    gave it (`server_id`), so a `replaces_id` updates it and a `CloseNotification` can
    //    name it. A transient one (the `transient` hint) is counted, not kept: one row of app,
    //    time, disposition and server id, no text, in `transients`.
    "ALTER TABLE notifications ADD COLUMN app TEXT;
     ALTER TABLE notifications ADD COLUMN source TEXT NOT NULL DEFAULT 'weft'
        CHECK (source IN ('weft', 'ping', 'desktop'));
     ALTER TABLE notifications ADD COLUMN server_id INTEGER;
     UPDATE notifications SET source = 'ping' WHERE ping_key IS NOT NULL;
     CREATE INDEX notifications_server ON notifications (server_id) WHERE server_id IS NOT NULL;
     CREATE TABLE transients (
        id     INTEGER PRIMARY KEY,
        at_ms  INTEGER NOT NULL,
        app    TEXT    NOT NULL,
        state  TEXT    NOT NULL CHECK (state IN ('held', 'delivered', 'break_through')),
        server_id INTEGER
     );
     CREATE INDEX transients_at ON transients (at_ms);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// What [`migrate`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The schema was at `from` and is now at [`SCHEMA_VERSION`].
    Migrated { from: i64 },
    /// The file carries a newer schema than this build knows.
    TooNew { found: i64 },
}

/// Brings the schema up to [`SCHEMA_VERSION`] in one transaction.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<Outcome> {
    let from = version(conn)?;
    if from > SCHEMA_VERSION {
        return Ok(Outcome::TooNew { found: from });
    }
    migrations().to_latest(conn).map_err(sqlite_error)?;
    Ok(Outcome::Migrated { from })
}

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().copied().map(M::up).collect())
}

/// The SQLite error behind a failed migration, so the caller tells a locked, full or corrupt
/// file apart as for any other statement. The runner's own refusals (only a negative version,
/// which no Weft writes, gets one: the runner reads it as too far ahead) become a plain SQLite
/// error with the runner's sentence.
fn sqlite_error(error: rusqlite_migration::Error) -> rusqlite::Error {
    match error {
        rusqlite_migration::Error::RusqliteError { err, .. } => err,
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

/// The schema version stored in a database.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_new_database_to_the_latest_version() -> rusqlite::Result<()> {
        let mut conn = Connection::open_in_memory()?;
        assert_eq!(migrate(&mut conn)?, Outcome::Migrated { from: 0 });
        assert_eq!(version(&conn)?, SCHEMA_VERSION);
        assert_eq!(
            migrate(&mut conn)?,
            Outcome::Migrated {
                from: SCHEMA_VERSION
            },
            "a second run is a no-op"
        );
        let tables: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'
             AND name IN ('switches', 'app_events', 'notifications', 'digests', 'app_state')",
            [],
            |r| r.get(0),
        )?;
        assert_eq!(tables, 5);
        Ok(())
    }

    #[test]
    fn a_version_1_database_keeps_its_switches_through_migration_2() -> rusqlite::Result<()> {
        let mut conn = Connection::open_in_memory()?;
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[0])?;
        tx.pragma_update(None, "user_version", 1)?;
        tx.commit()?;
        conn.execute(
            "INSERT INTO switches (at_ms, from_state, to_state, source) VALUES (1, 'coordination', 'focus', 'cli')",
            [],
        )?;
        assert_eq!(migrate(&mut conn)?, Outcome::Migrated { from: 1 });
        let kept: i64 = conn.query_row("SELECT count(*) FROM switches", [], |r| r.get(0))?;
        assert_eq!(kept, 1);
        assert_eq!(version(&conn)?, SCHEMA_VERSION);
        Ok(())
    }

    #[test]
    fn a_failed_migration_leaves_the_version_unchanged() -> rusqlite::Result<()> {
        let mut conn = Connection::open_in_memory()?;
        // A table in the way makes migration 1 fail half-way through its batch.
        conn.execute_batch("CREATE TABLE app_events (x INTEGER)")?;
        let failed = migrate(&mut conn);
        assert!(
            matches!(&failed, Err(rusqlite::Error::SqlInputError { msg, .. }) if msg == "table app_events already exists"),
            "{failed:?}"
        );
        assert_eq!(version(&conn)?, 0);
        let switches: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'switches'",
            [],
            |r| r.get(0),
        )?;
        assert_eq!(switches, 0, "the half-run migration was rolled back");
        Ok(())
    }

    #[test]
    fn a_newer_schema_is_reported_not_touched() -> rusqlite::Result<()> {
        let mut conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 5)?;
        assert_eq!(
            migrate(&mut conn)?,
            Outcome::TooNew {
                found: SCHEMA_VERSION + 5
            }
        );
        assert_eq!(version(&conn)?, SCHEMA_VERSION + 5);
        Ok(())
    }

    #[test]
    fn a_version_6_database_keeps_its_notifications_and_names_its_pings() -> rusqlite::Result<()> {
        let mut conn = Connection::open_in_memory()?;
        migrations()
            .to_version(&mut conn, 6)
            .map_err(sqlite_error)?;
        conn.execute_batch(
            "INSERT INTO notifications (received_ms, title, body, urgency, sender, state, owed)
                 VALUES (1, 'build failed', '', 'normal', 'CI', 'held', 0);
             INSERT INTO notifications
                 (received_ms, title, body, urgency, sender, state, owed, ping_key)
                 VALUES (2, 'lunch?', '', 'normal', 'Ana', 'delivered', 1, 's/t/1');",
        )?;
        assert_eq!(migrate(&mut conn)?, Outcome::Migrated { from: 6 });
        let rows: Vec<(String, String, Option<String>, Option<i64>)> = conn
            .prepare("SELECT title, source, app, server_id FROM notifications ORDER BY id")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        assert_eq!(
            rows,
            [
                ("build failed".to_owned(), "weft".to_owned(), None, None),
                ("lunch?".to_owned(), "ping".to_owned(), None, None)
            ]
        );
        let refused = conn.execute(
            "INSERT INTO notifications (received_ms, title, body, urgency, state, owed, source)
             VALUES (3, 't', '', 'normal', 'held', 0, 'mail')",
            [],
        );
        assert!(
            matches!(&refused, Err(e) if e.to_string().contains("CHECK constraint failed")),
            "{refused:?}"
        );
        Ok(())
    }

    /// A database's schema and version, as text to compare.
    fn dump(conn: &Connection) -> rusqlite::Result<Vec<String>> {
        let mut rows: Vec<String> = conn
            .prepare("SELECT type || ' ' || name || ': ' || ifnull(sql, '') FROM sqlite_master ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.push(format!("version {}", version(conn)?));
        Ok(rows)
    }

    #[test]
    fn a_file_made_by_each_old_version_opens_as_a_new_one() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let fresh = super::super::Store::open(&dir.path().join("new.db"))?;
        drop(fresh);
        let expected = dump(&Connection::open(dir.path().join("new.db"))?)?;
        for old in 0..SCHEMA_VERSION {
            // The SQL a Weft of that version ran, so the file it left, with a switch once
            // there is a table for one.
            let path = dir.path().join(format!("v{old}.db"));
            let mut conn = Connection::open(&path)?;
            migrations().to_version(&mut conn, old as usize)?;
            if old >= 1 {
                conn.execute(
                    "INSERT INTO switches (at_ms, from_state, to_state, source) VALUES (1, 'coordination', 'focus', 'cli')",
                    [],
                )?;
            }
            drop(conn);
            let store = super::super::Store::open(&path)?;
            drop(store);
            let conn = Connection::open(&path)?;
            assert_eq!(dump(&conn)?, expected, "from version {old}");
            let switches: i64 =
                conn.query_row("SELECT count(*) FROM switches", [], |r| r.get(0))?;
            assert_eq!(switches, i64::from(old >= 1), "from version {old}");
        }
        Ok(())
    }
}

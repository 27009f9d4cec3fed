//! The SQLite [`Store`]: one connection, WAL, versioned atomic migrations.
//!
//! Each migration runs in one transaction together with its `PRAGMA user_version` bump. A file
//! that is not a database, or one from a newer weft-sync, is refused with a clear error and
//! never written to.

use super::{Loaded, MemberRecord, NewPing, PingRecord, Store, TeamRecord};
use crate::error::Error;
use crate::validate::{name_key, ValidStatus};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use std::path::Path;
use weft_proto::State;

/// The schema, one entry per version.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    invite_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    joined_at INTEGER NOT NULL,
    UNIQUE (team_id, name_key)
);
CREATE TABLE statuses (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    since TEXT NOT NULL,
    until TEXT,
    intent TEXT,
    updated_at INTEGER NOT NULL
);
CREATE TABLE pings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id INTEGER NOT NULL REFERENCES teams(id),
    from_id INTEGER NOT NULL REFERENCES members(id),
    to_id INTEGER NOT NULL REFERENCES members(id),
    text TEXT NOT NULL,
    urgent INTEGER NOT NULL,
    sent_at INTEGER NOT NULL
);
CREATE INDEX pings_to ON pings(to_id, id);
CREATE INDEX pings_budget ON pings(from_id, to_id, urgent, sent_at);
CREATE INDEX pings_sent_at ON pings(sent_at);
"#,
    r#"
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(16))));
"#,
];

/// The store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, Error> {
        let shown = path.display().to_string();
        let bad = |e: rusqlite::Error| Error::BadDatabase {
            path: shown.clone(),
            reason: match e.sqlite_error_code() {
                Some(ErrorCode::NotADatabase) => "it is not a SQLite database".into(),
                _ => e.to_string(),
            },
        };
        let conn = Connection::open(path).map_err(bad)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(bad)?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(Error::NewerSchema {
                path: shown,
                found: version,
                known,
            });
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(bad)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(bad)?;
        // WAL + NORMAL: a committed write survives a crash of this process (not power loss).
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(bad)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(bad)?;
        let mut store = SqliteStore { conn };
        store.migrate(version).map_err(|e| match e {
            Error::Store(e) => bad(e),
            other => other,
        })?;
        Ok(store)
    }

    fn migrate(&mut self, from: i64) -> Result<(), Error> {
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }
}

fn conflict_or(e: rusqlite::Error, message: String) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => Error::Conflict(message),
        _ => Error::Store(e),
    }
}

fn parse_time(raw: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn row_ping(row: &rusqlite::Row<'_>) -> rusqlite::Result<PingRecord> {
    Ok(PingRecord {
        id: row.get(0)?,
        from_name: row.get(1)?,
        to: row.get(2)?,
        text: row.get(3)?,
        urgent: row.get(4)?,
        sent_at: row.get(5)?,
    })
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Loaded, Error> {
        let mut loaded = Loaded::default();
        let mut stmt = self
            .conn
            .prepare("SELECT id, name FROM teams ORDER BY id")?;
        loaded.teams = stmt
            .query_map([], |r| {
                Ok(TeamRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = self
            .conn
            .prepare("SELECT id, team_id, name, token_hash FROM members ORDER BY id")?;
        loaded.members = stmt
            .query_map([], |r| {
                Ok(MemberRecord {
                    id: r.get(0)?,
                    team: r.get(1)?,
                    name: r.get(2)?,
                    token_hash: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = self
            .conn
            .prepare("SELECT member_id, seq, state, since, until, intent FROM statuses")?;
        loaded.statuses = stmt
            .query_map([], |r| {
                let state: String = r.get(2)?;
                let since: String = r.get(3)?;
                let until: Option<String> = r.get(4)?;
                Ok((
                    r.get(0)?,
                    ValidStatus {
                        seq: r.get(1)?,
                        state: if state == "focus" {
                            State::Focus
                        } else {
                            State::Coordination
                        },
                        since: parse_time(&since)?,
                        until: until.as_deref().map(parse_time).transpose()?,
                        intent: r.get(5)?,
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        Ok(loaded)
    }

    fn create_team(&mut self, name: &str, invite_hash: &[u8; 32]) -> Result<TeamRecord, Error> {
        self.conn
            .execute(
                "INSERT INTO teams (name, name_key, invite_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, name_key(name), invite_hash, Utc::now().timestamp()],
            )
            .map_err(|e| conflict_or(e, format!("a team named \"{name}\" exists already")))?;
        Ok(TeamRecord {
            id: self.conn.last_insert_rowid(),
            name: name.to_string(),
        })
    }

    fn replace_invite(&mut self, name: &str, invite_hash: &[u8; 32]) -> Result<TeamRecord, Error> {
        self.conn
            .query_row(
                "UPDATE teams SET invite_hash = ?1 WHERE name_key = ?2 RETURNING id, name",
                params![invite_hash, name_key(name)],
                |r| {
                    Ok(TeamRecord {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("there is no team named \"{name}\"")))
    }

    fn list_teams(&mut self) -> Result<Vec<(TeamRecord, u64)>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT t.id, t.name, (SELECT COUNT(*) FROM members m WHERE m.team_id = t.id) \
             FROM teams t ORDER BY t.name_key",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    TeamRecord {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    },
                    r.get(2)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn team_by_invite(&mut self, invite_hash: &[u8; 32]) -> Result<Option<TeamRecord>, Error> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, name FROM teams WHERE invite_hash = ?1",
                [invite_hash],
                |r| {
                    Ok(TeamRecord {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    fn add_member(
        &mut self,
        team: i64,
        name: &str,
        token_hash: &[u8; 32],
        now: i64,
    ) -> Result<MemberRecord, Error> {
        self.conn
            .execute(
                "INSERT INTO members (team_id, name, name_key, token_hash, joined_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![team, name, name_key(name), token_hash, now],
            )
            .map_err(|e| conflict_or(e, format!("the name \"{name}\" is taken in this team")))?;
        Ok(MemberRecord {
            id: self.conn.last_insert_rowid(),
            team,
            name: name.to_string(),
            token_hash: *token_hash,
        })
    }

    fn put_status(&mut self, member: i64, s: &ValidStatus, now: i64) -> Result<bool, Error> {
        let changed = self.conn.execute(
            "INSERT INTO statuses (member_id, seq, state, since, until, intent, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (member_id) DO UPDATE SET seq = excluded.seq, state = excluded.state, \
             since = excluded.since, until = excluded.until, intent = excluded.intent, \
             updated_at = excluded.updated_at WHERE excluded.seq > statuses.seq",
            params![
                member,
                s.seq,
                s.state.as_str(),
                crate::validate::rfc3339(s.since),
                s.until.map(crate::validate::rfc3339),
                s.intent,
                now
            ],
        )?;
        Ok(changed > 0)
    }

    fn add_ping(&mut self, ping: &NewPing<'_>) -> Result<PingRecord, Error> {
        let tx = self.conn.transaction()?;
        let day_start = ping.sent_at - ping.sent_at.rem_euclid(86_400);
        let used: i64 = tx.query_row(
            "SELECT COUNT(*) FROM pings WHERE from_id = ?1 AND to_id = ?2 AND urgent = 1 \
             AND sent_at >= ?3",
            params![ping.from, ping.to, day_start],
            |r| r.get(0),
        )?;
        let urgent = ping.urgent && used < i64::from(ping.urgent_budget);
        tx.execute(
            "INSERT INTO pings (team_id, from_id, to_id, text, urgent, sent_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                ping.team,
                ping.from,
                ping.to,
                ping.text,
                urgent,
                ping.sent_at
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(PingRecord {
            id,
            from_name: ping.from_name.to_string(),
            to: ping.to,
            text: ping.text.to_string(),
            urgent,
            sent_at: ping.sent_at,
        })
    }

    fn pings_for(&mut self, member: i64, after: i64, since: i64) -> Result<Vec<PingRecord>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, m.name, p.to_id, p.text, p.urgent, p.sent_at FROM pings p \
             JOIN members m ON m.id = p.from_id \
             WHERE p.to_id = ?1 AND p.id > ?2 AND p.sent_at >= ?3 ORDER BY p.id",
        )?;
        let rows = stmt
            .query_map(params![member, after, since], row_ping)?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn instance(&mut self) -> Result<String, Error> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'instance'", [], |r| {
                r.get(0)
            })?)
    }

    fn prune_pings(&mut self, before: i64) -> Result<usize, Error> {
        Ok(self
            .conn
            .execute("DELETE FROM pings WHERE sent_at < ?1", [before])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::rfc3339;

    #[test]
    fn a_story() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Internal(e.to_string()))?;
        let path = dir.path().join("sync.db");
        let mut store = SqliteStore::open(&path)?;
        let instance = store.instance()?;
        assert_eq!(instance.len(), 32);
        let other = SqliteStore::open(&dir.path().join("other.db"))?.instance()?;
        assert_ne!(instance, other, "a new database gets a new instance id");
        let team = store.create_team("Core", &[1; 32])?;
        assert!(matches!(
            store.create_team("core", &[2; 32]),
            Err(Error::Conflict(_))
        ));
        let ana = store.add_member(team.id, "Ana", &[3; 32], 0)?;
        let bo = store.add_member(team.id, "Bo", &[4; 32], 0)?;
        assert!(matches!(
            store.add_member(team.id, "ANA", &[5; 32], 0),
            Err(Error::Conflict(_))
        ));
        let status = ValidStatus {
            seq: 5,
            state: State::Focus,
            since: Utc::now(),
            until: None,
            intent: Some("parser".into()),
        };
        assert!(store.put_status(ana.id, &status, 0)?);
        assert!(!store.put_status(
            ana.id,
            &ValidStatus {
                seq: 4,
                ..status.clone()
            },
            0
        )?);
        let now = Utc::now().timestamp();
        let ping = NewPing {
            team: team.id,
            from: bo.id,
            from_name: "Bo",
            to: ana.id,
            text: "hi",
            urgent: true,
            sent_at: now,
            urgent_budget: 1,
        };
        assert!(store.add_ping(&ping)?.urgent);
        assert!(!store.add_ping(&ping)?.urgent);
        drop(store);
        let mut store = SqliteStore::open(&path)?;
        assert_eq!(
            store.instance()?,
            instance,
            "a reopened database keeps its instance id"
        );
        let loaded = store.load()?;
        assert_eq!(loaded.members.len(), 2);
        assert_eq!(loaded.statuses[0].1.seq, 5);
        assert_eq!(rfc3339(loaded.statuses[0].1.since), rfc3339(status.since));
        assert_eq!(store.pings_for(ana.id, 0, 0)?.len(), 2);
        assert_eq!(store.prune_pings(now + 1)?, 2);
        Ok(())
    }

    #[test]
    fn refuses_garbage_and_newer_schemas() -> Result<(), Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Internal(e.to_string()))?;
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, vec![b'x'; 4096]).map_err(|e| Error::Internal(e.to_string()))?;
        assert!(matches!(
            SqliteStore::open(&garbage),
            Err(Error::BadDatabase { .. })
        ));
        assert_eq!(
            std::fs::read(&garbage).map_err(|e| Error::Internal(e.to_string()))?,
            vec![b'x'; 4096]
        );
        let newer = dir.path().join("newer.db");
        Connection::open(&newer)?.pragma_update(None, "user_version", 99)?;
        assert!(matches!(
            SqliteStore::open(&newer),
            Err(Error::NewerSchema { found: 99, .. })
        ));
        Ok(())
    }
}

//! The SQLite [`Store`]: one connection, WAL, versioned atomic migrations.
//!
//! The migrations (SQL, and a Rust step for what SQL cannot compute) are run by
//! `rusqlite_migration` on `PRAGMA user_version`, the runner the app's store uses too: those a
//! file lacks run in one transaction together with the version bump. A file that is not a
//! database, one of another program, or one from a newer weft-sync, is refused with a clear
//! error and never written to.

use super::{Loaded, MemberRecord, NewPing, PingRecord, Store, TeamRecord};
use crate::error::Error;
use crate::names::skeleton;
use crate::validate::{name_key, ValidStatus};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Transaction};
use rusqlite_migration::{HookResult, Migrations, M};
use std::path::Path;
use weft_proto::State;

/// The schema, one SQL batch per version; version 3 runs [`rekey_names`] after its SQL, for
/// what SQL cannot compute (Unicode name keys). Append only; never edit.
const MIGRATIONS: [&str; 3] = [
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
    // Version 3, followed by `rekey_names`: every key is cleared first, so no old key
    // clashes with a new one while they are computed.
    "ALTER TABLE members ADD COLUMN name_skeleton TEXT NOT NULL DEFAULT '';
     UPDATE members SET name_key = 'v3:' || id;
     UPDATE teams SET name_key = 'v3:' || id;",
];

/// The schema version this build writes.
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn migrations() -> Migrations<'static> {
    let [v1, v2, v3] = MIGRATIONS;
    Migrations::new(vec![M::up(v1), M::up(v2), M::up_with_hook(v3, rekey_names)])
}

/// Version 3, after its SQL: names are keyed by NFKC + case folding (they were lower-cased)
/// and members get the skeleton they are told apart by (see [`crate::names`]). Names are
/// stored in NFC. Two names that now share a key or skeleton (one typed in NFC, one in NFD,
/// say) both stay, the later one shown with " (2)" after it, so each is still a member one
/// can ping.
fn rekey_names(tx: &Transaction<'_>) -> HookResult {
    let teams: Vec<(i64, String)> = tx
        .prepare("SELECT id, name FROM teams ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut taken = std::collections::HashSet::new();
    for (id, name) in teams {
        let name = distinct(&name, |n| !taken.contains(&name_key(n)));
        taken.insert(name_key(&name));
        tx.execute(
            "UPDATE teams SET name = ?1, name_key = ?2 WHERE id = ?3",
            params![name, name_key(&name), id],
        )?;
    }
    let members: Vec<(i64, i64, String)> = tx
        .prepare("SELECT id, team_id, name FROM members ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut taken = std::collections::HashSet::new();
    for (id, team, name) in members {
        let name = distinct(&name, |n| {
            !taken.contains(&(team, name_key(n))) && !taken.contains(&(team, skeleton(n)))
        });
        taken.insert((team, name_key(&name)));
        taken.insert((team, skeleton(&name)));
        tx.execute(
            "UPDATE members SET name = ?1, name_key = ?2, name_skeleton = ?3 WHERE id = ?4",
            params![name, name_key(&name), skeleton(&name), id],
        )?;
    }
    tx.execute_batch("CREATE INDEX members_skeleton ON members(team_id, name_skeleton);")?;
    Ok(())
}

/// `name` in NFC, or "name (2)", "name (3)"… : the first that `free` accepts.
fn distinct(name: &str, free: impl Fn(&str) -> bool) -> String {
    let shown = crate::names::display(name);
    if free(&shown) {
        return shown;
    }
    let renamed = (2..)
        .map(|n| format!("{shown} ({n})"))
        .find(|candidate| free(candidate))
        .unwrap_or_default();
    log::warn!("the name {shown:?} looks like another in its team; it is now {renamed:?}");
    renamed
}

/// The store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    /// `PRAGMA data_version` when last looked at: it changes when another connection commits.
    data_version: i64,
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
        let mut conn = Connection::open(path).map_err(bad)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(bad)?;
        if version < 0 {
            return Err(Error::BadDatabase {
                path: shown,
                reason: format!("its schema version ({version}) is not one weft-sync writes"),
            });
        }
        if version == 0 {
            let tables: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
                    [],
                    |r| r.get(0),
                )
                .map_err(bad)?;
            if tables > 0 {
                return Err(Error::ForeignDatabase { path: shown });
            }
        }
        if version > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                path: shown,
                found: version,
                known: SCHEMA_VERSION,
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
        migrations().to_latest(&mut conn).map_err(|e| match e {
            rusqlite_migration::Error::RusqliteError { err, .. } => bad(err),
            // The runner's own refusals cannot happen: the migrations are defined and the
            // version was checked above.
            other => Error::BadDatabase {
                path: shown.clone(),
                reason: other.to_string(),
            },
        })?;
        let mut store = SqliteStore {
            conn,
            data_version: 0,
        };
        store.data_version = store.read_data_version().map_err(bad)?;
        Ok(store)
    }

    fn read_data_version(&self) -> rusqlite::Result<i64> {
        self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))
    }
}

fn conflict_or(e: rusqlite::Error, message: String) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => Error::Conflict(message),
        _ => Error::Store(e),
    }
}

/// A foreign key that points nowhere: the member was removed meanwhile (by the admin CLI).
fn gone_or(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => {
            Error::NotFound("this member is no longer in the team".into())
        }
        _ => Error::Store(e),
    }
}

fn parse_time(raw: &str) -> rusqlite::Result<DateTime<Utc>> {
    weft_proto::time::parse(raw).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn row_team(row: &rusqlite::Row<'_>) -> rusqlite::Result<TeamRecord> {
    Ok(TeamRecord {
        id: row.get(0)?,
        name: row.get(1)?,
    })
}

fn row_member(row: &rusqlite::Row<'_>) -> rusqlite::Result<MemberRecord> {
    Ok(MemberRecord {
        id: row.get(0)?,
        team: row.get(1)?,
        name: row.get(2)?,
        token_hash: row.get(3)?,
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
        loaded.teams = stmt.query_map([], row_team)?.collect::<Result<_, _>>()?;
        let mut stmt = self
            .conn
            .prepare("SELECT id, team_id, name, token_hash FROM members ORDER BY id")?;
        loaded.members = stmt.query_map([], row_member)?.collect::<Result<_, _>>()?;
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
                        state: state.parse::<State>().map_err(|e| {
                            rusqlite::Error::FromSqlConversionFailure(
                                2,
                                rusqlite::types::Type::Text,
                                Box::new(e),
                            )
                        })?,
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
                row_team,
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
            .query_map([], |r| Ok((row_team(r)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn team_by_invite(&mut self, invite_hash: &[u8; 32]) -> Result<Option<TeamRecord>, Error> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, name FROM teams WHERE invite_hash = ?1",
                [invite_hash],
                row_team,
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
        let (key, looks) = (name_key(name), skeleton(name));
        let tx = self.conn.transaction()?;
        let like: Option<String> = tx
            .query_row(
                "SELECT name FROM members WHERE team_id = ?1 AND (name_key = ?2 OR name_skeleton = ?3) \
                 ORDER BY name_key = ?2 DESC LIMIT 1",
                params![team, key, looks],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(like) = like {
            return Err(Error::Conflict(if name_key(&like) == key {
                format!("the name \"{name}\" is taken in this team")
            } else {
                format!(
                    "the name \"{name}\" looks the same as \"{like}\", who is in this team already; choose another"
                )
            }));
        }
        tx.execute(
            "INSERT INTO members (team_id, name, name_key, name_skeleton, token_hash, joined_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![team, name, key, looks, token_hash, now],
        )
        .map_err(|e| conflict_or(e, format!("the name \"{name}\" is taken in this team")))?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(MemberRecord {
            id,
            team,
            name: name.to_string(),
            token_hash: *token_hash,
        })
    }

    fn member_named(&mut self, team: &str, name: &str) -> Result<Option<MemberRecord>, Error> {
        Ok(self
            .conn
            .query_row(
                "SELECT m.id, m.team_id, m.name, m.token_hash FROM members m \
                 JOIN teams t ON t.id = m.team_id WHERE t.name_key = ?1 AND m.name_key = ?2",
                params![name_key(team), name_key(name)],
                row_member,
            )
            .optional()?)
    }

    fn remove_member(&mut self, member: i64) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM pings WHERE from_id = ?1 OR to_id = ?1",
            [member],
        )?;
        tx.execute("DELETE FROM statuses WHERE member_id = ?1", [member])?;
        let removed = tx.execute("DELETE FROM members WHERE id = ?1", [member])?;
        if removed == 0 {
            return Err(Error::NotFound("this member no longer exists".into()));
        }
        tx.commit()?;
        Ok(())
    }

    fn member_ids(&mut self) -> Result<Vec<i64>, Error> {
        let mut stmt = self.conn.prepare("SELECT id FROM members")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    fn changed_elsewhere(&mut self) -> Result<bool, Error> {
        let now = self.read_data_version()?;
        let changed = now != self.data_version;
        self.data_version = now;
        Ok(changed)
    }

    fn put_status(&mut self, member: i64, s: &ValidStatus, now: i64) -> Result<bool, Error> {
        let changed = self
            .conn
            .prepare_cached(
                "INSERT INTO statuses (member_id, seq, state, since, until, intent, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (member_id) DO UPDATE SET seq = excluded.seq, state = excluded.state, \
             since = excluded.since, until = excluded.until, intent = excluded.intent, \
             updated_at = excluded.updated_at WHERE excluded.seq > statuses.seq",
            )
            .and_then(|mut insert| {
                insert.execute(params![
                    member,
                    s.seq,
                    s.state.as_str(),
                    weft_proto::time::format(s.since),
                    s.until.map(weft_proto::time::format),
                    s.intent,
                    now
                ])
            })
            .map_err(gone_or)?;
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
        )
        .map_err(gone_or)?;
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
mod tests;

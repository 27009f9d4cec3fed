//! The SQLite store's story test and its refusals of files that are not its own.

use super::*;

type R = Result<(), Box<dyn std::error::Error>>;

#[test]
fn a_story() -> R {
    let dir = tempfile::tempdir()?;
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
    assert_eq!(
        weft_proto::time::format(loaded.statuses[0].1.since),
        weft_proto::time::format(status.since)
    );
    assert_eq!(store.pings_for(ana.id, 0, 0)?.len(), 2);
    assert_eq!(store.prune_pings(now + 1)?, 2);
    Ok(())
}

#[test]
fn refuses_garbage_and_newer_schemas() -> R {
    let dir = tempfile::tempdir()?;
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![b'x'; 4096])?;
    assert!(matches!(
        SqliteStore::open(&garbage),
        Err(Error::BadDatabase { .. })
    ));
    assert_eq!(std::fs::read(&garbage)?, vec![b'x'; 4096]);
    let newer = dir.path().join("newer.db");
    Connection::open(&newer)?.pragma_update(None, "user_version", 99)?;
    assert!(matches!(
        SqliteStore::open(&newer),
        Err(Error::NewerSchema { found: 99, .. })
    ));
    Ok(())
}

#[test]
fn refuses_negative_versions_and_other_programs_databases() -> R {
    let dir = tempfile::tempdir()?;
    let negative = dir.path().join("negative.db");
    Connection::open(&negative)?.pragma_update(None, "user_version", -3)?;
    assert!(matches!(
        SqliteStore::open(&negative),
        Err(Error::BadDatabase { .. })
    ));
    assert_eq!(
        Connection::open(&negative)?
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?,
        -3
    );

    let foreign = dir.path().join("notes.db");
    Connection::open(&foreign)?.execute_batch("CREATE TABLE notes (body TEXT);")?;
    match SqliteStore::open(&foreign) {
        Err(e @ Error::ForeignDatabase { .. }) => {
            assert!(e.to_string().contains("another program"), "{e}")
        }
        other => panic!("a foreign database was opened: {other:?}"),
    }
    let tables: Vec<String> = Connection::open(&foreign)?
        .prepare("SELECT name FROM sqlite_master ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    assert_eq!(tables, ["notes"], "no weft-sync tables were added");
    Ok(())
}

#[test]
fn removing_a_member_frees_its_name_and_is_seen_elsewhere() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("sync.db");
    let mut server = SqliteStore::open(&path)?;
    let team = server.create_team("Core", &[1; 32])?;
    let ana = server.add_member(team.id, "Ana", &[3; 32], 0)?;
    let bo = server.add_member(team.id, "Bo", &[4; 32], 0)?;
    let ping = |from: i64, to: i64| NewPing {
        team: team.id,
        from,
        from_name: "x",
        to,
        text: "hi",
        urgent: false,
        sent_at: 10,
        urgent_budget: 0,
    };
    server.add_ping(&ping(ana.id, bo.id))?;
    server.add_ping(&ping(bo.id, ana.id))?;
    assert!(!server.changed_elsewhere()?);

    let mut admin = SqliteStore::open(&path)?;
    let found = admin.member_named("CORE", " ana ")?;
    assert_eq!(found.as_ref().map(|m| m.id), Some(ana.id));
    admin.remove_member(ana.id)?;
    assert!(matches!(
        admin.remove_member(ana.id),
        Err(Error::NotFound(_))
    ));

    assert!(server.changed_elsewhere()?);
    assert!(!server.changed_elsewhere()?);
    assert_eq!(server.member_ids()?, [bo.id]);
    assert!(server.pings_for(bo.id, 0, 0)?.is_empty());
    assert!(matches!(
        server.put_status(
            ana.id,
            &ValidStatus {
                seq: 1,
                state: State::Focus,
                since: Utc::now(),
                until: None,
                intent: None,
            },
            0
        ),
        Err(Error::NotFound(_))
    ));
    let again = server.add_member(team.id, "ANA", &[5; 32], 0)?;
    assert_ne!(again.id, ana.id, "ids are not reused");
    Ok(())
}

/// A version 2 database (names keyed by lower case), with rows written as weft-sync 2 wrote
/// them.
fn version_2(path: &Path, members: &[(&str, &str)]) -> Result<(), Error> {
    let conn = Connection::open(path)?;
    for sql in &MIGRATIONS[..2] {
        conn.execute_batch(sql)?;
    }
    conn.pragma_update(None, "user_version", 2)?;
    conn.execute(
        "INSERT INTO teams (name, name_key, invite_hash, created_at) VALUES ('Core', 'core', x'01', 0)",
        [],
    )?;
    for (n, (name, old_key)) in members.iter().enumerate() {
        conn.execute(
            "INSERT INTO members (team_id, name, name_key, token_hash, joined_at) VALUES (1, ?1, ?2, ?3, 0)",
            params![name, old_key, vec![n as u8; 32]],
        )?;
    }
    Ok(())
}

#[test]
fn names_are_rekeyed_and_look_alikes_told_apart_by_the_migration() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("v2.db");
    // The bug: one name in NFC and in NFD joined as two members.
    version_2(
        &path,
        &[
            ("Jos\u{E9}", "jos\u{E9}"),
            ("Jose\u{301}", "jose\u{301}"),
            ("Ana", "ana"),
            ("Bo", "bo"),
        ],
    )?;
    let mut store = SqliteStore::open(&path)?;
    let names: Vec<String> = store.load()?.members.into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["José", "José (2)", "Ana", "Bo"]);
    assert_eq!(
        store.member_named("CORE", "JOSE\u{301}")?.map(|m| m.id),
        Some(1)
    );
    assert_eq!(
        store.member_named("core", "josé (2)")?.map(|m| m.id),
        Some(2)
    );
    // New joins are told apart by key and by skeleton.
    for taken in ["jos\u{E9}", "Jose\u{301}", "\u{410}na", "ＢＯ"] {
        assert!(
            matches!(
                store.add_member(1, taken, &[9; 32], 0),
                Err(Error::Conflict(_))
            ),
            "{taken}"
        );
    }
    match store.add_member(1, "\u{410}na", &[9; 32], 0) {
        Err(Error::Conflict(m)) => assert!(m.contains("looks the same as \"Ana\""), "{m}"),
        other => panic!("not refused: {other:?}"),
    }
    assert!(store.add_member(1, "Cy", &[9; 32], 0).is_ok());
    let version: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))?;
    assert_eq!(version, SCHEMA_VERSION);
    Ok(())
}

#[test]
fn a_migration_that_fails_changes_nothing() -> R {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("v2.db");
    version_2(&path, &[("Jose\u{301}", "jose\u{301}")])?;
    // A column in the way makes version 3's first statement fail.
    Connection::open(&path)?.execute_batch("ALTER TABLE members ADD COLUMN name_skeleton TEXT")?;
    assert!(matches!(
        SqliteStore::open(&path),
        Err(Error::BadDatabase { .. })
    ));
    let conn = Connection::open(&path)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let key: String = conn.query_row("SELECT name_key FROM members", [], |r| r.get(0))?;
    assert_eq!((version, key.as_str()), (2, "jose\u{301}"));
    Ok(())
}

/// A database's schema and version, as text to compare.
fn schema(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut rows: Vec<String> = conn
        .prepare("SELECT type || ' ' || name || ': ' || ifnull(sql, '') FROM sqlite_master ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    rows.push(format!(
        "version {}",
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?
    ));
    Ok(rows)
}

#[test]
fn a_file_made_by_each_old_version_opens_as_a_new_one() -> R {
    let dir = tempfile::tempdir()?;
    drop(SqliteStore::open(&dir.path().join("new.db"))?);
    let expected = schema(&Connection::open(dir.path().join("new.db"))?)?;
    for old in 0..SCHEMA_VERSION {
        // The SQL weft-sync of that version ran (versions 1 and 2 are SQL only), so the file
        // it left, with a team once there is a table for one.
        let path = dir.path().join(format!("v{old}.db"));
        let mut conn = Connection::open(&path)?;
        migrations().to_version(&mut conn, old as usize)?;
        if old >= 1 {
            conn.execute(
                "INSERT INTO teams (name, name_key, invite_hash, created_at) VALUES ('Core', 'core', x'01', 0)",
                [],
            )?;
        }
        drop(conn);
        let mut store = SqliteStore::open(&path)?;
        let teams: Vec<String> = store.load()?.teams.into_iter().map(|t| t.name).collect();
        assert_eq!(teams.len(), usize::from(old >= 1), "from version {old}");
        assert_eq!(store.instance()?.len(), 32, "from version {old}");
        drop(store);
        assert_eq!(
            schema(&Connection::open(&path)?)?,
            expected,
            "from version {old}"
        );
    }
    Ok(())
}

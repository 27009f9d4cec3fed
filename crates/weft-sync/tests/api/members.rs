//! Leaving a team: a member removes itself over HTTP, an admin removes one with the CLI.

use crate::support::*;
use weft_proto::sync::*;
use weft_sync::testing::TestServer;
use weft_sync_client::Error;

#[test]
fn a_member_leaves_and_its_name_token_and_streams_go() -> R {
    let server = TestServer::start(config())?;
    let (code, team, (ana, ana_j), (bo, bo_j)) = core(&server)?;
    let other = invite(&server, "Other")?;
    let (eve, _) = join(&server.url, &other, "Eve")?;
    let ana_id = ana_j.member_id;

    let bo_stream = Stream::open(&bo, team, 0)?;
    bo_stream.until("snapshot", |_| true)?;
    let ana_streams = [Stream::open(&ana, team, 0)?, Stream::open(&ana, team, 0)?];
    for stream in &ana_streams {
        stream.until("snapshot", |_| true)?;
    }
    let ping = |text: &str| PingRequest {
        to: "ana".into(),
        text: text.into(),
        urgent: false,
    };
    bo.ping(team, &ping("before"))?;

    assert_eq!(refused(bo.leave(team, ana_id)), (403, "forbidden".into()));
    assert_eq!(refused(eve.leave(team, ana_id)), (403, "forbidden".into()));
    assert_eq!(
        refused(ana.leave(team, bo_j.member_id)),
        (403, "forbidden".into())
    );
    ana.leave(team, ana_id)?;

    bo_stream.until(
        "Ana left",
        |e| matches!(e, SyncEvent::Left { id, name } if *id == ana_id && name == "Ana"),
    )?;
    for stream in &ana_streams {
        let seen = stream.until(
            "its own leaving",
            |e| matches!(e, SyncEvent::Left { id, .. } if *id == ana_id),
        )?;
        assert!(!seen.is_empty());
        assert!(stream.ends(), "a member's streams end when it leaves");
    }
    assert!(matches!(
        ana.team(team),
        Err(Error::Refused { status: 401, .. })
    ));
    assert_eq!(
        refused(ana.leave(team, ana_id)),
        (401, "unauthorized".into())
    );
    let view = bo.team(team)?;
    assert!(view.members.iter().all(|m| m.id != ana_id), "{view:?}");
    assert!(matches!(
        bo.ping(team, &ping("after")),
        Err(Error::Refused { status: 404, .. })
    ));

    // The name is free again, for a new member that gets none of the old one's pings.
    let (new_ana, new_j) = join(&server.url, &code, "ANA")?;
    assert_ne!(new_j.member_id, ana_id);
    let stream = Stream::open(&new_ana, team, 0)?;
    let sent = bo.ping(team, &ping("welcome"))?;
    let seen = stream.until("the new ping", |e| matches!(e, SyncEvent::Ping(_)))?;
    assert!(
        matches!(seen.last(), Some(SyncEvent::Ping(p)) if p.id == sent.id && p.text == "welcome"),
        "the old member's ping was deleted with it: {seen:?}"
    );
    Ok(())
}

#[test]
fn a_member_removed_from_the_store_is_noticed_by_the_running_server() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("sync.db");
    let server = TestServer::start_on(
        &db,
        weft_sync::Config {
            reconcile_every: std::time::Duration::from_millis(100),
            ..config()
        },
    )?;
    let (_, team, (ana, ana_j), (bo, _)) = core(&server)?;
    let bo_stream = Stream::open(&bo, team, 0)?;
    let ana_stream = Stream::open(&ana, team, 0)?;
    bo_stream.until("Ana online", member_is(ana_j.member_id, |m| m.online))?;

    // What `weft-sync team remove-member` does, on the store behind the server's back (the
    // binary test runs the real command against a real file).
    let mut store = weft_sync::store::sqlite::SqliteStore::open(&db)?;
    let removed = weft_sync::admin::remove_member(&mut store, "core", "ana")?;
    assert_eq!(removed.id, ana_j.member_id);

    bo_stream.until(
        "Ana left",
        |e| matches!(e, SyncEvent::Left { id, .. } if *id == ana_j.member_id),
    )?;
    assert!(ana_stream.ends());
    assert!(matches!(
        ana.team(team),
        Err(Error::Refused { status: 401, .. })
    ));
    Ok(())
}

//! Names that look alike are one name: "José" typed in NFC or NFD, in capitals or full
//! width, is one member; invisible, bidi-control and mixed-script names are refused.

use crate::support::*;
use weft_proto::sync::*;
use weft_sync::testing::TestServer;
use weft_sync_client::{Client, Error};

fn refused(result: Result<Joined, Error>) -> (u16, String) {
    match result {
        Err(Error::Refused {
            status, message, ..
        }) => (status, message),
        other => (0, format!("not refused: {other:?}")),
    }
}

#[test]
fn a_name_typed_two_ways_is_one_member() -> R {
    let server = TestServer::start(config())?;
    let code = invite(&server, "Core")?;
    let client = Client::new(&server.url)?;
    // Typed with a combining accent (NFD): shown in NFC.
    let (jose, jose_j) = join(&server.url, &code, "Jose\u{301}")?;
    assert_eq!(jose_j.name, "Jos\u{E9}");
    for again in ["Jos\u{E9}", "JOSE\u{301}", "ｊｏｓé", " jos\u{E9} "] {
        let (status, message) = refused(client.join(&code, again));
        assert_eq!(status, 409, "{again:?}: {message}");
        assert!(message.contains("is taken"), "{message}");
    }
    let (ana, ana_j) = join(&server.url, &code, "ace")?;
    // All Cyrillic letters, so one script, but it looks exactly like "ace".
    let (status, message) = refused(client.join(&code, "\u{430}\u{441}\u{435}"));
    assert_eq!(status, 409, "{message}");
    assert!(message.contains("looks the same as \"ace\""), "{message}");

    // Pings find José however his name is typed.
    for to in ["Jos\u{E9}", "jose\u{301}", "ＪＯＳÉ"] {
        let sent = ana.ping(
            ana_j.team.id,
            &PingRequest {
                to: to.into(),
                text: "hi".into(),
                urgent: false,
            },
        )?;
        assert_eq!(sent.to, "Jos\u{E9}", "{to:?}");
    }
    let names: Vec<String> = jose
        .team(jose_j.team.id)?
        .members
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["ace", "Jos\u{E9}"]);
    Ok(())
}

#[test]
fn names_that_hide_or_mix_are_refused_with_a_reason() -> R {
    let server = TestServer::start(config())?;
    let code = invite(&server, "Core")?;
    let client = Client::new(&server.url)?;
    for (name, reason) in [
        ("Ana\u{200B}", "invisible"),
        ("An\u{AD}a", "invisible"),
        ("\u{2800}", "invisible"),
        ("Ana\u{2060}", "invisible"),
        ("\u{202E}anA", "bidirectional"),
        ("Ana\u{2066}", "bidirectional"),
        (
            "\u{410}na",
            "mixes letters of different scripts (Cyrillic, Latin)",
        ),
        ("Pаypal", "mixes letters"),
        ("--", "letter or a digit"),
    ] {
        let (status, message) = refused(client.join(&code, name));
        assert_eq!(status, 400, "{name:?}: {message}");
        assert!(message.contains(reason), "{name:?}: {message}");
    }
    for fine in ["Ана", "田中 Tanaka", "Mary-Jane O'Neil"] {
        client.join(&code, fine)?;
    }
    Ok(())
}

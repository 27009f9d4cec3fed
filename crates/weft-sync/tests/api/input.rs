//! Bad input gets a JSON error with a clear message.

use crate::support::*;
use chrono::Utc;
use weft_proto::sync::*;
use weft_sync::testing::TestServer;
use weft_sync_client::{Client, Error};

#[test]
fn bad_input_gets_a_json_error() -> R {
    let server = TestServer::start(config())?;
    let code = invite(&server, "Core")?;
    let (ana, ana_j) = join(&server.url, &code, "Ana")?;
    let team = ana_j.team.id;
    let path = format!("/v1/teams/{team}/members/{}/status", ana_j.member_id);
    let now = rfc(Utc::now());
    let json_error = |(status, body): (u16, String)| -> (u16, String) {
        let parsed: Result<ApiError, _> = serde_json::from_str(&body);
        match parsed {
            Ok(e) => (status, format!("{}: {}", e.error, e.message)),
            Err(_) => (0, format!("not an ApiError: {status} {body}")),
        }
    };
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{not json".to_vec(), 400, "not valid JSON"),
        (
            b"{\"seq\":1,\"state\":\"focus\",\"since\":\"\xff\xfe\"}".to_vec(),
            400,
            "not valid JSON",
        ),
        (
            format!(r#"{{"seq":1,"state":"focus","since":"{now}","mood":"grumpy"}}"#).into_bytes(),
            400,
            "mood",
        ),
        (
            format!(r#"{{"seq":"one","state":"focus","since":"{now}"}}"#).into_bytes(),
            400,
            "invalid type",
        ),
        (
            format!(r#"{{"seq":-1,"state":"focus","since":"{now}"}}"#).into_bytes(),
            400,
            "seq",
        ),
        (
            format!(r#"{{"seq":0,"state":"focus","since":"{now}"}}"#).into_bytes(),
            400,
            "seq",
        ),
        (
            format!(r#"{{"seq":{},"state":"focus","since":"{now}"}}"#, u64::MAX).into_bytes(),
            400,
            "seq",
        ),
        (
            format!(r#"{{"seq":1,"state":"sleep","since":"{now}"}}"#).into_bytes(),
            400,
            "sleep",
        ),
        (
            br#"{"seq":1,"state":"focus","since":"1969-12-31T23:59:59Z"}"#.to_vec(),
            400,
            "since",
        ),
        (
            br#"{"seq":1,"state":"focus","since":"-2000-01-01T00:00:00Z"}"#.to_vec(),
            400,
            "since",
        ),
        (
            br#"{"seq":1,"state":"focus","since":"9999-12-31T00:00:00Z"}"#.to_vec(),
            400,
            "since",
        ),
        (
            br#"{"seq":1,"state":"focus","since":"tomorrow"}"#.to_vec(),
            400,
            "since",
        ),
        (
            format!(
                r#"{{"seq":1,"state":"focus","since":"{now}","until":"2001-01-01T00:00:00Z"}}"#
            )
            .into_bytes(),
            400,
            "until",
        ),
        (
            format!(
                r#"{{"seq":1,"state":"focus","since":"{now}","until":"9999-01-01T00:00:00Z"}}"#
            )
            .into_bytes(),
            400,
            "until",
        ),
        (
            format!(
                r#"{{"seq":1,"state":"focus","since":"{now}","intent":"{}"}}"#,
                "x".repeat(201)
            )
            .into_bytes(),
            400,
            "intent",
        ),
        (
            format!(r#"{{"seq":1,"state":"focus","since":"{now}","intent":"a\u001b]0;x\u0007"}}"#)
                .into_bytes(),
            400,
            "intent must not contain control characters",
        ),
        (vec![b' '; MAX_BODY_BYTES + 1], 413, "too_large"),
    ];
    for (body, status, needle) in cases {
        let (got, message) = json_error(ana.raw("PUT", &path, &body)?);
        assert_eq!(got, status, "{message}");
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    }
    assert_eq!(ana.team(team)?.members[0].seq, 0, "nothing was stored");
    let (status, message) = json_error(ana.raw("GET", "/v1/nowhere", b"")?);
    assert_eq!(
        (status, message.starts_with("not_found")),
        (404, true),
        "{message}"
    );
    let (status, message) = json_error(ana.raw("DELETE", "/v1/join", b"")?);
    assert_eq!(status, 405, "{message}");
    let anonymous = Client::new(&server.url)?;
    for (name, expected) in [
        ("", 400),
        ("a\u{1b}[31m", 400),
        (&*"n".repeat(MAX_NAME_CHARS + 1), 400),
    ] {
        assert!(
            matches!(anonymous.join(&code, name), Err(Error::Refused { status, .. }) if status == expected)
        );
    }
    let (status, _) = json_error(anonymous.raw(
        "POST",
        "/v1/join",
        br#"{"invite":"x","name":"y","admin":true}"#,
    )?);
    assert_eq!(status, 400);
    assert_eq!(anonymous.health()?.status, "ok");

    // Ping texts: line feeds and tabs are fine, other control characters are not.
    let (bo, _) = join(&server.url, &code, "Bo")?;
    let pings = format!("/v1/teams/{team}/pings");
    for (text, expected) in [
        (r#"line\n\tindented"#, 201),
        (r#"\u001b[2J\u001b[Hyou were hacked"#, 400),
        (r#"carriage\rreturn"#, 400),
        (r#"bell\u0007"#, 400),
        (r#"csi\u009b31m"#, 400),
    ] {
        let body = format!(r#"{{"to":"Ana","text":"{text}"}}"#);
        let (status, answer) = bo.raw("POST", &pings, body.as_bytes())?;
        assert_eq!(status, expected, "{text}: {answer}");
        if expected == 400 {
            assert!(answer.contains("text must not contain control"), "{answer}");
        }
    }
    Ok(())
}

#[test]
fn joins_are_rate_limited_per_address() -> R {
    let server = TestServer::start(weft_sync::Config {
        join_rate_per_second: 1,
        ..config()
    })?;
    let code = invite(&server, "Core")?;
    let anonymous = Client::new(&server.url)?;
    // Wrong codes count too: guessing is what the limit is for. The burst is twice the rate.
    for _ in 0..2 {
        assert!(matches!(
            anonymous.join("wfi_guess", "Ana"),
            Err(Error::Refused { status: 403, .. })
        ));
    }
    let (status, body) = anonymous.raw(
        "POST",
        "/v1/join",
        format!(r#"{{"invite":"{code}","name":"Ana"}}"#).as_bytes(),
    )?;
    assert_eq!(status, 429, "{body}");
    let error: ApiError = serde_json::from_str(&body)?;
    assert_eq!(error.error, "rate_limited");
    assert!(matches!(
        anonymous.join(&code, "Ana"),
        Err(Error::RateLimited { retry_after: 1 })
    ));
    Ok(())
}
